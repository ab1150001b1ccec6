/** POST /api/v1/demand/signals: validated, rate-limited per client, written through the events Queue. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nextClientIp, uniqueEmail } from "./booking-helpers";
import { makeCity, makeClass, makeCustomer } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";

function postSignal(body: unknown, options: { ip?: string; token?: string } = {}) {
  return call("POST", "/api/v1/demand/signals", { body, token: options.token, headers: { "CF-Connecting-IP": options.ip ?? nextClientIp() } });
}

const signalRow = (id: string) => eventually(() => env.DB.prepare("SELECT * FROM demand_signals WHERE id = ?").bind(id).first<Record<string, unknown>>());

describe("POST /api/v1/demand/signals", () => {
  it("accepts a course view (202 with the event id) and writes the signal in the course's city", async () => {
    const klass = await makeClass();
    const studio = await env.DB.prepare("SELECT city_id FROM studios WHERE id = ?").bind(klass.studioId).first<{ city_id: string }>();
    const response = await postSignal({ courseId: klass.id, signalType: "COURSE_VIEW", metadata: { from: "search", position: 3, promoted: false, campaign: null } });
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ eventId: expect.stringMatching(/^evt_/), signalType: "COURSE_VIEW", courseId: klass.id, cityId: studio!.city_id });

    const signal = await signalRow(response.json.eventId);
    expect(signal).toMatchObject({ signal_type: "COURSE_VIEW", course_id: klass.id, city_id: studio!.city_id, user_id: null, reason: null });
    expect(JSON.parse(String(signal.metadata))).toEqual({ from: "search", position: 3, promoted: false, campaign: null, origin: "client" });
    const event = await env.DB.prepare("SELECT type, studio_id FROM events WHERE id = ?").bind(response.json.eventId).first();
    expect(event).toEqual({ type: "COURSE_VIEWED", studio_id: klass.studioId });
  });

  it("links a checkout start to the customer of a customer token, in the city the client names", async () => {
    const klass = await makeClass();
    const city = await makeCity();
    const email = uniqueEmail("signal");
    const customer = await makeCustomer(email);
    const response = await postSignal({ courseId: klass.id, signalType: "CHECKOUT_STARTED", cityId: city.id }, { token: await tokenFor("customer", email) });
    expect(response.status).toBe(202);
    const signal = await signalRow(response.json.eventId);
    expect(signal).toMatchObject({ signal_type: "CHECKOUT_STARTED", user_id: customer.id, city_id: city.id });
  });

  it("refuses bad bodies with 400 and the paths at fault", async () => {
    const klass = await makeClass();
    const cases: [unknown, string[]][] = [
      [{}, ["courseId", "signalType"]],
      [{ courseId: klass.id, signalType: "PURCHASE_BLOCKED" }, ["signalType"]],
      [{ courseId: "", signalType: "COURSE_VIEW" }, ["courseId"]],
      [{ courseId: klass.id, signalType: "COURSE_VIEW", cityId: 7 }, ["cityId"]],
      [{ courseId: klass.id, signalType: "COURSE_VIEW", metadata: { nested: { deep: true } } }, ["metadata.nested"]],
      [{ courseId: klass.id, signalType: "COURSE_VIEW", metadata: { note: "x".repeat(201) } }, ["metadata.note"]],
      [{ courseId: klass.id, signalType: "COURSE_VIEW", metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, ["metadata"]],
      [{ courseId: klass.id, signalType: "COURSE_VIEW", metadata: ["a"] }, ["metadata"]],
    ];
    for (const [body, paths] of cases) {
      const response = await postSignal(body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      const issuePaths = response.json.error.details.issues.map((issue: { path: string }) => issue.path);
      for (const path of paths) expect(issuePaths).toContain(path);
    }
    const notJson = await call("POST", "/api/v1/demand/signals", { rawBody: "{nope", headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(notJson.status).toBe(400);
  });

  it("404 for an unknown course, 422 INVALID_REFERENCE for an unknown city; neither writes anything", async () => {
    const unknownCourse = await postSignal({ courseId: "cls_nope", signalType: "COURSE_VIEW" });
    expect(unknownCourse.status).toBe(404);
    expect(unknownCourse.json.error).toMatchObject({ code: "NOT_FOUND", details: { resource: "Course", id: "cls_nope" } });

    const klass = await makeClass();
    const unknownCity = await postSignal({ courseId: klass.id, signalType: "COURSE_VIEW", cityId: "cty_nope" });
    expect(unknownCity.status).toBe(422);
    expect(unknownCity.json.error).toMatchObject({ code: "INVALID_REFERENCE", details: { field: "cityId", missing: ["cty_nope"] } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM demand_signals WHERE course_id = ?").bind(klass.id).first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("answers 429 RATE_LIMITED once a client address floods it (SIGNAL_RATE_LIMITER, 60 a minute); other clients are unaffected", async () => {
    const klass = await makeClass();
    const ip = nextClientIp();
    let limited;
    let accepted = 0;
    for (let i = 0; i < 80 && !limited; i++) {
      const response = await postSignal({ courseId: klass.id, signalType: "COURSE_VIEW" }, { ip });
      if (response.status === 429) limited = response;
      else if (response.status === 202) accepted++;
    }
    expect(limited?.json.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "client", retryAfterSeconds: 60 } });
    expect(accepted).toBeGreaterThanOrEqual(50);
    expect(accepted).toBeLessThanOrEqual(60);
    expect((await postSignal({ courseId: klass.id, signalType: "COURSE_VIEW" })).status).toBe(202);
    // What was refused was never written: the signals are the accepted ones (and the last one).
    const { n } = await eventually(async () => {
      const row = (await env.DB.prepare("SELECT count(*) AS n FROM demand_signals WHERE course_id = ?").bind(klass.id).first<{ n: number }>())!;
      return row.n === accepted + 1 ? row : undefined;
    });
    expect(n).toBe(accepted + 1);
  });
});

describe("OpenAPI", () => {
  it("documents the signal route (public) and the analytics route (bearer)", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const post = doc.paths["/api/v1/demand/signals"]?.post;
    expect(post.security ?? []).toEqual([]);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(["202", "400", "404", "422", "429"]));
    const get = doc.paths["/api/v1/admin/demand/analytics"]?.get;
    expect(get.security).toEqual([{ bearerAuth: [] }]);
    const params = get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(["courseId", "cityId", "startDate", "endDate"]));
  });
});
