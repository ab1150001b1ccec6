/**
 * Which browser origins may act with a signed-in user's cookie: this service's own (the request's
 * origin and PUBLIC_BASE_URL) and CORS_ALLOWED_ORIGINS. Used by the CORS answer and by the CSRF
 * check on cookie-authenticated writes; bearer-token clients are not browsers riding a cookie, so
 * neither applies to them.
 */
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { configOf, isPublicHttpsOrigin } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Origins trusted to send credentialed requests: the service's own and the configured ones. In
 * production a PUBLIC_BASE_URL that is not a public https origin (wrangler.toml's local default,
 * left unset) is not trusted: a page on the visitor's own machine must not act with their cookie.
 */
function trustedOrigins(c: Context<AppEnv>): Set<string> {
  const config = configOf(c.env);
  const base = config.environment === "production" && !isPublicHttpsOrigin(config.publicBaseUrl) ? [] : [config.publicBaseUrl];
  return new Set([new URL(c.req.url).origin, ...base, ...config.corsAllowedOrigins]);
}

/**
 * Refuses (403 CSRF_REFUSED) a request a browser sent from another site: its Origin must be a
 * trusted one; without an Origin, `Sec-Fetch-Site` must say same-origin. A request with neither is
 * not from a browser that can be tricked, but it rides a cookie, so it is refused too: scripts use
 * a bearer token.
 */
export function assertTrustedOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin !== "null") {
    if (trustedOrigins(c).has(origin)) return;
    throw new ApiError("CSRF_REFUSED", "This request came from another site; it may not act with this session's cookie", { origin });
  }
  const site = c.req.header("Sec-Fetch-Site");
  if (site === "same-origin" || site === "none") return;
  throw new ApiError("CSRF_REFUSED", "A write with a session cookie must come from this service's own pages (Origin or Sec-Fetch-Site); scripts send a bearer token");
}

/**
 * CORS for the API: only trusted origins get an answer that lets the browser read it, with
 * credentials, and the headers the API uses. Others get no CORS headers at all.
 */
export function apiCors(): MiddlewareHandler<AppEnv> {
  return async function apiCors(c, next) {
    const trusted = trustedOrigins(c);
    return cors({
      origin: (origin) => (trusted.has(origin) ? origin : null),
      credentials: true,
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
      exposeHeaders: ["Idempotent-Replayed", "Retry-After", "X-Request-Id"],
      maxAge: 600,
    })(c, next);
  };
}
