/**
 * Booking manage tokens: HMAC-SHA-256 of the booking id under the server secret, so a retried or
 * taken-over request derives the same token; only its SHA-256 is stored.
 */
const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export async function manageTokenFor(secret: string, bookingId: string): Promise<string> {
  return hmac(secret, `manage-token:${bookingId}`);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Compares a presented token with a stored hash without leaking where they differ. */
export async function tokenMatchesHash(token: string, storedHash: string): Promise<boolean> {
  return sameText(await sha256Hex(token), storedHash);
}

/** Equality that takes as long wherever the texts differ. */
function sameText(presented: string, expected: string): boolean {
  if (presented.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < presented.length; i++) difference |= presented.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}

/** Imported keys by secret: importing is most of an HMAC's cost, and the secret rarely changes. */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

async function hmac(secret: string, message: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/**
 * A self-describing token: its parts (ids, numbers) in the clear, then an HMAC of them under the
 * server secret and a purpose, so a waitlist token cannot be used as an offer token. Nothing is
 * stored: the signature is the proof.
 */
export async function signedToken(secret: string, purpose: string, parts: string[]): Promise<string> {
  return [...parts, await hmac(secret, `${purpose}:${parts.join(":")}`)].join(".");
}

/** The parts of a token made by `signedToken` for this purpose, or null when it is not one. */
export async function readSignedToken(secret: string, purpose: string, token: string, partCount: number): Promise<string[] | null> {
  const pieces = token.split(".");
  if (pieces.length !== partCount + 1 || pieces.some((piece) => piece.length === 0 || piece.length > 128)) return null;
  const parts = pieces.slice(0, partCount);
  return sameText(pieces[partCount]!, await hmac(secret, `${purpose}:${parts.join(":")}`)) ? parts : null;
}
