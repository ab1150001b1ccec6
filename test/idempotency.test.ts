/**
 * The Idempotency-Key middleware, on the real app (error handler, request ids, auth, body limit)
 * with test-only routes under /idem-test that count how often they execute.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { getDb } from "../src/db/client";
import { cities, idempotencyKeys } from "../src/db/schema";
import { ApiError } from "../src/errors";
import { newId } from "../src/lib/ids";
import { createRouter, jsonBody } from "../src/lib/openapi";
import { authenticate } from "../src/middleware/auth";
import { idempotency, idFromSeed, IdempotencyKeyHeader, purgeExpiredIdempotencyKeys } from "../src/middleware/idempotency";
import { tokenFor, unique } from "./helpers";

const db = getDb(env.DB);
/** Executions per label (a city name, or the `label` query parameter). */
const executions = new Map<string, number>();
const count = (label: string) => executions.set(label, (executions.get(label) ?? 0) + 1).get(label)!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const testRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/cities",
      request: {
        headers: IdempotencyKeyHeader.extend({ "x-test-delay-ms": z.coerce.number().int().min(0).max(2000).default(0) }),
        body: jsonBody(z.object({ name: z.string().min(1), countryCode: z.string().length(2) })),
      },
      responses: { 201: { description: "created" } },
    }),
    async (c) => {
      const delayMs = c.req.valid("header")["x-test-delay-ms"];
      const input = c.req.valid("json");
      const execution = count(input.name);
      if (delayMs) await sleep(delayMs);
      const keyed = c.get("idempotency");
      const id = keyed ? idFromSeed("cty", keyed.seed) : newId("city");
      await db.insert(cities).values({ id, ...input }).onConflictDoNothing();
      return c.json({ id, name: input.name, execution, idempotency: keyed ?? null }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/outcome",
      request: {
        query: z.object({ label: z.string(), mode: z.enum(["500", "throw", "422", "429", "in-progress", "204"]) }),
      },
      responses: { 200: { description: "whatever the mode says" } },
    }),
    async (c) => {
      const { label, mode } = c.req.valid("query");
      const execution = count(label);
      switch (mode) {
        case "500":
          return c.json({ error: { code: "SERVICE_UNAVAILABLE", message: "try again" }, execution }, 500);
        case "throw":
          throw new Error("boom");
        case "422":
          throw new ApiError("INVALID_REFERENCE", `rejected on execution ${execution}`, { execution });
        case "429":
          throw new ApiError("RATE_LIMITED", "slow down");
        case "in-progress":
          throw new ApiError("IDEMPOTENCY_IN_PROGRESS", "busy downstream");
        case "204":
          return c.body(null, 204);
      }
    },
  )
  .get("/echo", (c) => c.json({ idempotency: c.get("idempotency") ?? null, execution: count(c.req.query("label") ?? "") }));

const app = createApp();
app.use("/idem-test/*", authenticate());
app.use("/idem-test/*", idempotency());
app.route("/idem-test", testRoutes);

interface SendOptions {
  key?: string;
  token?: string;
  body?: unknown;
  rawBody?: string;
  method?: string;
  delayMs?: number;
}

async function send(path: string, { key, token, body, rawBody, method = "POST", delayMs }: SendOptions = {}) {
  const headers: Record<string, string> = {};
  if (delayMs !== undefined) headers["X-Test-Delay-Ms"] = String(delayMs);
  if (key !== undefined) headers["Idempotency-Key"] = key;
  if (token) headers.Authorization = `Bearer ${token}`;
  const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  const response = await app.fetch(new Request(`http://localhost/idem-test${path}`, { method, headers, body: payload }), env);
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text && response.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, text, json, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}

const newKey = () => `key-${crypto.randomUUID()}`;
const city = () => ({ name: `Idem ${unique()}`, countryCode: "GB" });
const keyRow = (scope: string, key: string) =>
  db.query.idempotencyKeys.findFirst({ where: and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)) });
const citiesNamed = (name: string) => db.select().from(cities).where(eq(cities.name, name));

afterEach(() => vi.restoreAllMocks());

let token: string;
let scope: string;
beforeAll(async () => {
  const email = `idem-${unique()}@example.test`;
  token = await tokenFor("customer", email);
  scope = `sub:customer:${email}`;
});

describe("Idempotency-Key: replay", () => {
  it("replays the first response to a repeat, executing once", async () => {
    const key = newKey();
    const body = city();
    const first = await send("/cities", { key, token, body });
    expect(first.status).toBe(201);
    expect(first.replayed).toBe(false);
    expect(first.headers.get("X-Request-Id")).toEqual(expect.any(String));
    expect(first.json).toMatchObject({ name: body.name, execution: 1, idempotency: { scope, key } });
    // A keyed request gets an id derived from the seed stored with its key.
    expect(first.json.id).toBe(idFromSeed("cty", first.json.idempotency.seed));

    const second = await send("/cities", { key, token, body });
    expect(second.status).toBe(201);
    expect(second.replayed).toBe(true);
    expect(second.text).toBe(first.text);
    expect(second.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(second.headers.get("X-Request-Id")).toEqual(expect.any(String));

    expect(executions.get(body.name)).toBe(1);
    expect(await citiesNamed(body.name)).toHaveLength(1);
    expect(await keyRow(scope, key)).toMatchObject({ status: "completed", responseStatus: 201, responseBody: first.text });
  });

  it("passes requests without a key straight through, storing nothing", async () => {
    const body = city();
    const first = await send("/cities", { token, body });
    expect(first.status).toBe(201);
    expect(first.json.idempotency).toBeNull();
    const second = await send("/cities", { token, body: { ...body, name: `${body.name} 2` } });
    expect(second.replayed).toBe(false);
    expect(executions.get(body.name)).toBe(1);
  });

  it("ignores the key on methods other than POST", async () => {
    const key = newKey();
    const label = unique();
    const a = await send(`/echo?label=${label}`, { key, token, method: "GET" });
    const b = await send(`/echo?label=${label}`, { key, token, method: "GET" });
    expect(a.json).toEqual({ idempotency: null, execution: 1 });
    expect(b.json).toEqual({ idempotency: null, execution: 2 });
    expect(await keyRow(scope, key)).toBeUndefined();
  });

  it("leaves the body readable for the route's validator; a validation failure is not kept, so a corrected retry executes", async () => {
    const key = newKey();
    const bad = await send("/cities", { key, token, body: { name: "", countryCode: "GBR" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["countryCode", "name"]);
    expect(await keyRow(scope, key)).toBeUndefined();
    const corrected = await send("/cities", { key, token, body: city() });
    expect(corrected.status).toBe(201);
    expect(corrected.replayed).toBe(false);
  });

  it("replays a 204 without a body", async () => {
    const key = newKey();
    const label = unique();
    const first = await send(`/outcome?label=${label}&mode=204`, { key, token });
    expect(first.status).toBe(204);
    const second = await send(`/outcome?label=${label}&mode=204`, { key, token });
    expect(second.status).toBe(204);
    expect(second.replayed).toBe(true);
    expect(second.text).toBe("");
    expect(executions.get(label)).toBe(1);
  });
});

describe("Idempotency-Key: mismatches and scope", () => {
  it("rejects the same key with a different body or path: 422 IDEMPOTENCY_KEY_REUSED", async () => {
    const key = newKey();
    const body = city();
    expect((await send("/cities", { key, token, body })).status).toBe(201);
    const otherBody = await send("/cities", { key, token, body: { ...body, countryCode: "IE" } });
    expect(otherBody.status).toBe(422);
    expect(otherBody.json.error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", details: { idempotencyKey: key } });
    const otherPath = await send(`/outcome?label=${unique()}&mode=422`, { key, token, rawBody: JSON.stringify(body) });
    expect(otherPath.status).toBe(422);
    expect(otherPath.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Whitespace changes the request too: the hash is over the exact body text.
    const reformatted = await send("/cities", { key, token, rawBody: JSON.stringify(body, null, 2) });
    expect(reformatted.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(executions.get(body.name)).toBe(1);
  });

  it("scopes keys per caller: two callers with one key both execute", async () => {
    const key = newKey();
    const other = await tokenFor("customer");
    const a = await send("/cities", { key, token, body: city() });
    const b = await send("/cities", { key, token: other, body: city() });
    const guest = await send("/cities", { key, body: city() });
    for (const res of [a, b, guest]) {
      expect(res.status).toBe(201);
      expect(res.replayed).toBe(false);
      expect(res.json.execution).toBe(1);
    }
    expect(guest.json.idempotency).toMatchObject({ scope: "guest", key });
    // Different callers, different ids for what they create.
    expect(new Set([a.json.id, b.json.id, guest.json.id]).size).toBe(3);
  });
});

describe("Idempotency-Key: concurrency", () => {
  it("executes once when 10 requests with one key arrive together", async () => {
    const key = newKey();
    const body = city();
    const results = await Promise.all(Array.from({ length: 10 }, () => send("/cities", { key, token, body, delayMs: 150 })));
    expect(executions.get(body.name)).toBe(1);
    expect(await citiesNamed(body.name)).toHaveLength(1);

    const executed = results.filter((r) => r.status === 201 && !r.replayed);
    expect(executed).toHaveLength(1);
    for (const res of results) {
      if (res === executed[0]) continue;
      if (res.status === 409) {
        expect(res.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
        expect(res.json.error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(res.headers.get("Retry-After")).toBe(String(res.json.error.details.retryAfterSeconds));
      } else {
        expect(res.status).toBe(201);
        expect(res.replayed).toBe(true);
        expect(res.text).toBe(executed[0]!.text);
      }
    }
    expect(results.filter((r) => r.status === 409).length).toBeGreaterThan(0);

    // Once it has finished, a retry gets the first response.
    const retry = await send("/cities", { key, token, body });
    expect(retry.replayed).toBe(true);
    expect(retry.text).toBe(executed[0]!.text);
  });
});

describe("Idempotency-Key: which outcomes are kept", () => {
  it("replays 4xx answers from the route", async () => {
    const key = newKey();
    const label = unique();
    const first = await send(`/outcome?label=${label}&mode=422`, { key, token });
    expect(first.status).toBe(422);
    expect(first.json.error.code).toBe("INVALID_REFERENCE");
    const second = await send(`/outcome?label=${label}&mode=422`, { key, token });
    expect(second.status).toBe(422);
    expect(second.replayed).toBe(true);
    expect(second.text).toBe(first.text);
    expect(executions.get(label)).toBe(1);
  });

  it.each([
    ["429", "429"],
    ["a 409 IDEMPOTENCY_IN_PROGRESS from downstream", "in-progress"],
  ])("keeps nothing after %s, so a retry executes again", async (_, mode) => {
    const key = newKey();
    const label = unique();
    const first = await send(`/outcome?label=${label}&mode=${mode}`, { key, token });
    expect(first.replayed).toBe(false);
    expect(await keyRow(scope, key)).toBeUndefined();
    const second = await send(`/outcome?label=${label}&mode=${mode}`, { key, token });
    expect(second.replayed).toBe(false);
    expect(second.status).toBe(first.status);
    expect(executions.get(label)).toBe(2);
  });

  it.each([
    ["a returned 500", "500"],
    ["a thrown error", "throw"],
  ])("after %s keeps the key and its seed but lets the lease go, so a retry executes again under the same ids", async (_, mode) => {
    // The app logs unhandled errors; expected here.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const key = newKey();
    const label = unique();
    const first = await send(`/outcome?label=${label}&mode=${mode}`, { key, token });
    expect(first.replayed).toBe(false);
    const kept = await keyRow(scope, key);
    expect(kept).toMatchObject({ status: "in_progress" });
    expect(kept!.leaseUntil.getTime()).toBeLessThanOrEqual(Date.now());
    const second = await send(`/outcome?label=${label}&mode=${mode}`, { key, token });
    expect(second.replayed).toBe(false);
    expect(second.status).toBe(first.status);
    expect(executions.get(label)).toBe(2);
    expect((await keyRow(scope, key))?.seed).toBe(kept!.seed);
  });
});

describe("Idempotency-Key: leases and expiry", () => {
  it("answers 409 while another request holds the key, and takes over a claim whose lease ran out", async () => {
    const key = newKey();
    const body = city();
    const first = await send("/cities", { key, token, body });
    // Make it look as if the request were still running (it crashed without finishing).
    await db
      .update(idempotencyKeys)
      .set({ status: "in_progress", responseStatus: null, responseBody: null, leaseUntil: new Date(Date.now() + 30_000) })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    const busy = await send("/cities", { key, token, body });
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
    expect(Number(busy.headers.get("Retry-After"))).toBeGreaterThan(25);
    expect(Number(busy.headers.get("Retry-After"))).toBeLessThanOrEqual(30);

    await db
      .update(idempotencyKeys)
      .set({ leaseUntil: new Date(Date.now() - 1) })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    const takeover = await send("/cities", { key, token, body });
    expect(takeover.status).toBe(201);
    expect(takeover.replayed).toBe(false);
    expect(executions.get(body.name)).toBe(2);
    // Same caller and key, same id: the takeover re-did the same write, not a second one.
    expect(takeover.json.id).toBe(first.json.id);
    expect(await citiesNamed(body.name)).toHaveLength(1);
    expect(await keyRow(scope, key)).toMatchObject({ status: "completed", responseBody: takeover.text });

    const replay = await send("/cities", { key, token, body });
    expect(replay.replayed).toBe(true);
    expect(replay.text).toBe(takeover.text);
  });

  it("a slow original that lost its lease does not overwrite the record of the request that took over", async () => {
    const key = newKey();
    const body = city();
    // The original finishes while the takeover is still running.
    const original = send("/cities", { key, token, body, delayMs: 250 });
    await sleep(80);
    await db
      .update(idempotencyKeys)
      .set({ leaseUntil: new Date(Date.now() - 1) })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    const takeover = send("/cities", { key, token, body, delayMs: 400 });
    const [first, second] = await Promise.all([original, takeover]);
    expect(first.json.execution).toBe(1);
    expect(second.json.execution).toBe(2);
    expect(first.text).not.toBe(second.text);
    expect(await keyRow(scope, key)).toMatchObject({ status: "completed", responseBody: second.text });
  });

  it("treats an expired key as absent: the request executes, even with a different body", async () => {
    const key = newKey();
    expect((await send("/cities", { key, token, body: city() })).status).toBe(201);
    await db
      .update(idempotencyKeys)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    const body = city();
    const fresh = await send("/cities", { key, token, body });
    expect(fresh.status).toBe(201);
    expect(fresh.replayed).toBe(false);
    expect(fresh.json.execution).toBe(1);
    const row = await keyRow(scope, key);
    expect(row).toMatchObject({ status: "completed", responseBody: fresh.text });
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 47 * 3600_000);
  });

  it("keeps keys 48 hours, and purges them after", async () => {
    const key = newKey();
    await send("/cities", { key, token, body: city() });
    const row = (await keyRow(scope, key))!;
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeGreaterThanOrEqual(48 * 3600_000 - 1000);
    await purgeExpiredIdempotencyKeys(db, new Date(row.expiresAt.getTime() - 1000));
    expect(await keyRow(scope, key)).toBeDefined();
    expect(await purgeExpiredIdempotencyKeys(db, new Date(row.expiresAt.getTime() + 1))).toBeGreaterThanOrEqual(1);
    expect(await keyRow(scope, key)).toBeUndefined();
  });
});

describe("Idempotency-Key: the header itself", () => {
  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["with a space", "my key"],
    ["with a tab", "my\tkey"],
    ["with a control character", "key\x7f"],
  ])("answers 400 VALIDATION_FAILED for a key that is %s", async (_, key) => {
    const res = await send("/cities", { key, token, body: city() });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { location: "header", issues: [expect.objectContaining({ path: "Idempotency-Key" })] },
    });
  });

  it("accepts 255 visible ASCII characters", async () => {
    const key = `${"~".repeat(223)}${crypto.randomUUID().replaceAll("-", "")}`;
    expect(key).toHaveLength(255);
    const res = await send("/cities", { key, token, body: city() });
    expect(res.status).toBe(201);
  });
});

describe("IdempotencyKeyHeader", () => {
  it("documents the header on a route that declares it", async () => {
    const res = await app.fetch(new Request("http://localhost/api/v1/openapi.json"), env);
    const doc = (await res.json()) as { paths: Record<string, { post: { parameters: { name: string; in: string }[] } }> };
    expect(doc.paths["/idem-test/cities"]!.post.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
  });
});

describe("ids from the seed", () => {
  it("gives a key used again after it was purged a new id, so it can never reach the old record", async () => {
    const key = newKey();
    const first = await send("/cities", { key, token, body: city() });
    await purgeExpiredIdempotencyKeys(db, new Date(Date.now() + 49 * 3600_000));
    const second = await send("/cities", { key, token, body: city() });
    expect(second.replayed).toBe(false);
    expect(second.json.id).not.toBe(first.json.id);
  });

  it("keeps the seed when a dead request's claim is taken over", async () => {
    const key = newKey();
    const body = city();
    const original = send("/cities", { key, token, body, delayMs: 300 });
    await sleep(60);
    const claimed = await keyRow(scope, key);
    await db
      .update(idempotencyKeys)
      .set({ leaseUntil: new Date(Date.now() - 1) })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    const takeover = await send("/cities", { key, token, body });
    await original;
    expect(takeover.json.id).toBe(idFromSeed("cty", claimed!.seed));
  });
});

describe("Idempotency-Key: routes whose writes a Durable Object records", () => {
  // Bookings, holds, cancellations and offer acceptances keep the key beside the write, in the
  // object's transaction: for them the middleware only checks the key and hashes the request.
  const objectRoutes = createRouter().post("/write", (c) => c.json({ idempotency: c.get("idempotency") ?? null, execution: count(c.req.query("label") ?? "") }, 201));
  const objectApp = createApp();
  objectApp.use("/idem-objects/*", authenticate());
  objectApp.use("/idem-objects/*", idempotency({ recordedByObjects: [/^\/idem-objects\/write$/] }));
  objectApp.route("/idem-objects", objectRoutes);

  async function write(label: string, options: { key?: string; body?: unknown; manageToken?: string; auth?: string } = {}) {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (options.key !== undefined) headers["Idempotency-Key"] = options.key;
    if (options.manageToken) headers["X-Manage-Token"] = options.manageToken;
    if (options.auth) headers.Authorization = `Bearer ${options.auth}`;
    const response = await objectApp.fetch(
      new Request(`http://localhost/idem-objects/write?label=${encodeURIComponent(label)}`, { method: "POST", headers, body: JSON.stringify(options.body ?? {}) }),
      env,
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, json: (await response.json()) as any, replayed: response.headers.get("Idempotent-Replayed") === "true" };
  }

  it("passes every request through with the key, its scope and a hash of the request, and writes no D1 record", async () => {
    const key = newKey();
    const label = `objects-${unique()}`;
    const first = await write(label, { key, auth: token, body: { seats: 1 } });
    const again = await write(label, { key, auth: token, body: { seats: 1 } });
    expect([first.status, again.status]).toEqual([201, 201]);
    // The object decides about repeats: the middleware neither replays nor claims.
    expect([first.replayed, again.replayed]).toEqual([false, false]);
    expect(executions.get(label)).toBe(2);
    expect(first.json.idempotency).toEqual({ scope, key, seed: "", requestHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The same request hashes the same, so the object can replay it.
    expect(again.json.idempotency.requestHash).toBe(first.json.idempotency.requestHash);
    expect(await keyRow(scope, key)).toBeUndefined();
  });

  it("hashes the body and the manage token into the request, so a repeat without the credential is another request", async () => {
    const key = newKey();
    const label = `objects-${unique()}`;
    const base = (await write(label, { key, body: { seats: 1 }, manageToken: "secret-token" })).json.idempotency;
    const otherBody = (await write(label, { key, body: { seats: 2 }, manageToken: "secret-token" })).json.idempotency;
    const noToken = (await write(label, { key, body: { seats: 1 } })).json.idempotency;
    expect(base.scope).toBe("guest");
    expect(otherBody.requestHash).not.toBe(base.requestHash);
    expect(noToken.requestHash).not.toBe(base.requestHash);
    expect(await keyRow("guest", key)).toBeUndefined();
  });

  it("still refuses a malformed key (400), before the route runs", async () => {
    const label = `objects-${unique()}`;
    const res = await write(label, { key: "my key", auth: token });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "VALIDATION_FAILED", details: { location: "header" } });
    expect(executions.get(label)).toBeUndefined();
  });
});
