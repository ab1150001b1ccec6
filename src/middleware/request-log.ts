/** One structured JSON log line per request, carrying the same request id as the response header. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

export function requestLog() {
  return createMiddleware<AppEnv>(async function requestLog(c, next) {
    const started = Date.now();
    await next();
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        msg: "request",
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Date.now() - started,
        role: c.get("principal")?.role,
      }),
    );
  });
}
