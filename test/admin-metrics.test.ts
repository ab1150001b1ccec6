import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDays, dayRange, previousDay } from "../src/domain/metric-periods";
import { rollupDay, rollupWeek } from "../src/jobs/rollups";
import { makeClass } from "./fixtures";
import { call, eventuallyPasses as eventually, tokenFor } from "./helpers";
import { event, insertEvents, metricRows, testMonday } from "./metrics-helpers";

const admin = () => tokenFor("admin");
const staff = () => tokenFor("staff");


const value = (rows: Awaited<ReturnType<typeof metricRows>>, metric: string, scope = "all", scopeId = "") =>
  rows.find((row) => row.metric === metric && row.scope === scope && row.scope_id === scopeId)?.value;

describe("POST /api/v1/admin/metrics/rollup (backfill)", () => {
  it("splits a daily range into one queue message per day, and the consumer writes each day's rows", async () => {
    const monday = testMonday();
    const days = [addDays(monday, 1), addDays(monday, 2), addDays(monday, 3)];
    await insertEvents(days.flatMap((day, i) => Array.from({ length: i + 1 }, () => event("COURSE_VIEWED", dayRange(day).startMs + 3600_000))));

    const res = await call("POST", "/api/v1/admin/metrics/rollup", { token: await admin(), body: { startDate: days[0], endDate: days[2], granularity: "daily" } });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ granularity: "daily", startDate: days[0], endDate: days[2], chunks: 3, firstPeriod: days[0], lastPeriod: days[2] });
    expect(res.json.backfillId).toMatch(/^bfl_/);

    for (const [i, day] of days.entries()) {
      await eventually(async () => expect(value(await metricRows("daily", day), "funnel.views")).toBe(i + 1));
    }
    expect(await metricRows("daily", addDays(monday, 4))).toEqual([]);
  });

  it("splits a weekly range into its ISO weeks; each chunk rolls up its days again, then the week", async () => {
    const monday = testMonday();
    const nextMonday = addDays(monday, 7);
    const klass = await makeClass();
    await insertEvents([
      event("BOOKING_CONFIRMED", dayRange(addDays(monday, 6)).endMs - 1, { classId: klass.id, studioId: klass.studioId, seats: 2, amountPence: 5000, source: "web" }),
      event("BOOKING_CONFIRMED", dayRange(nextMonday).startMs, { classId: klass.id, seats: 1, amountPence: 2500, source: "app" }),
    ]);
    // A stale daily row from an earlier run: the weekly backfill recomputes the days.
    await rollupDay(env.DB, addDays(monday, 6), dayRange(addDays(monday, 7)).startMs);
    await env.DB.prepare(`UPDATE metrics SET value = 999 WHERE granularity = 'daily' AND period_start = ? AND metric = 'bookings.value_pence' AND scope = 'all'`)
      .bind(addDays(monday, 6))
      .run();

    const res = await call("POST", "/api/v1/admin/metrics/rollup", { token: await admin(), body: { startDate: addDays(monday, 3), endDate: addDays(nextMonday, 1), granularity: "weekly" } });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ chunks: 2, firstPeriod: monday, lastPeriod: nextMonday });

    const week1 = await eventually(async () => {
      const rows = await metricRows("weekly", monday);
      expect(value(rows, "bookings.value_pence")).toBe(5000);
      return rows;
    });
    expect(value(week1, "bookings.value_pence", "studio", klass.studioId)).toBe(5000);
    expect(value(await metricRows("daily", addDays(monday, 6)), "bookings.value_pence")).toBe(5000);
    const week2 = await eventually(async () => {
      const rows = await metricRows("weekly", nextMonday);
      expect(value(rows, "bookings.value_pence")).toBe(2500);
      return rows;
    });
    // The studio came from the class: the event did not carry it.
    expect(value(week2, "bookings.value_pence", "studio", klass.studioId)).toBe(2500);
    expect(week2.find((r) => r.metric === "bookings.value_pence_by_source" && r.dimension === "app" && r.scope === "all")?.value).toBe(2500);
  });

  it("refuses bad ranges with 400 and field paths", async () => {
    const token = await admin();
    const yesterday = previousDay(Date.now());
    const today = addDays(yesterday, 1);
    const cases: [unknown, string][] = [
      [{ startDate: "2024-02-30", endDate: "2024-03-01", granularity: "daily" }, "startDate"],
      [{ startDate: "2024-03-02", endDate: "2024-03-01", granularity: "daily" }, "endDate"],
      [{ startDate: "2022-01-01", endDate: "2023-01-02", granularity: "daily" }, "endDate"],
      [{ startDate: yesterday, endDate: today, granularity: "daily" }, "endDate"],
      [{ startDate: "2024-03-01", endDate: "2024-03-02", granularity: "monthly" }, "granularity"],
      [{ startDate: "2024-03-01", granularity: "daily" }, "endDate"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/api/v1/admin/metrics/rollup", { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await call("POST", "/api/v1/admin/metrics/rollup", { token, rawBody: "{not json" })).json.error.code).toBe("INVALID_JSON");
  });

  it("is for admins only", async () => {
    const body = { startDate: "2024-03-01", endDate: "2024-03-01", granularity: "daily" };
    expect((await call("POST", "/api/v1/admin/metrics/rollup", { body })).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/metrics/rollup", { token: await staff(), body })).status).toBe(403);
    expect((await call("POST", "/api/v1/admin/metrics/rollup", { token: await tokenFor("customer"), body })).status).toBe(403);
  });
});

describe("GET /api/v1/admin/metrics", () => {
  it("weekly: a startDate in the middle of a week includes that week (weeks are kept under their Monday)", async () => {
    const monday = testMonday();
    await insertEvents([event("COURSE_VIEWED", dayRange(addDays(monday, 1)).startMs + 1000)]);
    await rollupWeek(env.DB, monday, "missing");
    const token = await staff();
    const read = (startDate: string) => call("GET", `/api/v1/admin/metrics?granularity=weekly&startDate=${startDate}&endDate=${addDays(monday, 6)}&metric=funnel.views`, { token });
    for (const startDate of [monday, addDays(monday, 3), addDays(monday, 6)]) {
      const response = await read(startDate);
      expect(response.status).toBe(200);
      expect(response.json.data, startDate).toEqual([expect.objectContaining({ granularity: "weekly", periodStart: monday, value: 1 })]);
    }
  });

  it("reads the overall rows of a range, or one studio's, with rates worked out", async () => {
    const monday = testMonday();
    const klass = await makeClass();
    const day = addDays(monday, 1);
    const at = dayRange(day).startMs + 1000;
    const attempt = (outcome: string) => event("CHECKOUT_STARTED", at, { classId: klass.id, data: { origin: "booking", outcome } });
    await insertEvents([
      attempt("accepted"),
      attempt("rejected"),
      attempt("rejected"),
      attempt("rejected"),
      event("BOOKING_CONFIRMED", at, { classId: klass.id, seats: 1, amountPence: 2000 }),
    ]);
    await rollupDay(env.DB, day);
    await rollupDay(env.DB, addDays(day, 1));
    const token = await staff();

    const overall = await call("GET", `/api/v1/admin/metrics?startDate=${day}&endDate=${addDays(day, 1)}&metric=funnel.checkout_to_booking`, { token });
    expect(overall.status).toBe(200);
    expect(overall.json.data).toEqual([
      expect.objectContaining({ granularity: "daily", periodStart: day, scope: "all", scopeId: "", value: 1, denominator: 4, rate: 0.25 }),
      expect.objectContaining({ periodStart: addDays(day, 1), value: 0, denominator: 0, rate: null }),
    ]);

    const studio = await call("GET", `/api/v1/admin/metrics?granularity=daily&startDate=${day}&endDate=${day}&studioId=${klass.studioId}`, { token });
    expect(studio.status).toBe(200);
    const metrics = Object.fromEntries(studio.json.data.map((m: { metric: string; value: number }) => [m.metric, m.value]));
    expect(metrics).toMatchObject({ "funnel.checkouts": 4, "bookings.confirmed": 1, "bookings.value_pence": 2000 });
    expect(studio.json.data.every((m: { scope: string; scopeId: string }) => m.scope === "studio" && m.scopeId === klass.studioId)).toBe(true);
    expect(studio.json.data.find((m: { metric: string }) => m.metric === "bookings.value_pence")).toMatchObject({ denominator: null, rate: null });
  });

  it("pages with a cursor without losing or repeating a row", async () => {
    const monday = testMonday();
    for (const day of [monday, addDays(monday, 1)]) await rollupDay(env.DB, day);
    const token = await staff();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/admin/metrics?startDate=${monday}&endDate=${addDays(monday, 1)}&limit=7${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call("GET", url, { token });
      expect(res.status).toBe(200);
      seen.push(...res.json.data.map((m: { periodStart: string; metric: string; dimension: string }) => `${m.periodStart}/${m.metric}/${m.dimension}`));
      cursor = res.json.nextCursor;
    } while (cursor);
    const expected = [...(await metricRows("daily", monday)), ...(await metricRows("daily", addDays(monday, 1)))].length;
    expect(seen.length).toBe(expected);
    expect(new Set(seen).size).toBe(expected);
  });

  it("validates its query and needs staff or admin", async () => {
    const token = await staff();
    const bad = [
      "startDate=2024-01-01",
      "startDate=2024-01-01&endDate=2024-13-01",
      "startDate=2024-02-01&endDate=2024-01-01",
      "startDate=2020-01-01&endDate=2024-01-01",
      "startDate=2024-01-01&endDate=2024-01-02&studioId=a&classId=b",
      "startDate=2024-01-01&endDate=2024-01-02&granularity=hourly",
      "startDate=2024-01-01&endDate=2024-01-02&metric=nope",
      "startDate=2024-01-01&endDate=2024-01-02&cursor=not-a-cursor",
    ];
    for (const query of bad) {
      const res = await call("GET", `/api/v1/admin/metrics?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await call("GET", "/api/v1/admin/metrics?startDate=2024-01-01&endDate=2024-01-02")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/metrics?startDate=2024-01-01&endDate=2024-01-02", { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/metrics?startDate=2024-01-01&endDate=2024-01-02", { token: await admin() })).status).toBe(200);
  });
});
