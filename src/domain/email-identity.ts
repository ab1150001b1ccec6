/**
 * Whose allowance an email draws on. Mail providers deliver `ann+anything@example.com` to
 * `ann@example.com`, so per-email limits (rate limits, seat caps, seat windows) count sub-addresses
 * as the address they reach; otherwise `+1`, `+2`… would each get a fresh allowance. The address a
 * booking is made for, and its duplicate check, keep the email exactly as given.
 */
export function limitIdentityOf(email: string): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf("@");
  if (at <= 0) return address;
  const local = address.slice(0, at);
  const plus = local.indexOf("+");
  return plus > 0 ? `${local.slice(0, plus)}${address.slice(at)}` : address;
}
