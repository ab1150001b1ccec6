/**
 * The pages' static files from public/assets (the ASSETS binding): the stylesheet, the browser
 * bundle and the icon. Only these names are served, with their type and a short cache, so nothing else in
 * public/ becomes reachable by accident.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";

const SERVED: Record<string, string> = {
  "site.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

export const assetRoutes = new Hono<AppEnv>().get("/:name", async (c) => {
  const type = SERVED[c.req.param("name")];
  if (!type) return c.notFound();
  const asset = await c.env.ASSETS.fetch(new URL(`/assets/${c.req.param("name")}`, c.req.url));
  if (!asset.ok) return c.notFound();
  c.header("Content-Type", type);
  c.header("Cache-Control", "public, max-age=300");
  return c.newResponse(asset.body as ReadableStream, 200);
});
