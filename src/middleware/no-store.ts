/**
 * `Cache-Control: no-store` on API responses that may carry a manage token or personal data, so
 * no browser or shared cache keeps them: everything under /api except a successful GET of the
 * public catalog, and every error. A route that set its own Cache-Control on a success keeps it.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/** Anonymous, the same for everyone: classes, a session, its availability and live feed, the spec. */
const PUBLIC_CATALOG = [
  /^\/api\/v1\/classes(?:\/[^/]+)?\/?$/,
  /^\/api\/v1\/sessions\/[^/]+(?:\/(?:availability|live))?\/?$/,
  /^\/api\/v1\/openapi\.json$/,
];

export function isPublicCatalogRead(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && PUBLIC_CATALOG.some((pattern) => pattern.test(path));
}

export function noStore() {
  return createMiddleware<AppEnv>(async function noStore(c, next) {
    await next();
    const status = c.res.status;
    if (status >= 400) {
      c.res.headers.set("Cache-Control", "no-store");
      return;
    }
    if (status === 101 || c.res.headers.has("Cache-Control") || isPublicCatalogRead(c.req.method, c.req.path)) return;
    c.res.headers.set("Cache-Control", "no-store");
  });
}
