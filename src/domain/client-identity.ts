/**
 * Whose allowance a client address draws on. An IPv4 address is one client; an IPv6 client is
 * usually handed a whole /64 (2^64 addresses), so per-client limits count the /64, otherwise one
 * machine would get a fresh allowance for every address it picks. Pure.
 */
export function clientKeyOf(address: string | undefined): string {
  const value = address?.trim().toLowerCase();
  if (!value) return "unknown";
  if (!value.includes(":")) return value;
  const groups = expandIPv6(value);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : value;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an embedded IPv4 tail counted as two), or null. */
function expandIPv6(address: string): string[] | null {
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const part = (text: string) => (text === "" ? [] : text.split(":").flatMap((group) => (group.includes(".") ? ["0", "0"] : [group])));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  return groups.every((group) => /^[0-9a-f]{1,4}$/.test(group)) ? groups.map((group) => group.replace(/^0+(?=.)/, "")) : null;
}
