import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { ApiError } from "../src/errors";
import { createEndpoint as createEndpointIn } from "../src/services/webhooks";
import { call, tokenFor } from "./helpers";
import { admin, createEndpoint, installReceiver, receiver, cleanUp } from "./webhooks-helpers";

const BASE = "/api/v1/admin/webhooks";
afterEach(cleanUp);
const url = () => `https://hooks-${crypto.randomUUID().slice(0, 8)}.example.com/studio`;

describe("admin webhooks: endpoints", () => {
  it("creates an endpoint and shows its whsec_ secret only in that answer", async () => {
    const created = await call("POST", BASE, { token: await admin(), body: { url: url(), events: ["booking.confirmed", "session.full", "booking.confirmed"], description: "CRM" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: "enabled", events: ["booking.confirmed", "session.full"], description: "CRM", consecutiveFailures: 0, disabledReason: null });
    expect(created.json.id).toMatch(/^whe_/);
    const key = atob(created.json.secret.replace(/^whsec_/, ""));
    expect(key.length).toBeGreaterThanOrEqual(24);
    expect(key.length).toBeLessThanOrEqual(32);

    const one = await call("GET", `${BASE}/${created.json.id}`, { token: await admin() });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ ...created.json, secret: undefined, createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(one.text).not.toContain(created.json.secret);
    const list = await call("GET", `${BASE}?limit=100`, { token: await admin() });
    expect(list.status).toBe(200);
    expect(list.json.data.map((row: { id: string }) => row.id)).toContain(created.json.id);
    expect(list.text).not.toContain("whsec_");
  });

  it("pages the list newest first with a cursor", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint(url())).id);
    const first = await call("GET", `${BASE}?limit=2`, { token: await admin() });
    expect(first.json.data).toHaveLength(2);
    expect(first.json.data.map((row: { id: string }) => row.id)).toEqual([ids[2], ids[1]]);
    const second = await call("GET", `${BASE}?limit=2&cursor=${first.json.nextCursor}`, { token: await admin() });
    expect(second.json.data[0].id).toBe(ids[0]);
    expect((await call("GET", `${BASE}?cursor=bm9wZQ`, { token: await admin() })).status).toBe(400);
  });

  it("changes url, events and description; disabling records why, enabling clears the failures", async () => {
    const endpoint = await createEndpoint(url());
    const newUrl = url();
    const patched = await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { url: newUrl, events: ["session.full", "session.reopened"], description: "ops" } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ url: newUrl, events: ["session.full", "session.reopened"], description: "ops", status: "enabled" });

    const disabled = await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "disabled" } });
    expect(disabled.json).toMatchObject({ status: "disabled", disabledReason: "disabled by an admin" });
    await env.DB.prepare(`UPDATE webhook_endpoints SET consecutive_failures = 5 WHERE id = ?`).bind(endpoint.id).run();
    const enabled = await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "enabled" } });
    expect(enabled.json).toMatchObject({ status: "enabled", disabledReason: null, consecutiveFailures: 0 });
  });

  it("refuses bad bodies with 400 and field paths, and unknown ids with 404", async () => {
    const token = await admin();
    const badEvent = await call("POST", BASE, { token, body: { url: url(), events: ["booking.exploded"] } });
    expect(badEvent.status).toBe(400);
    expect(badEvent.json.error.details.issues[0].path).toBe("events.0");
    expect((await call("POST", BASE, { token, body: { url: url(), events: [] } })).status).toBe(400);
    expect((await call("POST", BASE, { token, body: { events: ["booking.confirmed"] } })).status).toBe(400);
    expect((await call("POST", BASE, { token, body: { url: "javascript:alert(1)", events: ["booking.confirmed"] } })).status).toBe(400);
    const endpoint = await createEndpoint(url());
    expect((await call("PATCH", `${BASE}/${endpoint.id}`, { token, body: {} })).status).toBe(400);
    expect((await call("PATCH", `${BASE}/${endpoint.id}`, { token, body: { status: "paused" } })).status).toBe(400);
    for (const [method, path] of [["GET", "/whe_nope"], ["PATCH", "/whe_nope"], ["DELETE", "/whe_nope"], ["POST", "/whe_nope/rotate-secret"], ["POST", "/whe_nope/test"], ["GET", "/whe_nope/deliveries"], ["POST", `/${endpoint.id}/deliveries/msg_nope/redeliver`]] as const) {
      const response = await call(method, `${BASE}${path}`, { token, body: method === "PATCH" ? { description: "x" } : undefined });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("rotates the secret: a new one, shown once", async () => {
    const endpoint = await createEndpoint(url());
    const rotated = await call("POST", `${BASE}/${endpoint.id}/rotate-secret`, { token: await admin() });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(endpoint.secret);
    const stored = await env.DB.prepare(`SELECT secret FROM webhook_endpoints WHERE id = ?`).bind(endpoint.id).first<{ secret: string }>();
    expect(stored!.secret).toBe(rotated.json.secret);
  });

  it("deletes an endpoint with its delivery log", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url);
    const sent = await call("POST", `${BASE}/${endpoint.id}/test`, { token: await admin() });
    expect(sent.status).toBe(202);
    expect((await call("DELETE", `${BASE}/${endpoint.id}`, { token: await admin() })).status).toBe(204);
    expect((await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() })).status).toBe(404);
    const left = await env.DB.prepare(`SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?`).bind(endpoint.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});

describe("admin webhooks: URL rules at creation (SSRF)", () => {
  const refused = ["https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[fd00::1]/hook", "https://[::ffff:10.0.0.1]/hook", "https://0x0a000001/hook", "https://metadata.internal/hook", "https://nas.local/hook", "https://u:p@hooks.example.com/hook", "http://192.168.0.10/hook"];
  for (const target of refused) {
    it(`refuses ${target} with 400 WEBHOOK_URL_REFUSED`, async () => {
      const response = await call("POST", BASE, { token: await admin(), body: { url: target, events: ["booking.confirmed"] } });
      expect(response.status).toBe(400);
      expect(response.json.error.code).toBe("WEBHOOK_URL_REFUSED");
    });
  }

  it("refuses a private URL in a PATCH too", async () => {
    const endpoint = await createEndpoint(url());
    const response = await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { url: "https://10.1.2.3/x" } });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("WEBHOOK_URL_REFUSED");
  });

  it("allows http://127.0.0.1 and localhost in development (these tests run as development)", async () => {
    for (const target of ["http://127.0.0.1:9999/hook", "http://localhost:9999/hook"]) {
      const response = await call("POST", BASE, { token: await admin(), body: { url: target, events: ["booking.confirmed"] } });
      expect(response.status, target).toBe(201);
    }
  });

  it("refuses http://, loopback in any spelling and [::1] in production", async () => {
    const production = { ...env, ENVIRONMENT: "production" };
    for (const target of ["http://hooks.example.com/x", "https://127.0.0.1/x", "https://[::1]/x", "https://0x7f000001/x", "https://2130706433/x", "https://localhost/x", "https://10.0.0.1/x", "https://169.254.169.254/x"]) {
      const refusal = await createEndpointIn(production, getDb(env.DB), { url: target, events: ["booking.confirmed"] }, "admin:test").catch((error: unknown) => error);
      expect(refusal, target).toBeInstanceOf(ApiError);
      expect((refusal as ApiError).code).toBe("WEBHOOK_URL_REFUSED");
    }
    const allowed = await createEndpointIn(production, getDb(env.DB), { url: url(), events: ["booking.confirmed"] }, "admin:test");
    expect(allowed.status).toBe("enabled");
  });
});

describe("admin webhooks: who may call", () => {
  it("documents every webhook route in OpenAPI behind bearerAuth", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const ops = [
      ["/api/v1/admin/webhooks", "post"],
      ["/api/v1/admin/webhooks", "get"],
      ["/api/v1/admin/webhooks/{id}", "get"],
      ["/api/v1/admin/webhooks/{id}", "patch"],
      ["/api/v1/admin/webhooks/{id}", "delete"],
      ["/api/v1/admin/webhooks/{id}/rotate-secret", "post"],
      ["/api/v1/admin/webhooks/{id}/test", "post"],
      ["/api/v1/admin/webhooks/{id}/deliveries", "get"],
      ["/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver", "post"],
    ] as const;
    for (const [path, method] of ops) {
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths[path][method].responses["403"]).toBeDefined();
    }
  });

  const routes = (id: string) =>
    [
      ["POST", BASE, { url: url(), events: ["booking.confirmed"] }],
      ["GET", BASE],
      ["GET", `${BASE}/${id}`],
      ["PATCH", `${BASE}/${id}`, { description: "x" }],
      ["DELETE", `${BASE}/${id}`],
      ["POST", `${BASE}/${id}/rotate-secret`],
      ["POST", `${BASE}/${id}/test`],
      ["GET", `${BASE}/${id}/deliveries`],
      ["POST", `${BASE}/${id}/deliveries/msg_x/redeliver`],
    ] as const;

  it("answers staff and customers 403, anonymous callers 401, on every route", async () => {
    const endpoint = await createEndpoint(url());
    const staff = await tokenFor("staff");
    const customer = await tokenFor("customer");
    for (const [method, path, body] of routes(endpoint.id)) {
      expect((await call(method, path, { token: staff, body })).status, `staff ${method} ${path}`).toBe(403);
      expect((await call(method, path, { token: customer, body })).status, `customer ${method} ${path}`).toBe(403);
      expect((await call(method, path, { body })).status, `anonymous ${method} ${path}`).toBe(401);
    }
    // Nothing was changed by any of them.
    const after = await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() });
    expect(after.json).toMatchObject({ status: "enabled", description: null, url: endpoint.url });
  });
});
