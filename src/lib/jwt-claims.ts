/**
 * Bearer JWTs: the claims the API requires (sub, role, iss, aud, iat, exp with a bounded lifetime),
 * signed HS256 with the key derived from JWT_SECRET for this purpose, `kid` naming it. One place
 * for the API (src/middleware/auth.ts), scripts/token.ts, the benchmarks and the tests.
 */
import { sign, verify } from "hono/jwt";
import type { SignatureAlgorithm } from "hono/utils/jwt/jwa";
import { decodeHeader } from "hono/utils/jwt/jwt";
import { type JWTPayload, JwtPayloadRequiresAud, JwtTokenAudience, JwtTokenIssuer } from "hono/utils/jwt/types";
import { JWT_DEFAULTS } from "../config";
import { derivedKeyBytes, JWT_KEY_PURPOSE, keyId, type Keyring, purposeKey, secretsOf } from "./tokens";

export { JWT_DEFAULTS };

export type JwtRole = "customer" | "staff" | "admin";

export interface JwtClaimsInput {
  sub: string;
  role: JwtRole;
  email?: string;
  /** The signed-in session the token belongs to (src/services/auth-sessions.ts); dev tokens have none. */
  sid?: string;
  /** Lifetime in seconds; defaults to the API's maximum. */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Issue time in epoch seconds (tests: to make old tokens). */
  now?: number;
}

/** The claims of a token the API accepts. */
export function claimsFor(input: JwtClaimsInput): JWTPayload {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  return {
    sub: input.sub,
    role: input.role,
    ...(input.email !== undefined && { email: input.email }),
    ...(input.sid !== undefined && { sid: input.sid }),
    iss: input.issuer ?? JWT_DEFAULTS.issuer,
    aud: input.audience ?? JWT_DEFAULTS.audience,
    iat,
    exp: iat + (input.ttlSeconds ?? JWT_DEFAULTS.maxLifetimeSeconds),
  };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Signs claims with the JWT key derived from `secret`, `kid` in the header (any payload: tests sign bad ones too). */
export async function signJwt(payload: JWTPayload, secret: string, alg: SignatureAlgorithm = "HS256"): Promise<string> {
  const k = base64url(await derivedKeyBytes(secret, JWT_KEY_PURPOSE));
  return sign(payload, { kty: "oct", k, alg, kid: await keyId(secret, JWT_KEY_PURPOSE) }, alg);
}

export interface JwtPolicy {
  keyring: Keyring;
  issuer: string;
  audience: string;
  maxLifetimeSeconds: number;
}

/** Why a bearer token was refused, in words safe to return to its sender. */
export class JwtRefused extends Error {
  override name = "JwtRefused";
}

/**
 * The payload of a token that passes every check: HS256 under a key of the keyring (the one its
 * `kid` names; a token without one may match either), iss, aud, iat and exp present, not expired,
 * not issued in the future and living at most `maxLifetimeSeconds`. Throws JwtRefused.
 */
export async function verifyJwt(token: string, policy: JwtPolicy): Promise<JWTPayload> {
  let kid: string | undefined;
  try {
    kid = decodeHeader(token).kid;
  } catch {
    throw new JwtRefused("The bearer token is not a JWT");
  }
  const secrets = secretsOf(policy.keyring);
  const ids = await Promise.all(secrets.map((secret) => keyId(secret, JWT_KEY_PURPOSE)));
  const candidates = kid === undefined ? secrets : secrets.filter((_, index) => ids[index] === kid);
  if (candidates.length === 0) throw new JwtRefused("The bearer token names a key this API does not have");
  let payload: JWTPayload | undefined;
  let refusal: unknown;
  for (const secret of candidates) {
    try {
      payload = await verify(token, await purposeKey(secret, JWT_KEY_PURPOSE), { alg: "HS256", iss: policy.issuer, aud: policy.audience });
      break;
    } catch (error) {
      refusal = error;
    }
  }
  if (!payload) {
    const misdirected = refusal instanceof JwtTokenIssuer || refusal instanceof JwtTokenAudience || refusal instanceof JwtPayloadRequiresAud;
    if (misdirected) throw new JwtRefused("The bearer token was not issued for this API (iss or aud)");
    throw new JwtRefused("The bearer token is invalid or expired");
  }
  const { iat, exp } = payload;
  if (typeof iat !== "number" || typeof exp !== "number" || !Number.isFinite(iat) || !Number.isFinite(exp)) {
    throw new JwtRefused("The bearer token must carry iat and exp");
  }
  if (exp - iat > policy.maxLifetimeSeconds) {
    throw new JwtRefused(`The bearer token lives longer than ${policy.maxLifetimeSeconds} seconds (exp - iat)`);
  }
  return payload;
}
