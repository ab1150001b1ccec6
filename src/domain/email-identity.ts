/**
 * Whose allowance an email draws on. Mail providers deliver `ann+anything@example.com` to
 * `ann@example.com`, and Gmail also ignores dots (`a.n.n@gmail.com`) and answers to
 * `googlemail.com`, so per-email limits (rate limits, sign-in links, seat caps, seat windows) count
 * those variants as the address they reach; otherwise `+1`, `+2`… or `a.nn`, `an.n`… would each
 * get a fresh allowance. The address a booking is made for, and its duplicate check, keep the
 * email exactly as given.
 */
const DOTLESS_DOMAINS: Record<string, string> = { "gmail.com": "gmail.com", "googlemail.com": "gmail.com" };

export function limitIdentityOf(email: string): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf("@");
  if (at <= 0) return address;
  let local = address.slice(0, at);
  let domain = address.slice(at + 1);
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  const dotless = DOTLESS_DOMAINS[domain];
  if (dotless) {
    local = local.replaceAll(".", "") || local;
    domain = dotless;
  }
  return `${local}@${domain}`;
}
