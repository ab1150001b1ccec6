/**
 * Serving pages: the CSP they run under (scripts, styles and connections from this origin only,
 * forms posting here only), no caching of anything personal, the signed-in user for the layout, and
 * the console's guard (no session: to /sign-in; wrong role: 403 page).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";
import { Layout } from "../pages/layout";

/** The headers every page gets (mounted per path by each page router). */
export const pageHeaders: MiddlewareHandler<AppEnv> = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
});

export type PageStatus = 200 | 400 | 403 | 404 | 409 | 410 | 429 | 503;

/** Renders a page element; `cache: "public"` only for pages with nothing personal on them. */
export function renderPage(c: Context<AppEnv>, page: JSX.Element, options: { status?: PageStatus; cache?: "public" | "private" } = {}) {
  c.header("Cache-Control", options.cache === "public" ? "public, max-age=30" : "private, no-store");
  return c.html(`<!doctype html>${page.toString()}`, options.status ?? 200);
}

/** The layout's idea of who is signed in (set by `authenticate()` on the page router). */
export function pageUser(c: Context<AppEnv>) {
  const principal = c.get("principal");
  return principal?.email ? { email: principal.email, role: principal.role } : undefined;
}

/**
 * A path on this site to come back to after signing in: never another origin. Only plain path
 * characters are allowed, so `//evil`, `/\\evil` and `/%09/evil` (a tab browsers drop) all fall back to `/`.
 */
export function safeNext(path: string | undefined): string {
  return path && /^\/[A-Za-z0-9._~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(path) && !/%(?:0[0-9a-f]|1[0-9a-f]|2f|5c|7f)/i.test(path) ? path : "/";
}

/** Console pages: staff and admins only. Without a session, to the sign-in page and back. */
export const consoleOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const principal = c.get("principal");
  if (!principal) {
    const url = new URL(c.req.url);
    return c.redirect(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  }
  if (principal.role !== "staff" && principal.role !== "admin") {
    return renderPage(
      c,
      <Layout title="Staff only" user={pageUser(c)}>
        <p>The studio console is for staff. You are signed in as {principal.email ?? "a customer"}.</p>
      </Layout>,
      { status: 403 },
    );
  }
  return next();
};
