/**
 * Development-only routes (the dev mailbox, the local checkout): outside ENVIRONMENT=development
 * they do not exist at all, the same 404 as any unknown path.
 */
import type { Context, Next } from "hono";
import { configOf } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

export async function developmentOnly(c: Context<AppEnv>, next: Next) {
  if (configOf(c.env).environment !== "development") throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  await next();
}
