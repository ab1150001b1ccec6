/**
 * Bearer-token authentication (HS256 JWTs under the key derived from JWT_SECRET or, while rotating,
 * JWT_SECRET_PREVIOUS; algorithm, iss, aud and a bounded exp required: src/lib/jwt-claims.ts) and role checks.
 */
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { configOf } from "../config";
import type { AppEnv, Principal, Role } from "../env";
import { ApiError } from "../errors";
import { JwtRefused, verifyJwt } from "../lib/jwt-claims";

export const ROLES = ["customer", "staff", "admin"] as const satisfies readonly Role[];

const tokenClaims = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  email: z.string().email().optional(),
});

/** Reads the bearer token if there is one; a present but invalid token is refused, never ignored. */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const header = c.req.header("Authorization");
    if (!header) {
      c.set("principal", undefined);
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new ApiError("INVALID_TOKEN", "Authorization header must be 'Bearer <token>'");
    // A missing or short JWT_SECRET throws here (a ConfigError naming it), never verifies anything.
    const config = configOf(c.env);
    let payload: unknown;
    try {
      payload = await verifyJwt(match[1], {
        keyring: config.keyring,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        maxLifetimeSeconds: config.jwtMaxLifetimeSeconds,
      });
    } catch (error) {
      throw new ApiError("INVALID_TOKEN", error instanceof JwtRefused ? error.message : "The bearer token is invalid or expired");
    }
    const claims = tokenClaims.safeParse(payload);
    if (!claims.success) throw new ApiError("INVALID_TOKEN", "The bearer token lacks a valid subject or role");
    const principal: Principal = { subject: claims.data.sub, role: claims.data.role, email: claims.data.email?.toLowerCase() };
    c.set("principal", principal);
    return next();
  });
}

/** Lets the request through only for the given roles: 401 without a token, 403 with the wrong role. */
export function requireRole(...allowed: Role[]): MiddlewareHandler<AppEnv> {
  if (allowed.length === 0) throw new Error("requireRole needs at least one role");
  return createMiddleware<AppEnv>(async function requireRole(c, next) {
    const principal = c.get("principal");
    if (!principal) throw new ApiError("UNAUTHENTICATED", "This route needs a bearer token");
    if (!allowed.includes(principal.role)) {
      throw new ApiError("FORBIDDEN", `This route needs one of the roles: ${allowed.join(", ")}`, { required: allowed });
    }
    return next();
  });
}
