/**
 * Tokens made from the server secret: booking manage tokens, waitlist entry and offer tokens, and
 * the key bearer JWTs are signed with. Each purpose has its own key, derived from the secret with
 * HKDF-SHA-256 (info = the purpose), so a token or key of one purpose is worth nothing for another.
 *
 * Rotation: checks take a keyring (the current secret and, while rotating, the previous one) and
 * accept a token made under either; minting always uses the current secret. Pure: no env, no storage.
 */
const encoder = new TextEncoder();

/** The secrets tokens may have been made with: `current` mints, `previous` still verifies during a rotation. */
export interface Keyring {
  readonly current: string;
  readonly previous?: string;
}

/** The purposes with a derived key of their own (signed tokens name theirs, e.g. "waitlist-offer"). */
export const JWT_KEY_PURPOSE = "jwt";
export const MANAGE_TOKEN_PURPOSE = "manage-token";

/** Fixed salt: HKDF's extract step wants one, and it only has to be the same everywhere. */
const HKDF_SALT = encoder.encode("class-booking/token-keys/v1");

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return btoa(String.fromCharCode(...array)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The secrets of a keyring, current first (a plain string is a keyring of one). */
export function secretsOf(keys: Keyring | string): string[] {
  if (typeof keys === "string") return [keys];
  return keys.previous && keys.previous !== keys.current ? [keys.current, keys.previous] : [keys.current];
}

/** Cached by purpose and secret: deriving and importing are most of a token's cost, and secrets rarely change. */
const derived = new Map<string, Promise<{ bytes: Uint8Array; key: CryptoKey; id: string }>>();

function derive(secret: string, purpose: string) {
  const cacheKey = `${purpose}\n${secret}`;
  let entry = derived.get(cacheKey);
  if (!entry) {
    entry = (async () => {
      const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: encoder.encode(purpose) }, material, 256);
      const bytes = new Uint8Array(bits);
      const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      return { bytes, key, id: (await sha256Hex(bytes)).slice(0, 8) };
    })();
    if (derived.size > 32) derived.clear();
    derived.set(cacheKey, entry);
  }
  return entry;
}

/** The raw key for a purpose (for JWKs); most callers want `purposeKey`. */
export async function derivedKeyBytes(secret: string, purpose: string): Promise<Uint8Array> {
  return (await derive(secret, purpose)).bytes;
}

/** The HMAC-SHA-256 key for a purpose, for signing and verifying. */
export async function purposeKey(secret: string, purpose: string): Promise<CryptoKey> {
  return (await derive(secret, purpose)).key;
}

/** Names a derived key without revealing it: the first 8 hex digits of its SHA-256 (a JWT's `kid`). */
export async function keyId(secret: string, purpose: string): Promise<string> {
  return (await derive(secret, purpose)).id;
}

async function hmac(secret: string, purpose: string, message: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await purposeKey(secret, purpose), encoder.encode(message)));
}

/** A fresh unguessable token (256 random bits, base64url) for links whose only record is its hash. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data));
  // A table and a loop: this runs several times per booking.
  let hex = "";
  for (const byte of digest) hex += HEX[byte]!;
  return hex;
}

/** Equality that takes as long wherever the texts differ. */
function sameText(presented: string, expected: string): boolean {
  if (presented.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < presented.length; i++) difference |= presented.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}

/**
 * A booking's manage token: an HMAC of its id (and, once staff revoked, its generation), so a retry
 * derives the same token and only a hash need be stored. Generation 0 keeps the first message
 * format; later ones are prefixed `<generation>.` so a check knows which to recompute without a lookup.
 */
export async function manageTokenFor(secret: string, bookingId: string, generation = 0): Promise<string> {
  if (generation === 0) return hmac(secret, MANAGE_TOKEN_PURPOSE, `manage-token:${bookingId}`);
  return `${generation}.${await hmac(secret, MANAGE_TOKEN_PURPOSE, `manage-token:${bookingId}:${generation}`)}`;
}

/** The generation a manage token of this booking was made for, under any key of the keyring; null when it is none. */
export async function manageTokenGeneration(keys: Keyring | string, bookingId: string, token: string): Promise<number | null> {
  // A generation of at most 9 digits (far beyond any real number of revocations) keeps the token short.
  const match = /^(?:([1-9]\d{0,8})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const generation = match[1] ? Number(match[1]) : 0;
  for (const secret of secretsOf(keys)) {
    if (sameText(token, await manageTokenFor(secret, bookingId, generation))) return generation;
  }
  return null;
}

/**
 * A self-describing token: its parts (ids, numbers) in the clear, then an HMAC of them under the
 * purpose's key, so a waitlist token cannot be used as an offer token. Nothing is stored: the
 * signature is the proof. Made with the current secret.
 */
export async function signedToken(secret: string, purpose: string, parts: string[]): Promise<string> {
  return [...parts, await hmac(secret, purpose, `${purpose}:${parts.join(":")}`)].join(".");
}

/** The parts of a token made by `signedToken` for this purpose under any key of the keyring, or null when it is not one. */
export async function readSignedToken(keys: Keyring | string, purpose: string, token: string, partCount: number): Promise<string[] | null> {
  const pieces = token.split(".");
  if (pieces.length !== partCount + 1 || pieces.some((piece) => piece.length === 0 || piece.length > 128)) return null;
  const parts = pieces.slice(0, partCount);
  for (const secret of secretsOf(keys)) {
    if (sameText(pieces[partCount]!, await hmac(secret, purpose, `${purpose}:${parts.join(":")}`))) return parts;
  }
  return null;
}
