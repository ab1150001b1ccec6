/**
 * The denominator of the request error rate. Every API request that fails with a 5xx emits
 * REQUEST_FAILED (app.ts onError), exactly; one request in REQUEST_SAMPLE_RATE, chosen at random,
 * emits REQUEST_SAMPLED with `data.sampleRate`, so Σ sampleRate over a period is an unbiased
 * estimate of the requests served, at a fraction of the cost of one event per request.
 */
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { Context } from "hono";
import { configOf } from "../config";
import { domainEvent } from "../domain/events";
import type { AppEnv } from "../env";
import { waitUntilOf } from "../lib/wait-until";
import { redactPath } from "../domain/redaction";
import { dispatchEvents } from "../services/events";
import { clientRequestIdOf } from "./request-log";

export function requestSample() {
  return createMiddleware<AppEnv>(async function requestSample(c, next) {
    await next();
    const sampleRate = configOf(c.env).requestSampleRate;
    if (Math.random() * sampleRate >= 1) return;
    const event = domainEvent("REQUEST_SAMPLED", { data: { sampleRate, ...requestShape(c), status: c.res.status } });
    await dispatchEvents(c.env, [event], waitUntilOf(c));
  });
}

/**
 * Method and route pattern (`/api/v1/bookings/:id`, not the id itself), so rates group by route;
 * masked all the same, as it is stored. Our request id; the client's, if well-formed, beside it.
 */
export function requestShape(c: Context<AppEnv>) {
  const clientRequestId = clientRequestIdOf(c);
  return { method: c.req.method, route: redactPath(routePath(c, -1)), requestId: c.get("requestId"), ...(clientRequestId && { clientRequestId }) };
}
