/**
 * Request ids and the one structured JSON log line per request. The id is always ours: a client's
 * X-Request-Id is never echoed or stored as ours (it could forge or collide with another request's
 * trail); a well-formed one is recorded beside it as `clientRequestId`. Secrets in the path are masked.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { redactPath } from "../domain/redaction";

export const REQUEST_ID_HEADER = "X-Request-Id";
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives the request our own id, on `c.get("requestId")` and the response's X-Request-Id. */
export function ownRequestId() {
  return createMiddleware<AppEnv>(async function ownRequestId(c, next) {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
  });
}

/** The client's X-Request-Id when well-formed (≤ 64 of [A-Za-z0-9._-]), for correlation only. */
export function clientRequestIdOf(c: Context): string | undefined {
  const sent = c.req.header(REQUEST_ID_HEADER);
  return sent !== undefined && CLIENT_REQUEST_ID.test(sent) ? sent : undefined;
}

export function requestLog() {
  return createMiddleware<AppEnv>(async function requestLog(c, next) {
    const started = Date.now();
    await next();
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        msg: "request",
        requestId: c.get("requestId"),
        clientRequestId: clientRequestIdOf(c),
        method: c.req.method,
        path: redactPath(c.req.path),
        status: c.res.status,
        durationMs: Date.now() - started,
        role: c.get("principal")?.role,
      }),
    );
  });
}
