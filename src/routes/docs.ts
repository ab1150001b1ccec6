/**
 * The API reference page (/docs) and the Scalar script it runs, both served by us: the page loads
 * no third-party script, so its Content-Security-Policy allows our own scripts and, for Scalar's
 * inline start-up call, a nonce made for each response.
 */
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { NONCE, secureHeaders, type SecureHeadersVariables } from "hono/secure-headers";
import type { AppEnv } from "../env";

/** Scalar's browser bundle, the file the CDN served: a static asset of ours (public/README.md). */
export const SCALAR_SCRIPT_PATH = "/docs/scalar.js";

/**
 * Scalar's page runs one inline script and one inline style; its own script injects more styles at
 * run time, so styles may be inline. Scripts: ours and the nonced start-up call only. No fonts
 * or calls to anyone else (`withDefaultFonts: false`, connect-src 'self').
 */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", NONCE],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: "DENY",
});

type DocsEnv = { Bindings: AppEnv["Bindings"]; Variables: AppEnv["Variables"] & SecureHeadersVariables };

const page = Scalar<DocsEnv>({
  url: "/api/v1/openapi.json",
  pageTitle: "Class booking API",
  cdn: SCALAR_SCRIPT_PATH,
  withDefaultFonts: false,
});

export const docsRoutes = new Hono<DocsEnv>()
  .get("/docs", pageHeaders, async (c, next) => {
    const rendered = await page(c, next);
    if (!rendered) return c.notFound();
    const nonce = c.get("secureHeadersNonce");
    // Scalar writes plain <script> tags; each gets this response's nonce.
    const html = (await rendered.text()).replaceAll("<script", `<script nonce="${nonce}"`);
    return c.html(html);
  })
  .get(SCALAR_SCRIPT_PATH, async (c) => {
    const asset = await c.env.ASSETS.fetch(new URL(SCALAR_SCRIPT_PATH, c.req.url));
    if (!asset.ok) return c.notFound();
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "public, max-age=3600");
    return c.newResponse(asset.body as ReadableStream, 200);
  });
