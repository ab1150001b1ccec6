import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDays, dayRange, daysOfWeek } from "../src/domain/metric-periods";
import { rollupDay, rollupWeek } from "../src/jobs/rollups";
import type { DomainEvent, EventType } from "../src/domain/events";
import { makeBooking, makeCancelledBooking, makeCity, makeClass, makeSession, makeStudio } from "./fixtures";
import { byKey, event, insertEvents, metricRows, seededRandom, testMonday } from "./metrics-helpers";

const NOW = Date.now();

/** A small catalog: two studios in two cities, three classes, sessions on `day` (one cancelled). */
async function catalog(day: string) {
  const [london, leeds] = [await makeCity(), await makeCity()];
  const studioA = await makeStudio({ cityId: london.id });
  const studioB = await makeStudio({ cityId: leeds.id });
  const classes = [await makeClass({ studioId: studioA.id }), await makeClass({ studioId: studioA.id }), await makeClass({ studioId: studioB.id })];
  const { startMs } = dayRange(day);
  const sessions = [];
  for (const [i, klass] of classes.entries()) {
    const ran = await makeSession(klass.id, { startsAt: new Date(startMs + (9 + i) * 3600_000), capacity: 10 + i });
    await makeBooking(ran.id, 3 + i);
    await makeBooking(ran.id, 2);
    await makeCancelledBooking(ran.id, 4);
    const cancelled = await makeSession(klass.id, { startsAt: new Date(startMs + 20 * 3600_000), capacity: 8, status: "cancelled" });
    await makeBooking(cancelled.id, 1);
    sessions.push(ran, cancelled);
  }
  // A session the day after, whose start must not count on `day`.
  await makeSession(classes[0]!.id, { startsAt: new Date(dayRange(addDays(day, 1)).startMs), capacity: 50 });
  const bookingIds = [await makeBooking(sessions[0]!.id, 1), await makeBooking(sessions[4]!.id, 1)];
  return { cities: [london.id, leeds.id], studios: [studioA.id, studioB.id], classes, sessions, bookingIds, classStudio: new Map(classes.map((c) => [c.id, c.studioId])) };
}

type Catalog = Awaited<ReturnType<typeof catalog>>;

const TYPES: EventType[] = [
  "COURSE_VIEWED", "COURSE_VIEWED", "COURSE_VIEWED", "CHECKOUT_STARTED", "CHECKOUT_STARTED", "BOOKING_CONFIRMED", "BOOKING_REJECTED",
  "BOOKING_CANCELLED", "DUPLICATE_ATTEMPT", "HOLD_CREATED", "PURCHASE_BLOCKED", "WAITLIST_JOINED", "OFFER_SENT", "OFFER_ACCEPTED",
  "OFFER_DECLINED", "OFFER_EXPIRED", "NOTIFICATION_SENT", "NOTIFICATION_SENT", "NOTIFICATION_FAILED", "REQUEST_FAILED", "REQUEST_SAMPLED",
  "CHECKOUT_STARTED",
];

/**
 * A seeded random event set around `day`: from an hour before it to an hour after, plus events on
 * the exact boundaries. Some events carry their studio, some only their class; offers only their
 * session and cancellations only their booking, as the booking engine sends them.
 */
function generateEvents(seed: number, day: string, cat: Catalog, count: number): DomainEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const { startMs, endMs } = dayRange(day);
  const span = endMs - startMs + 2 * 3600_000;
  const times = [startMs, endMs - 1, endMs, startMs - 1, ...Array.from({ length: count }, () => startMs - 3600_000 + Math.floor(random() * span))];
  return times.flatMap((occurredAt): DomainEvent | DomainEvent[] => {
    const type = pick(TYPES);
    const klass = pick(cat.classes);
    const withClass = { classId: klass.id, studioId: random() < 0.5 ? klass.studioId : null, cityId: pick(cat.cities) };
    switch (type) {
      case "OFFER_SENT":
      case "OFFER_ACCEPTED":
      case "OFFER_DECLINED":
      case "OFFER_EXPIRED":
        return event(type, occurredAt, { sessionId: pick(cat.sessions).id, data: { entryId: "wle_x" } });
      case "BOOKING_CANCELLED":
        return event(type, occurredAt, { bookingId: pick(cat.bookingIds), email: "a@example.test", data: { minutesSinceConfirmation: 90 } });
      case "BOOKING_CONFIRMED": {
        const seats = 1 + Math.floor(random() * 4);
        return event(type, occurredAt, { ...withClass, seats, amountPence: seats * 2500, source: pick(["web", "app", null]), email: "b@example.test" });
      }
      case "BOOKING_REJECTED":
        return event(type, occurredAt, { ...withClass, code: pick(["SESSION_FULL", "AMOUNT_MISMATCH", "NO_TRAINER"]), amountPence: 100 });
      case "PURCHASE_BLOCKED":
        return event(type, occurredAt, { ...withClass, code: "NO_TRAINER" });
      case "NOTIFICATION_SENT":
      case "NOTIFICATION_FAILED":
        return event(type, occurredAt, { email: "c@example.test" });
      case "REQUEST_FAILED":
        return event(type, occurredAt, { code: pick(["INTERNAL_ERROR", "SERVICE_UNAVAILABLE"]) });
      case "REQUEST_SAMPLED":
        return event(type, occurredAt, { data: { sampleRate: pick([10, 10, 1, 25]), route: "/api/v1/bookings" } });
      case "CHECKOUT_STARTED": {
        // A client's signal, a booking attempted without a hold (through or refused), or a hold
        // that half the time is booked within its ten minutes (sometimes on the next day).
        const kind = pick(["client", "booked", "refused", "hold"] as const);
        if (kind === "client") return event(type, occurredAt, { ...withClass, data: { origin: "client" } });
        if (kind !== "hold") return event(type, occurredAt, { ...withClass, data: { origin: "booking", outcome: kind === "booked" ? "accepted" : "rejected" } });
        const holdId = `hld_${seed}_${occurredAt}_${Math.floor(random() * 1e9)}`;
        const checkout = event(type, occurredAt, { ...withClass, data: { origin: "hold", outcome: "accepted", holdId, holdExpiresAt: occurredAt + 600_000 } });
        if (random() < 0.5) return [checkout];
        const bookedAt = occurredAt + Math.floor(random() * 600_000);
        return [checkout, event("BOOKING_CONFIRMED", bookedAt, { ...withClass, seats: 1, amountPence: 2500, source: "web", data: { holdId } })];
      }
      case "HOLD_CREATED":
        return event(type, occurredAt, { ...withClass, seats: 2, sessionId: pick(cat.sessions).id });
      default:
        return event(type, occurredAt, withClass);
    }
  });
}

/**
 * The straightforward recount the rollup must agree with: for every scope, filter the day's
 * events and count. Only the metrics listed are compared (all of their rows, no more, no less).
 */
async function recount(events: DomainEvent[], day: string, cat: Catalog) {
  const { startMs, endMs } = dayRange(day);
  const onDay = events.filter((e) => e.occurredAt >= startMs && e.occurredAt < endMs);
  const sessionClass = new Map(cat.sessions.map((s) => [s.id, s.classId]));
  const bookingClass = new Map<string, string>();
  for (const id of cat.bookingIds) {
    const row = await env.DB.prepare(`SELECT class_id FROM bookings WHERE id = ?`).bind(id).first<{ class_id: string }>();
    bookingClass.set(id, row!.class_id);
  }
  const classOf = (e: DomainEvent) => e.classId ?? (e.sessionId ? sessionClass.get(e.sessionId) : undefined) ?? (e.bookingId ? bookingClass.get(e.bookingId) : undefined) ?? null;
  const studioOf = (e: DomainEvent) => e.studioId ?? cat.classStudio.get(classOf(e) ?? "") ?? null;

  const scopes: [string, string, (e: DomainEvent) => boolean][] = [
    ["all", "", () => true],
    ...cat.studios.map((id): [string, string, (e: DomainEvent) => boolean] => ["studio", id, (e) => studioOf(e) === id]),
    ...cat.classes.map((c): [string, string, (e: DomainEvent) => boolean] => ["class", c.id, (e) => classOf(e) === c.id]),
    ...cat.cities.map((id): [string, string, (e: DomainEvent) => boolean] => ["city", id, (e) => e.cityId === id]),
  ];
  const expected: Record<string, [number, number | null]> = {};
  const put = (metric: string, scope: string, scopeId: string, dimension: string, value: number, denominator: number | null = null) => {
    if (scope === "all" && dimension === "") expected[`${metric}|${scope}|${scopeId}|${dimension}`] = [value, denominator];
    else if (value !== 0 || (denominator ?? 0) !== 0) expected[`${metric}|${scope}|${scopeId}|${dimension}`] = [value, denominator];
  };
  for (const [scope, scopeId, inScope] of scopes) {
    const mine = onDay.filter(inScope);
    const n = (type: EventType) => mine.filter((e) => e.type === type).length;
    const sum = (type: EventType, field: "seats" | "amountPence") => mine.filter((e) => e.type === type).reduce((s, e) => s + (e[field] ?? 0), 0);
    const ascy = true;
    const asc = scope !== "city";
    if (scope === "all") put("events.total", scope, scopeId, "", mine.length);
    if (ascy) {
      put("funnel.views", scope, scopeId, "", n("COURSE_VIEWED"));
      const checkouts = mine.filter((e) => e.type === "CHECKOUT_STARTED" && ["hold", "booking"].includes(String(e.data?.origin)));
      const converted = checkouts.filter((c) =>
        c.data!.origin === "booking"
          ? c.data!.outcome === "accepted"
          : events.some((b) => b.type === "BOOKING_CONFIRMED" && b.data?.holdId === c.data!.holdId && b.occurredAt >= c.occurredAt && b.occurredAt <= Number(c.data!.holdExpiresAt) + 300_000),
      );
      put("funnel.checkouts", scope, scopeId, "", checkouts.length);
      put("funnel.checkout_to_booking", scope, scopeId, "", converted.length, checkouts.length);
      expect(converted.length).toBeLessThanOrEqual(checkouts.length);
      put("purchases.blocked", scope, scopeId, "", n("PURCHASE_BLOCKED"));
    }
    if (asc) {
      put("bookings.seats", scope, scopeId, "", sum("BOOKING_CONFIRMED", "seats"));
      // Booked value is what the confirmed bookings are worth; revenue is money, and these events carry
      // none (no payment rows: test/revenue.test.ts counts those), so it is 0 however much was booked.
      put("bookings.value_pence", scope, scopeId, "", sum("BOOKING_CONFIRMED", "amountPence"));
      for (const source of ["web", "app", "unknown"]) {
        const booked = mine.filter((e) => e.type === "BOOKING_CONFIRMED" && (e.source ?? "unknown") === source).reduce((s, e) => s + e.amountPence!, 0);
        put("bookings.value_pence_by_source", scope, scopeId, source, booked);
      }
      put("revenue.pence", scope, scopeId, "", 0);
      for (const code of ["SESSION_FULL", "AMOUNT_MISMATCH", "NO_TRAINER"]) {
        put("bookings.rejected_by_code", scope, scopeId, code, mine.filter((e) => e.type === "BOOKING_REJECTED" && e.code === code).length);
      }
      put("cancellations.rate", scope, scopeId, "", n("BOOKING_CANCELLED"), n("BOOKING_CONFIRMED"));
      put("waitlist.acceptance_rate", scope, scopeId, "", n("OFFER_ACCEPTED"), n("OFFER_ACCEPTED") + n("OFFER_DECLINED") + n("OFFER_EXPIRED"));
    }
    if (scope === "all" || scope === "class") {
      for (const city of cat.cities) {
        put("purchases.blocked_by_city", scope, scopeId, city, mine.filter((e) => e.type === "PURCHASE_BLOCKED" && e.cityId === city).length);
      }
    }
    if (scope === "all") {
      put("notifications.success_rate", scope, scopeId, "", n("NOTIFICATION_SENT"), n("NOTIFICATION_SENT") + n("NOTIFICATION_FAILED"));
      const served = mine.filter((e) => e.type === "REQUEST_SAMPLED").reduce((sum, e) => sum + Number(e.data!.sampleRate), 0);
      put("requests.sampled_estimate", scope, scopeId, "", served);
      put("requests.error_rate", scope, scopeId, "", n("REQUEST_FAILED"), served);
    }
  }
  return expected;
}

const COMPARED = [
  "events.total", "funnel.views", "funnel.checkouts", "funnel.checkout_to_booking", "requests.sampled_estimate", "purchases.blocked", "bookings.seats", "bookings.value_pence", "bookings.value_pence_by_source",
  "revenue.pence", "revenue.pence_by_source",
  "bookings.rejected_by_code", "cancellations.rate", "waitlist.acceptance_rate", "purchases.blocked_by_city", "notifications.success_rate", "requests.error_rate",
];

describe("daily rollup", () => {
  it("agrees with a straightforward recount of a generated event set, including events on the UTC day boundaries", async () => {
    const day = addDays(testMonday(), 2);
    const cat = await catalog(day);
    const events = generateEvents(20260302, day, cat, 400);
    await insertEvents(events);

    const result = await rollupDay(env.DB, day, NOW);
    const { startMs, endMs } = dayRange(day);
    expect(result.inputRows).toBe(events.filter((e) => e.occurredAt >= startMs && e.occurredAt < endMs).length);

    const rows = await metricRows("daily", day);
    const compared = byKey(rows.filter((row) => COMPARED.includes(row.metric)));
    expect(compared).toEqual(await recount(events, day, cat));

    // The neighbouring days hold the events just outside: 23:59:59.999 the day before, 00:00:00.000 the day after.
    await rollupDay(env.DB, addDays(day, -1), NOW);
    await rollupDay(env.DB, addDays(day, 1), NOW);
    expect(byKey((await metricRows("daily", addDays(day, -1))).filter((r) => COMPARED.includes(r.metric)))).toEqual(await recount(events, addDays(day, -1), cat));
    expect(byKey((await metricRows("daily", addDays(day, 1))).filter((r) => COMPARED.includes(r.metric)))).toEqual(await recount(events, addDays(day, 1), cat));
  });

  it("counts an event at 00:00:00.000 in its day and one at 23:59:59.999 in the day before", async () => {
    const day = addDays(testMonday(), 3);
    const { startMs } = dayRange(day);
    await insertEvents([event("COURSE_VIEWED", startMs - 1), event("COURSE_VIEWED", startMs), event("COURSE_VIEWED", startMs), event("COURSE_VIEWED", startMs + 86_400_000 - 1)]);
    await rollupDay(env.DB, day, NOW);
    await rollupDay(env.DB, addDays(day, -1), NOW);
    const views = async (d: string) => (await metricRows("daily", d)).find((r) => r.metric === "funnel.views" && r.scope === "all")!.value;
    expect(await views(day)).toBe(3);
    expect(await views(addDays(day, -1))).toBe(1);
  });

  it("computes capacity utilisation over the sessions that ran: started that day and not cancelled", async () => {
    const day = addDays(testMonday(), 1);
    const cat = await catalog(day);
    await rollupDay(env.DB, day, NOW);
    const rows = byKey((await metricRows("daily", day)).filter((r) => r.metric.startsWith("capacity.")));
    // Each class ran one session of capacity 10 + i, booked 3 + i and 2 seats (4 more were cancelled, and the cancelled session does not count).
    expect(rows["capacity.sessions|all||"]).toEqual([3, null]);
    // The two extra 1-seat bookings (on the sessions of classes 0 and 2) count too.
    expect(rows["capacity.utilisation|all||"]).toEqual([6 + 6 + 8, 10 + 11 + 12]);
    expect(rows[`capacity.utilisation|class|${cat.classes[0]!.id}|`]).toEqual([6, 10]);
    expect(rows[`capacity.utilisation|class|${cat.classes[2]!.id}|`]).toEqual([8, 12]);
    expect(rows[`capacity.utilisation|studio|${cat.studios[0]}|`]).toEqual([6 + 6, 10 + 11]);
    expect(rows[`capacity.sessions|studio|${cat.studios[1]}|`]).toEqual([1, null]);
  });

  it("writes an empty day as zeros for the overall metrics and nothing else, and a day that became empty keeps no stale rows", async () => {
    const day = addDays(testMonday(), 4);
    const klass = await makeClass();
    const { startMs } = dayRange(day);
    const planted = [event("BOOKING_CONFIRMED", startMs + 1000, { classId: klass.id, seats: 2, amountPence: 5000, source: "web" })];
    await insertEvents(planted);
    await rollupDay(env.DB, day, NOW);
    expect((await metricRows("daily", day)).some((r) => r.scope === "class" && r.scope_id === klass.id)).toBe(true);

    await env.DB.prepare(`DELETE FROM events WHERE id = ?`).bind(planted[0]!.id).run();
    await rollupDay(env.DB, day, NOW);
    const rows = await metricRows("daily", day);
    expect(rows.every((r) => r.scope === "all" && r.scope_id === "" && r.dimension === "")).toBe(true);
    expect(rows.every((r) => r.value === 0)).toBe(true);
    expect(rows.find((r) => r.metric === "events.total")).toMatchObject({ value: 0, denominator: null });
    expect(rows.find((r) => r.metric === "funnel.checkout_to_booking")).toMatchObject({ value: 0, denominator: 0 });
    expect(rows.find((r) => r.metric === "revenue.pence")).toMatchObject({ value: 0, denominator: null });
    expect(rows.find((r) => r.metric === "bookings.value_pence")).toMatchObject({ value: 0, denominator: null });
  });

  it("gives the same rows when run twice (only computed_at moves)", async () => {
    const day = addDays(testMonday(), 5);
    const cat = await catalog(day);
    await insertEvents(generateEvents(7, day, cat, 150));
    await rollupDay(env.DB, day, NOW);
    const first = await metricRows("daily", day);
    await rollupDay(env.DB, day, NOW + 60_000);
    const second = await metricRows("daily", day);
    const strip = (rows: typeof first) => rows.map(({ computed_at: _, ...row }) => row);
    expect(strip(second)).toEqual(strip(first));
    expect(second.every((r) => r.computed_at === NOW + 60_000)).toBe(true);
  });

  it("leaves a day that has not ended alone", async () => {
    const today = new Date(NOW).toISOString().slice(0, 10);
    expect(await rollupDay(env.DB, today, NOW)).toMatchObject({ skipped: "period has not ended", rowsWritten: 0 });
    expect(await metricRows("daily", today)).toEqual([]);
  });
});

describe("weekly rollup", () => {
  it("is the sum of its daily rows, numerators and denominators alike, rolling up the days it misses", async () => {
    const monday = testMonday();
    const cat = await catalog(addDays(monday, 2));
    const days = daysOfWeek(monday);
    const events = days.flatMap((day, i) => generateEvents(100 + i, day, cat, 60));
    // Events of the next Monday (and of the Sunday before) must not leak into the week.
    events.push(event("COURSE_VIEWED", dayRange(addDays(monday, 7)).startMs), event("COURSE_VIEWED", dayRange(monday).startMs - 1));
    await insertEvents(events);

    await rollupDay(env.DB, days[0]!, NOW);
    const result = await rollupWeek(env.DB, monday, "missing", NOW);
    expect(result.daysRolledUp).toEqual(days.slice(1));

    const sums: Record<string, [number, number | null]> = {};
    for (const day of days) {
      for (const row of await metricRows("daily", day)) {
        const key = `${row.metric}|${row.scope}|${row.scope_id}|${row.dimension}`;
        const [value, denominator] = sums[key] ?? [0, null];
        sums[key] = [value + row.value, row.denominator === null ? denominator : (denominator ?? 0) + row.denominator];
      }
    }
    const weekly = await metricRows("weekly", monday);
    expect(byKey(weekly)).toEqual(sums);
    const { startMs } = dayRange(monday);
    const inWeek = events.filter((e) => e.occurredAt >= startMs && e.occurredAt < startMs + 7 * 86_400_000);
    expect(weekly.find((r) => r.metric === "events.total")!.value).toBe(inWeek.length);
    const checkout = weekly.find((r) => r.metric === "funnel.checkout_to_booking" && r.scope === "all")!;
    const funnelCheckouts = inWeek.filter((e) => e.type === "CHECKOUT_STARTED" && e.data?.origin !== "client");
    expect(checkout.denominator).toBe(funnelCheckouts.length);
    expect(checkout.value).toBeGreaterThan(0);
    expect(checkout.value).toBeLessThanOrEqual(checkout.denominator!);

    // Run again with "missing": nothing to roll up first, the same rows.
    const again = await rollupWeek(env.DB, monday, "missing", NOW);
    expect(again.daysRolledUp).toEqual([]);
    expect(byKey(await metricRows("weekly", monday))).toEqual(byKey(weekly));
  });

  it("follows its days: a day rolled up again (a late event, a daily backfill) re-sums a week already rolled up", async () => {
    const monday = testMonday();
    const klass = await makeClass();
    const wednesday = addDays(monday, 2);
    await insertEvents([event("BOOKING_CONFIRMED", dayRange(wednesday).startMs + 5, { classId: klass.id, seats: 1, amountPence: 1000 })]);
    await rollupWeek(env.DB, monday, "missing", NOW);
    const weekly = async () => byKey(await metricRows("weekly", monday));
    expect((await weekly())[`bookings.value_pence|class|${klass.id}|`]).toEqual([1000, null]);

    // A late event for Wednesday, and one for a class the week has no row of yet.
    const other = await makeClass();
    await insertEvents([
      event("BOOKING_CONFIRMED", dayRange(wednesday).startMs + 10, { classId: klass.id, seats: 1, amountPence: 500 }),
      event("BOOKING_CONFIRMED", dayRange(wednesday).startMs + 20, { classId: other.id, seats: 1, amountPence: 700 }),
    ]);
    await rollupDay(env.DB, wednesday, NOW + 1000);
    const after = await weekly();
    expect(after[`bookings.value_pence|class|${klass.id}|`]).toEqual([1500, null]);
    expect(after[`bookings.value_pence|class|${other.id}|`]).toEqual([700, null]);
    expect(after["events.total|all||"]).toEqual([3, null]);
    // The week is exactly the sum of its days again.
    await rollupWeek(env.DB, monday, "missing", NOW + 2000);
    expect(await weekly()).toEqual(after);

    // A day whose week was never rolled up writes no weekly rows.
    const unrolled = testMonday();
    await insertEvents([event("COURSE_VIEWED", dayRange(unrolled).startMs + 5)]);
    await rollupDay(env.DB, unrolled, NOW);
    expect(await metricRows("weekly", unrolled)).toEqual([]);
  });

  it("with days recomputed picks up events that arrived after the days were rolled up", async () => {
    const monday = testMonday();
    const checkout = { data: { origin: "booking", outcome: "rejected" } };
    await insertEvents([event("CHECKOUT_STARTED", dayRange(monday).startMs + 5, checkout)]);
    await rollupWeek(env.DB, monday, "missing", NOW);
    await insertEvents([event("CHECKOUT_STARTED", dayRange(addDays(monday, 6)).startMs + 5, checkout)]);
    const checkouts = async () => (await metricRows("weekly", monday)).find((r) => r.metric === "funnel.checkouts")!.value;
    await rollupWeek(env.DB, monday, "missing", NOW);
    expect(await checkouts()).toBe(1);
    const result = await rollupWeek(env.DB, monday, "recompute", NOW);
    expect(result.daysRolledUp).toHaveLength(7);
    expect(await checkouts()).toBe(2);
  });
});

describe("the booking funnel", () => {
  it("counts a conversion on its checkout's day, so conversion is at most 1 in every period; a booking after the hold expired converts nothing", async () => {
    const day = addDays(testMonday(), 2);
    const next = addDays(day, 1);
    const klass = await makeClass();
    const { endMs } = dayRange(day);
    const hold = (holdId: string, at: number) => event("CHECKOUT_STARTED", at, { classId: klass.id, data: { origin: "hold", outcome: "accepted", holdId, holdExpiresAt: at + 600_000 } });
    const booking = (holdId: string | null, at: number) => event("BOOKING_CONFIRMED", at, { classId: klass.id, seats: 1, amountPence: 1000, data: { holdId } });
    await insertEvents([
      // Taken at 23:58, booked at 00:03 the next day.
      hold("hld_midnight", endMs - 120_000),
      booking("hld_midnight", endMs + 180_000),
      // Booked long after it expired (it cannot have been this hold's booking).
      hold("hld_lapsed", endMs - 3 * 3600_000),
      booking("hld_lapsed", endMs - 3600_000),
      // A staff booking and a client's signal: outside the funnel.
      booking(null, endMs - 60_000),
      event("CHECKOUT_STARTED", endMs - 60_000, { classId: klass.id, data: { origin: "client" } }),
    ]);
    await rollupDay(env.DB, day, NOW);
    await rollupDay(env.DB, next, NOW);
    const rows = async (d: string) => byKey((await metricRows("daily", d)).filter((r) => r.scope === "class" && r.scope_id === klass.id));
    const first = await rows(day);
    expect(first[`funnel.checkouts|class|${klass.id}|`]).toEqual([2, null]);
    expect(first[`funnel.checkout_to_booking|class|${klass.id}|`]).toEqual([1, 2]);
    expect(first[`bookings.confirmed|class|${klass.id}|`]).toEqual([2, null]);
    const second = await rows(next);
    expect(second[`bookings.confirmed|class|${klass.id}|`]).toEqual([1, null]);
    expect(second[`funnel.checkout_to_booking|class|${klass.id}|`]).toBeUndefined();
  });
});

describe("waitlist acceptance", () => {
  it("counts an offer ended by the party leaving (or staff removing it) while offered as withdrawn, and nothing else", async () => {
    const day = addDays(testMonday(), 3);
    const klass = await makeClass();
    const session = await makeSession(klass.id, { startsAt: new Date(dayRange(day).startMs + 20 * 3600_000) });
    const at = (minutes: number) => dayRange(day).startMs + minutes * 60_000;
    const offer = (type: EventType, entryId: string, offerNumber: number, minutes: number, data: Record<string, unknown> = {}) =>
      event(type, at(minutes), { sessionId: session.id, data: { entryId, offerNumber, ...data } });
    const left = (entryId: string, offerNumber: number, minutes: number, by: string, status = "removed") =>
      offer("WAITLIST_LEFT", entryId, offerNumber, minutes, { status, by });
    await insertEvents([
      // Offered, then left: withdrawn.
      offer("OFFER_SENT", "wle_left", 1, 10),
      left("wle_left", 1, 20, "customer"),
      // Offered, then removed by staff: withdrawn.
      offer("OFFER_SENT", "wle_removed", 1, 10),
      left("wle_removed", 1, 30, "staff"),
      // Left while still waiting, never offered.
      left("wle_waiting", 0, 20, "customer"),
      // Its first offer lapsed; left later while waiting again: the lapse counts, the leaving does not.
      offer("OFFER_SENT", "wle_lapsed", 1, 10),
      offer("OFFER_EXPIRED", "wle_lapsed", 1, 40),
      left("wle_lapsed", 1, 50, "customer"),
      // The session was cancelled while offered: not the party's answer.
      offer("OFFER_SENT", "wle_cancelled", 1, 10),
      left("wle_cancelled", 1, 60, "system"),
      // Accepted.
      offer("OFFER_SENT", "wle_booked", 1, 10),
      offer("OFFER_ACCEPTED", "wle_booked", 1, 15),
    ]);
    await rollupDay(env.DB, day, NOW);
    const rows = byKey((await metricRows("daily", day)).filter((r) => r.scope === "class" && r.scope_id === klass.id));
    expect(rows[`waitlist.offers_withdrawn|class|${klass.id}|`]).toEqual([2, null]);
    expect(rows[`waitlist.acceptance_rate|class|${klass.id}|`]).toEqual([1, 1 + 1 + 2]);
  });
});
