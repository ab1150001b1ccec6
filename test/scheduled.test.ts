import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { addDays, dayRange } from "../src/domain/metric-periods";
import { rollupDay } from "../src/jobs/rollups";
import { DAILY_ROLLUP, HOURLY, WEEKLY_ROLLUP } from "../src/jobs/scheduled";
import { makeClass } from "./fixtures";
import { event, insertEvents, metricRows, testMonday } from "./metrics-helpers";
import { eventuallyPasses as eventually } from "./helpers";

// The loopback binding's types omit the extra handlers that service_binding_extra_handlers enables.
const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };


const overall = (rows: Awaited<ReturnType<typeof metricRows>>, metric: string) => rows.find((r) => r.metric === metric && r.scope === "all")?.value;

describe("the scheduled handler, for each cron expression in wrangler.toml", () => {
  it(`${DAILY_ROLLUP}: rolls up yesterday (UTC) and, for events that arrived late, the day before, through the rollup queue`, async () => {
    const monday = testMonday();
    const yesterday = addDays(monday, 2);
    const dayBefore = addDays(monday, 1);
    const { startMs, endMs } = dayRange(yesterday);
    await insertEvents([event("COURSE_VIEWED", startMs), event("COURSE_VIEWED", endMs - 1), event("COURSE_VIEWED", endMs)]);
    // The day before was rolled up by yesterday's cron; an event for it arrived afterwards.
    await rollupDay(env.DB, dayBefore, endMs);
    await insertEvents([event("COURSE_VIEWED", dayRange(dayBefore).startMs + 1000)]);
    await worker.scheduled({ cron: DAILY_ROLLUP, scheduledTime: endMs + 3600_000 });
    await eventually(async () => expect(overall(await metricRows("daily", yesterday), "funnel.views")).toBe(2));
    await eventually(async () => expect(overall(await metricRows("daily", dayBefore), "funnel.views")).toBe(1));
    expect(await metricRows("daily", addDays(yesterday, 1))).toEqual([]);
    expect(await metricRows("daily", addDays(dayBefore, -1))).toEqual([]);
  });

  it(`${WEEKLY_ROLLUP}: rolls up the previous ISO week, rolling up the days it still misses`, async () => {
    const monday = testMonday();
    const nextMonday = addDays(monday, 7);
    const klass = await makeClass();
    await insertEvents([
      event("BOOKING_CONFIRMED", dayRange(monday).startMs, { classId: klass.id, amountPence: 1000, seats: 1 }),
      event("BOOKING_CONFIRMED", dayRange(addDays(monday, 6)).endMs - 1, { classId: klass.id, amountPence: 2000, seats: 1 }),
      event("BOOKING_CONFIRMED", dayRange(nextMonday).startMs, { classId: klass.id, amountPence: 4000, seats: 1 }),
    ]);
    await worker.scheduled({ cron: WEEKLY_ROLLUP, scheduledTime: dayRange(nextMonday).startMs + 2 * 3600_000 });
    const weekly = await eventually(async () => {
      const rows = await metricRows("weekly", monday);
      expect(overall(rows, "bookings.value_pence")).toBe(3000);
      return rows;
    });
    expect(weekly.find((r) => r.metric === "bookings.value_pence" && r.scope === "studio")).toMatchObject({ scope_id: klass.studioId, value: 3000 });
    for (let i = 0; i < 7; i++) expect(overall(await metricRows("daily", addDays(monday, i)), "events.total")).toBeDefined();
    expect(await metricRows("weekly", nextMonday)).toEqual([]);
  });

  it(`${HOURLY}: runs the alert checks (and reconciliation and the idempotency purge)`, async () => {
    const klass = await makeClass();
    const now = dayRange(testMonday()).startMs + 5 * 3600_000;
    await insertEvents(Array.from({ length: 5 }, (_, i) => event("PURCHASE_BLOCKED", now - (i + 1) * 3600_000, { classId: klass.id, code: "NO_TRAINER" })));
    await worker.scheduled({ cron: HOURLY, scheduledTime: now });
    const alert = await env.DB.prepare(`SELECT status, occurrences FROM alerts WHERE type = 'HIRE_TRAINER' AND subject_key = ?`).bind(`class:${klass.id}`).first();
    expect(alert).toEqual({ status: "open", occurrences: 1 });
  });

  it("logs and ignores a cron it has no job for", async () => {
    const logs = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await worker.scheduled({ cron: "*/5 * * * *", scheduledTime: Date.now() });
      expect(logs.mock.calls.some(([line]) => String(line).includes("no job for cron"))).toBe(true);
    } finally {
      logs.mockRestore();
    }
  });
});
