/**
 * Who is calling, and role checks. The token (HS256 JWT under the key derived from JWT_SECRET or,
 * while rotating, JWT_SECRET_PREVIOUS; src/lib/jwt-claims.ts) comes from the Authorization header
 * or the session cookie that sign-in sets. A token naming a session (`sid`) is checked against D1
 * on every request: an ended session is refused and the role is the account's current one
 * (src/services/auth-sessions.ts). A token without a session (`npm run token`) is accepted only in
 * development. Writes that ride the cookie must come from a trusted origin (CSRF).
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { configOf } from "../config";
import { getDb } from "../db/client";
import type { AppEnv, Principal, Role } from "../env";
import { ApiError } from "../errors";
import { JwtRefused, verifyJwt } from "../lib/jwt-claims";
import { liveSession } from "../services/auth-sessions";
import { assertTrustedOrigin, isSafeMethod } from "./origins";

export const ROLES = ["customer", "staff", "admin"] as const satisfies readonly Role[];

/** The cookie sign-in sets (HttpOnly, SameSite=Lax; Secure on https): the access token itself. */
export const SESSION_COOKIE = "cb_session";

/**
 * Its name for this request: on https `__Host-cb_session`, which browsers accept only Secure, on
 * Path=/ and without a Domain, so no sibling subdomain can plant a session cookie of its own.
 * Plain http (local development) cannot carry that prefix.
 */
export function sessionCookieName(c: Context<AppEnv>): string {
  return new URL(c.req.url).protocol === "https:" ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

/** Clears the session cookie (sign-out, or a cookie whose session ended). */
export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, sessionCookieName(c), { path: "/", secure: new URL(c.req.url).protocol === "https:" });
}

const tokenClaims = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  email: z.string().email().optional(),
  sid: z.string().min(1).max(100).optional(),
});

/**
 * Reads the bearer token, else the session cookie. A bearer token that is invalid, or names an
 * ended session, is refused, never ignored. A stale cookie is dropped instead (the caller is
 * anonymous and the cookie is cleared), so public pages keep working after a sign-out elsewhere.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const header = c.req.header("Authorization");
    let token: string | undefined;
    let via: Principal["via"];
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw new ApiError("INVALID_TOKEN", "Authorization header must be 'Bearer <token>'");
      [token, via] = [match[1], "bearer"];
    } else {
      token = getCookie(c, sessionCookieName(c)) || undefined;
      via = "cookie";
    }
    if (!token) {
      c.set("principal", undefined);
      return next();
    }
    let principal: Principal;
    try {
      principal = await principalOf(c, token, via);
    } catch (error) {
      if (via === "bearer" || !(error instanceof ApiError)) throw error;
      clearSessionCookie(c);
      c.set("principal", undefined);
      return next();
    }
    if (via === "cookie" && !isSafeMethod(c.req.method)) assertTrustedOrigin(c);
    c.set("principal", principal);
    return next();
  });
}

async function principalOf(c: Context<AppEnv>, token: string, via: Principal["via"]): Promise<Principal> {
  // A missing or short JWT_SECRET throws here (a ConfigError naming it), never verifies anything.
  const config = configOf(c.env);
  let payload: unknown;
  try {
    payload = await verifyJwt(token, { keyring: config.keyring, issuer: config.jwtIssuer, audience: config.jwtAudience, maxLifetimeSeconds: config.jwtMaxLifetimeSeconds });
  } catch (error) {
    throw new ApiError("INVALID_TOKEN", error instanceof JwtRefused ? error.message : "The bearer token is invalid or expired");
  }
  const claims = tokenClaims.safeParse(payload);
  if (!claims.success) throw new ApiError("INVALID_TOKEN", "The bearer token lacks a valid subject or role");
  const { sid, sub, role, email } = claims.data;
  if (sid === undefined) {
    if (config.environment !== "development") {
      throw new ApiError("INVALID_TOKEN", "This token names no signed-in session; sign in with an emailed link (POST /api/v1/auth/email-link)");
    }
    return { subject: sub, role, email: email?.toLowerCase(), via };
  }
  const account = await liveSession(getDb(c.env.DB), sid, new Date());
  if (!account) throw new ApiError("SESSION_ENDED", "This session has ended (signed out or expired); sign in again");
  return { subject: account.accountId, role: account.role, email: account.email, sessionId: sid, sessionExpiresAt: account.expiresAt.getTime(), via };
}

/** Lets the request through only for the given roles: 401 without a token, 403 with the wrong role. */
export function requireRole(...allowed: Role[]): MiddlewareHandler<AppEnv> {
  if (allowed.length === 0) throw new Error("requireRole needs at least one role");
  return createMiddleware<AppEnv>(async function requireRole(c, next) {
    const principal = c.get("principal");
    if (!principal) throw new ApiError("UNAUTHENTICATED", "This route needs a signed-in user (a bearer token or the session cookie)");
    if (!allowed.includes(principal.role)) {
      throw new ApiError("FORBIDDEN", `This route needs one of the roles: ${allowed.join(", ")}`, { required: allowed });
    }
    return next();
  });
}
