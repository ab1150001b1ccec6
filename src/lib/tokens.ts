/**
 * Booking manage tokens: HMAC-SHA-256 of the booking id under the server secret, so a retried or
 * taken-over request derives the same token; only its SHA-256 is stored.
 */
const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export async function manageTokenFor(secret: string, bookingId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return base64url(await crypto.subtle.sign("HMAC", key, encoder.encode(`manage-token:${bookingId}`)));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Compares a presented token with a stored hash without leaking where they differ. */
export async function tokenMatchesHash(token: string, storedHash: string): Promise<boolean> {
  const presented = await sha256Hex(token);
  if (presented.length !== storedHash.length) return false;
  let difference = 0;
  for (let i = 0; i < presented.length; i++) difference |= presented.charCodeAt(i) ^ storedHash.charCodeAt(i);
  return difference === 0;
}
