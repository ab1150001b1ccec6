/**
 * Monitoring metrics of issue 12: the no-show rate per class and studio (net of undo), notification
 * metrics by message kind, and the latest daily and weekly snapshot
 * (GET /api/v1/admin/metrics/latest), each against generated events and a straightforward recount.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { addDays, dayRange, weekStartOf } from "../src/domain/metric-periods";
import type { DomainEvent } from "../src/domain/events";
import { rollupDay, rollupWeek } from "../src/jobs/rollups";
import { notificationEvent } from "../src/services/communications";
import { makeClass, makeSession, makeStudio } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { byKey, event, insertEvents, metricRows, seededRandom, testMonday } from "./metrics-helpers";

const NOW = Date.now();
type Status = "booked" | "checked_in" | "no_show";
const EVENT_OF: Record<Status, "ATTENDED" | "NO_SHOW" | "ATTENDANCE_UNDONE"> = { checked_in: "ATTENDED", no_show: "NO_SHOW", booked: "ATTENDANCE_UNDONE" };

let staff: string;
beforeAll(async () => {
  staff = await tokenFor("staff");
});

/** Two studios, three classes (two in the first studio), a session of each on `day`. */
async function catalog(day: string) {
  const [studioA, studioB] = [await makeStudio(), await makeStudio()];
  const classes = [await makeClass({ studioId: studioA.id }), await makeClass({ studioId: studioA.id }), await makeClass({ studioId: studioB.id })];
  const sessions = [];
  for (const klass of classes) sessions.push(await makeSession(klass.id, { startsAt: new Date(dayRange(day).startMs + 10 * 3600_000) }));
  return { studios: [studioA.id, studioB.id], classes, sessions };
}

/**
 * Attendees of the day's sessions, each marked one to four times (check-in, no-show, undo back to
 * booked, or a switch), every change an event carrying the status it replaced, as the roster
 * routes and the no-show sweep send them. Half the events name their class and studio, the rest
 * only their session. Returns the events and each attendee's final status.
 */
function generateAttendance(seed: number, day: string, cat: Awaited<ReturnType<typeof catalog>>, attendees: number) {
  const random = seededRandom(seed);
  const { startMs } = dayRange(day);
  const events: DomainEvent[] = [];
  const finals: { classId: string; studioId: string; status: Status }[] = [];
  for (let a = 0; a < attendees; a++) {
    const index = Math.floor(random() * cat.classes.length);
    const klass = cat.classes[index]!;
    const session = cat.sessions[index]!;
    const bookingId = `bkg_att_${seed}_${a}`;
    let status: Status = "booked";
    let at = startMs + 9 * 3600_000 + Math.floor(random() * 3600_000);
    for (let step = 0, steps = 1 + Math.floor(random() * 4); step < steps; step++) {
      const options = (["checked_in", "no_show", "booked"] as Status[]).filter((next) => next !== status);
      const next = options[Math.floor(random() * options.length)]!;
      const where = random() < 0.5 ? { sessionId: session.id, classId: klass.id, studioId: klass.studioId } : { sessionId: session.id };
      events.push(event(EVENT_OF[next], (at += 60_000), { ...where, bookingId, data: { attendeeId: `${bookingId}_1`, previousStatus: status } }));
      status = next;
    }
    finals.push({ classId: klass.id, studioId: klass.studioId, status });
  }
  return { events, finals };
}

describe("attendance metrics: the no-show rate per class and studio", () => {
  it("counts each attendee's final mark of the day, net of undo and switches, per class, studio and overall", async () => {
    const day = addDays(testMonday(), 2);
    const cat = await catalog(day);
    const { events, finals } = generateAttendance(20261203, day, cat, 120);
    await insertEvents(events);
    await rollupDay(env.DB, day, NOW);

    const rows = byKey((await metricRows("daily", day)).filter((row) => row.metric.startsWith("attendance.")));
    const expected: Record<string, [number, number | null]> = {};
    const scopes: [string, string, (f: (typeof finals)[number]) => boolean][] = [
      ["all", "", () => true],
      ...cat.studios.map((id): [string, string, (f: (typeof finals)[number]) => boolean] => ["studio", id, (f) => f.studioId === id]),
      ...cat.classes.map((c): [string, string, (f: (typeof finals)[number]) => boolean] => ["class", c.id, (f) => f.classId === c.id]),
    ];
    for (const [scope, scopeId, inScope] of scopes) {
      const mine = finals.filter(inScope);
      const checkedIn = mine.filter((f) => f.status === "checked_in").length;
      const noShows = mine.filter((f) => f.status === "no_show").length;
      const put = (metric: string, value: number, denominator: number | null = null) => {
        if (scope === "all" || value !== 0 || (denominator ?? 0) !== 0) expected[`${metric}|${scope}|${scopeId}|`] = [value, denominator];
      };
      put("attendance.checked_in", checkedIn);
      put("attendance.no_shows", noShows);
      put("attendance.no_show_rate", noShows, checkedIn + noShows);
    }
    expect(rows).toEqual(expected);
    // The generated set is not trivial: some of each.
    expect(rows["attendance.no_show_rate|all||"]![0]).toBeGreaterThan(0);
    expect(rows["attendance.checked_in|all||"]![0]).toBeGreaterThan(0);
    expect(events.some((e) => e.type === "ATTENDANCE_UNDONE")).toBe(true);
  });

  it("an undo on a later day takes the mark back on that day; the week is exact", async () => {
    const monday = testMonday();
    const [tuesday, wednesday] = [addDays(monday, 1), addDays(monday, 2)];
    const cat = await catalog(tuesday);
    const klass = cat.classes[2]!;
    const where = { sessionId: cat.sessions[2]!.id, classId: klass.id, studioId: klass.studioId };
    const at = (date: string) => dayRange(date).startMs + 12 * 3600_000;
    await insertEvents([
      // Tuesday: two no-shows and a check-in. Wednesday: one no-show undone, then checked in after all.
      event("NO_SHOW", at(tuesday), { ...where, bookingId: "bkg_late_1", data: { attendeeId: "bkg_late_1_1", previousStatus: "booked" } }),
      event("NO_SHOW", at(tuesday), { ...where, bookingId: "bkg_late_2", data: { attendeeId: "bkg_late_2_1", previousStatus: "booked" } }),
      event("ATTENDED", at(tuesday), { ...where, bookingId: "bkg_late_3", data: { attendeeId: "bkg_late_3_1", previousStatus: "booked" } }),
      event("ATTENDANCE_UNDONE", at(wednesday), { ...where, bookingId: "bkg_late_1", data: { attendeeId: "bkg_late_1_1", previousStatus: "no_show" } }),
      event("ATTENDED", at(wednesday) + 1000, { ...where, bookingId: "bkg_late_1", data: { attendeeId: "bkg_late_1_1", previousStatus: "booked" } }),
    ]);
    await rollupWeek(env.DB, monday, "recompute", NOW);
    const rows = async (granularity: "daily" | "weekly", period: string) => byKey((await metricRows(granularity, period)).filter((r) => r.scope === "class" && r.scope_id === klass.id));
    expect((await rows("daily", tuesday))[`attendance.no_show_rate|class|${klass.id}|`]).toEqual([2, 3]);
    const wed = await rows("daily", wednesday);
    expect(wed[`attendance.no_shows|class|${klass.id}|`]).toEqual([-1, null]);
    expect(wed[`attendance.checked_in|class|${klass.id}|`]).toEqual([1, null]);
    // Over the week: one no-show of three marked.
    expect((await rows("weekly", monday))[`attendance.no_show_rate|class|${klass.id}|`]).toEqual([1, 3]);
  });

  it("appears in GET /api/v1/admin/metrics for a class and a studio, with its rate", async () => {
    const day = addDays(testMonday(), 4);
    const cat = await catalog(day);
    const klass = cat.classes[0]!;
    const where = { sessionId: cat.sessions[0]!.id, classId: klass.id, studioId: klass.studioId };
    const at = dayRange(day).startMs + 11 * 3600_000;
    await insertEvents([
      ...[1, 2, 3].map((i) => event("ATTENDED", at + i, { ...where, data: { attendeeId: `a_${i}`, previousStatus: "booked" } })),
      event("NO_SHOW", at + 10, { ...where, data: { attendeeId: "a_4", previousStatus: "booked" } }),
    ]);
    await rollupDay(env.DB, day, NOW);
    const forClass = await call("GET", `/api/v1/admin/metrics?startDate=${day}&endDate=${day}&classId=${klass.id}&metric=attendance.no_show_rate`, { token: staff });
    expect(forClass.status).toBe(200);
    expect(forClass.json.data).toEqual([expect.objectContaining({ scope: "class", scopeId: klass.id, metric: "attendance.no_show_rate", value: 1, denominator: 4, rate: 0.25 })]);
    const forStudio = await call("GET", `/api/v1/admin/metrics?startDate=${day}&endDate=${day}&studioId=${klass.studioId}&metric=attendance.no_shows`, { token: staff });
    expect(forStudio.json.data).toEqual([expect.objectContaining({ scope: "studio", metric: "attendance.no_shows", value: 1, denominator: null })]);
  });
});

describe("notification metrics by message kind", () => {
  it("counts sent and failed per kind (data.kind; 'unknown' without one) with a success rate per kind, summing to the totals", async () => {
    const day = addDays(testMonday(), 3);
    const random = seededRandom(4242);
    const kinds = ["booking_confirmation", "session_reminder", "waitlist_offer", null];
    const { startMs } = dayRange(day);
    const events = Array.from({ length: 300 }, (_, i) => {
      const kind = kinds[Math.floor(random() * kinds.length)];
      const type = random() < 0.8 ? "NOTIFICATION_SENT" : "NOTIFICATION_FAILED";
      return event(type, startMs + i * 1000, { email: "n@example.test", data: kind ? { kind, requestId: `ntf_${i}` } : { requestId: `ntf_${i}` } });
    });
    await insertEvents(events);
    await rollupDay(env.DB, day, NOW);
    const rows = byKey((await metricRows("daily", day)).filter((row) => row.metric.startsWith("notifications.")));

    const expected: Record<string, [number, number | null]> = {};
    let [sent, failed] = [0, 0];
    for (const kind of kinds) {
      const mine = events.filter((e) => (e.data!.kind ?? null) === kind);
      const kindSent = mine.filter((e) => e.type === "NOTIFICATION_SENT").length;
      const kindFailed = mine.length - kindSent;
      const name = kind ?? "unknown";
      if (kindSent) expected[`notifications.sent_by_kind|all||${name}`] = [kindSent, null];
      if (kindFailed) expected[`notifications.failed_by_kind|all||${name}`] = [kindFailed, null];
      expected[`notifications.success_rate_by_kind|all||${name}`] = [kindSent, mine.length];
      sent += kindSent;
      failed += kindFailed;
    }
    expected["notifications.sent|all||"] = [sent, null];
    expected["notifications.failed|all||"] = [failed, null];
    expected["notifications.success_rate|all||"] = [sent, sent + failed];
    expect(rows).toEqual(expected);
    expect(failed).toBeGreaterThan(0);
  });

  it("reads the kind the notifications consumer records on its events", async () => {
    const request = { id: "ntf_kind", kind: "waitlist_offer", recipient: { email: "K@example.test" }, channel: "email" } as unknown as Parameters<typeof notificationEvent>[1];
    const sentEvent = notificationEvent("NOTIFICATION_SENT", request, { data: { provider: "dev" } });
    expect(sentEvent.data).toMatchObject({ kind: "waitlist_offer" });
  });
});

describe("GET /api/v1/admin/metrics/latest", () => {
  it("answers the most recent day and week rolled up, every metric at scope all, with the period dates", async () => {
    // Far ahead of every other period of these tests, so it is the latest; "now" is set after it.
    const monday = weekStartOf("2090-03-08");
    const day = addDays(monday, 6);
    const later = Date.parse("2090-04-01T00:00:00Z");
    const klass = await makeClass();
    await insertEvents([
      event("BOOKING_CONFIRMED", dayRange(day).startMs + 5, { classId: klass.id, seats: 2, amountPence: 5000, source: "web" }),
      event("BOOKING_CONFIRMED", dayRange(addDays(day, -2)).startMs + 5, { classId: klass.id, seats: 1, amountPence: 2500, source: "web" }),
      event("NOTIFICATION_SENT", dayRange(day).startMs + 10, { data: { kind: "booking_confirmation" } }),
    ]);
    await rollupWeek(env.DB, monday, "recompute", later);

    const response = await call("GET", "/api/v1/admin/metrics/latest", { token: staff });
    expect(response.status).toBe(200);
    const { daily, weekly } = response.json;
    expect(daily).toMatchObject({ periodStart: day, periodEnd: day });
    expect(weekly).toMatchObject({ periodStart: monday, periodEnd: addDays(monday, 6) });
    expect(new Date(daily.computedAt).getTime()).toBe(later);

    // The same rows D1 holds for those periods at scope all, and no others.
    for (const [snapshot, granularity] of [[daily, "daily"], [weekly, "weekly"]] as const) {
      const stored = (await metricRows(granularity, snapshot.periodStart)).filter((row) => row.scope === "all");
      expect(snapshot.metrics.map((m: { metric: string; dimension: string; value: number; denominator: number | null }) => [m.metric, m.dimension, m.value, m.denominator])).toEqual(
        stored.map((row) => [row.metric, row.dimension, row.value, row.denominator]),
      );
    }
    const find = (snapshot: { metrics: { metric: string; dimension: string }[] }, metric: string, dimension = "") =>
      snapshot.metrics.find((m) => m.metric === metric && m.dimension === dimension);
    expect(find(daily, "bookings.value_pence")).toMatchObject({ value: 5000, denominator: null, rate: null });
    expect(find(weekly, "bookings.value_pence")).toMatchObject({ value: 7500 });
    expect(find(daily, "notifications.sent_by_kind", "booking_confirmation")).toMatchObject({ value: 1 });
    expect(find(daily, "notifications.success_rate")).toMatchObject({ value: 1, denominator: 1, rate: 1 });
    expect(daily.metrics.some((m: { metric: string }) => m.metric === "attendance.no_show_rate")).toBe(true);
  });

  it("is for staff and admins: a customer is refused, an anonymous caller must sign in", async () => {
    expect((await call("GET", "/api/v1/admin/metrics/latest", { token: await tokenFor("admin") })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/metrics/latest", { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/metrics/latest")).status).toBe(401);
  });
});
