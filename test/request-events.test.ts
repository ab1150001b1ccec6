/**
 * The request error rate's two halves: every 5xx emits REQUEST_FAILED; one request in
 * REQUEST_SAMPLE_RATE (10 in wrangler.toml) emits REQUEST_SAMPLED carrying that rate.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { ApiError } from "../src/errors";
import { call, eventually } from "./helpers";

type EventRow = { type: string; code: string | null; client_key: string | null; data: string };

/** Found by the X-Request-Id the test sent, which is stored as clientRequestId (ours is requestId). */
async function eventsWithRequestIds(type: string, prefix: string) {
  const { results } = await env.DB.prepare(`SELECT * FROM events WHERE type = ? AND json_extract(data, '$.clientRequestId') LIKE ?`)
    .bind(type, `${prefix}%`)
    .all<EventRow>();
  return results;
}

// The real app with two extra routes that fail: one unexpectedly, one with a client error.
const app = createApp();
app.get("/api/test/boom/:id", () => {
  throw new Error("database on fire");
});
app.get("/api/test/refused", () => {
  throw new ApiError("FORBIDDEN", "no");
});

async function fetchApp(path: string, requestId: string) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://localhost${path}`, { headers: { "X-Request-Id": requestId, "CF-Connecting-IP": "192.0.2.44" } }), env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("REQUEST_FAILED", () => {
  it("is emitted for a 5xx with the error code and the route pattern, never for a 4xx", async () => {
    const prefix = `failed-${crypto.randomUUID()}`;
    const failed = await fetchApp("/api/test/boom/42", `${prefix}-a`);
    expect(failed.status).toBe(500);
    expect((await fetchApp("/api/test/refused", `${prefix}-b`)).status).toBe(403);

    const [event] = await eventually(async () => {
      const rows = await eventsWithRequestIds("REQUEST_FAILED", prefix);
      return rows.length > 0 ? rows : undefined;
    });
    expect(event).toMatchObject({ code: "INTERNAL_ERROR", client_key: "192.0.2.44" });
    expect(JSON.parse(event!.data)).toEqual({ method: "GET", route: "/api/test/boom/:id", requestId: failed.headers.get("X-Request-Id"), clientRequestId: `${prefix}-a`, status: 500 });
    // Give the 403 the same time to show up; it must not.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await eventsWithRequestIds("REQUEST_FAILED", prefix)).toHaveLength(1);
  });
});

describe("REQUEST_SAMPLED", () => {
  it("samples about one API request in ten, each carrying the rate that scales it back up", async () => {
    const prefix = `sampled-${crypto.randomUUID()}`;
    const requests = 150;
    for (let i = 0; i < requests; i++) {
      expect((await call("GET", "/api/v1/sessions/ses_not_there", { headers: { "X-Request-Id": `${prefix}-${i}` } })).status).toBe(404);
    }
    await eventually(async () => (await eventsWithRequestIds("REQUEST_SAMPLED", prefix)).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sampled = await eventsWithRequestIds("REQUEST_SAMPLED", prefix);
    // Binomial(150, 0.1): mean 15; outside 1..50 with odds below one in a million.
    expect(sampled.length).toBeGreaterThanOrEqual(1);
    expect(sampled.length).toBeLessThanOrEqual(50);
    for (const row of sampled) {
      expect(JSON.parse(row.data)).toMatchObject({ sampleRate: 10, method: "GET", route: "/api/v1/sessions/:id", status: 404 });
    }
  });

  // How REQUEST_SAMPLE_RATE is read (a whole number ≥ 1, a malformed one refused): test/config.test.ts.
});
