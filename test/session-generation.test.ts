/**
 * Session generation: the pure plan (src/domain/session-plan.ts) and its application to D1
 * (generateSessionsForPattern, and POST /schedule-patterns/{id}/generate-sessions).
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { type DesiredSession, type ExistingSession, planSessions } from "../src/domain/session-plan";
import { generateSessionsForPattern } from "../src/services/session-generation";
import { addAssistant, makeBooking, makeCancelledBooking, makeClass, makeRole, makeSession, makeStaff } from "./fixtures";
import { availability, postBooking, postHold, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { call, tokenFor } from "./helpers";

const db = () => getDb(env.DB);
const NOW = new Date("2026-01-01T00:00:00Z");
const hour = 3600_000;

function desired(iso: string, overrides: Partial<DesiredSession> = {}): DesiredSession {
  const startsAt = new Date(iso);
  return { startsAt, endsAt: new Date(startsAt.getTime() + hour), localDate: iso.slice(0, 10), capacity: 10, location: "Hall", ...overrides };
}

function existing(id: string, iso: string, overrides: Partial<ExistingSession> = {}): ExistingSession {
  const startsAt = new Date(iso);
  return {
    id,
    startsAt,
    endsAt: new Date(startsAt.getTime() + hour),
    capacity: 10,
    location: "Hall",
    status: "scheduled",
    seatsBooked: 0,
    confirmedLines: 0,
    bookingLines: 0,
    ...overrides,
  };
}

const plan = (d: DesiredSession[], e: ExistingSession[], now = NOW) => planSessions({ desired: d, existing: e, timeZone: "Europe/London", now });

describe("planSessions", () => {
  it("creates every future occurrence when there is nothing yet, skipping past ones", () => {
    const result = plan([desired("2025-12-29T18:00:00Z"), desired("2026-01-05T18:00:00Z"), desired("2026-01-12T18:00:00Z")], []);
    expect(result.skippedPast).toBe(1);
    expect(result.create.map((d) => d.startsAt.toISOString())).toEqual(["2026-01-05T18:00:00.000Z", "2026-01-12T18:00:00.000Z"]);
    expect(result).toMatchObject({ update: [], remove: [], cancel: [], unchanged: [], bookedLeftAlone: [] });
  });

  it("leaves sessions that already match alone (idempotent)", () => {
    const d = [desired("2026-01-05T18:00:00Z"), desired("2026-01-12T18:00:00Z")];
    const result = plan(d, [existing("a", "2026-01-05T18:00:00Z"), existing("b", "2026-01-12T18:00:00Z")]);
    expect(result.unchanged).toEqual(["a", "b"]);
    expect(result.create).toEqual([]);
    expect(result.update).toEqual([]);
  });

  it("updates an unbooked session in place when its capacity or location changed", () => {
    const result = plan([desired("2026-01-05T18:00:00Z", { capacity: 20 })], [existing("a", "2026-01-05T18:00:00Z")]);
    expect(result.update).toEqual([{ id: "a", to: expect.objectContaining({ capacity: 20 }) }]);
  });

  it("moves an unbooked session to the new time on the same local date, keeping its id", () => {
    const result = plan([desired("2026-01-05T19:00:00Z")], [existing("a", "2026-01-05T18:00:00Z")]);
    expect(result.update).toEqual([{ id: "a", to: expect.objectContaining({ startsAt: new Date("2026-01-05T19:00:00Z") }) }]);
    expect(result.create).toEqual([]);
    expect(result.remove).toEqual([]);
  });

  it("never touches a booked session: reports it, and creates the new time beside it", () => {
    const booked = existing("a", "2026-01-05T18:00:00Z", { seatsBooked: 3, confirmedLines: 2, bookingLines: 2 });
    const result = plan([desired("2026-01-05T19:00:00Z")], [booked]);
    expect(result.bookedLeftAlone).toEqual([{ id: "a", startsAt: booked.startsAt, reason: "NOT_IN_PATTERN", seatsBooked: 3 }]);
    expect(result.create.map((d) => d.startsAt.toISOString())).toEqual(["2026-01-05T19:00:00.000Z"]);
    expect(result.update).toEqual([]);
  });

  it("does not duplicate a booked session at a wanted start, even when it differs", () => {
    const booked = existing("a", "2026-01-05T18:00:00Z", { seatsBooked: 1, confirmedLines: 1, bookingLines: 1 });
    const result = plan([desired("2026-01-05T18:00:00Z", { capacity: 4 })], [booked]);
    expect(result.create).toEqual([]);
    expect(result.update).toEqual([]);
    expect(result.bookedLeftAlone).toEqual([expect.objectContaining({ id: "a", reason: "DIFFERS_FROM_PATTERN" })]);
  });

  it("counts a booked session that still matches as unchanged, not as a problem", () => {
    const booked = existing("a", "2026-01-05T18:00:00Z", { seatsBooked: 1, confirmedLines: 1, bookingLines: 1 });
    const result = plan([desired("2026-01-05T18:00:00Z")], [booked]);
    expect(result.unchanged).toEqual(["a"]);
    expect(result.bookedLeftAlone).toEqual([]);
  });

  it("deletes unbooked leftovers and cancels those with only cancelled booking lines", () => {
    const result = plan(
      [],
      [existing("gone", "2026-01-05T18:00:00Z"), existing("lines", "2026-01-12T18:00:00Z", { bookingLines: 1 })],
    );
    expect(result.remove).toEqual(["gone"]);
    expect(result.cancel).toEqual(["lines"]);
  });

  it("ignores sessions in the past", () => {
    const result = plan([], [existing("past", "2025-12-29T18:00:00Z")]);
    expect(result).toMatchObject({ remove: [], cancel: [], update: [], unchanged: [], bookedLeftAlone: [] });
  });

  it("neither revives nor duplicates a cancelled session", () => {
    const result = plan([desired("2026-01-05T18:00:00Z")], [existing("c", "2026-01-05T18:00:00Z", { status: "cancelled" })]);
    expect(result.create).toEqual([]);
    expect(result.update).toEqual([]);
    expect(result.cancelledLeftAlone).toEqual([{ id: "c", startsAt: new Date("2026-01-05T18:00:00Z") }]);
  });

  it("uses the studio-local date to pair a moved session across midnight UTC", () => {
    // 00:30 London on 6 July is 23:30Z on 5 July: still the 6th locally, so it pairs with 01:30 local on the 6th.
    const result = planSessions({
      desired: [desired("2026-07-06T00:30:00Z", { localDate: "2026-07-06" })],
      existing: [existing("a", "2026-07-05T23:30:00Z")],
      timeZone: "Europe/London",
      now: NOW,
    });
    expect(result.update.map((u) => u.id)).toEqual(["a"]);
  });
});

// ---------------------------------------------------------------------------------------------

let admin: string;
beforeAll(async () => {
  admin = await tokenFor("admin");
});

/** A class with a qualified instructor and a pattern inserted directly (weekly on Mondays 18:00 London). */
async function setup(pattern: Partial<typeof t.schedulePatterns.$inferInsert> = {}) {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id, durationMinutes: 60, defaultCapacity: 12 });
  const instructor = await makeStaff([role.id]);
  const id = `pat_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await db()
    .insert(t.schedulePatterns)
    .values({
      id,
      classId: klass.id,
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["MO"],
      count: 6,
      startDate: "2030-01-07",
      startTime: "18:00",
      durationMinutes: 60,
      maxStudents: 12,
      location: "Hall",
      exceptionDates: [],
      defaultInstructorId: instructor.id,
      defaultAssistantIds: [],
      ...pattern,
    });
  return { role, klass, instructor, patternId: id };
}

const sessionsOf = (patternId: string) =>
  db().select().from(t.classSessions).where(eq(t.classSessions.patternId, patternId)).orderBy(t.classSessions.startsAt);

const options = { now: new Date("2029-12-01T00:00:00Z"), maxOccurrences: 500 };

describe("generateSessionsForPattern", () => {
  it("creates a session per occurrence with the default instructor, and nothing more the second time", async () => {
    const { patternId, instructor } = await setup();
    const first = await generateSessionsForPattern(db(), patternId, options);
    expect(first).toMatchObject({ created: 6, updated: 0, unchanged: 0, removed: 0, skippedPast: 0, bookedLeftAlone: [], staffConflicts: [] });
    const rows = await sessionsOf(patternId);
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.instructorId === instructor.id && row.capacity === 12 && row.location === "Hall")).toBe(true);
    expect(rows[0]!.startsAt.toISOString()).toBe("2030-01-07T18:00:00.000Z");

    const second = await generateSessionsForPattern(db(), patternId, options);
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 6, removed: 0 });
    expect(await sessionsOf(patternId)).toHaveLength(6);
  });

  it("skips and counts occurrences before now", async () => {
    const { patternId } = await setup();
    const report = await generateSessionsForPattern(db(), patternId, { ...options, now: new Date("2030-01-15T00:00:00Z") });
    expect(report).toMatchObject({ created: 4, skippedPast: 2 });
  });

  it("assigns default assistants too", async () => {
    const { patternId, role } = await setup({ count: 3 });
    const assistant = await makeStaff([role.id]);
    await db().update(t.schedulePatterns).set({ defaultAssistantIds: [assistant.id] }).where(eq(t.schedulePatterns.id, patternId));
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report.created).toBe(3);
    const links = await db().select().from(t.sessionAssistants).where(eq(t.sessionAssistants.staffId, assistant.id));
    expect(links).toHaveLength(3);
  });

  it("leaves a default who is no longer active off every session and says so", async () => {
    const { patternId, instructor } = await setup({ count: 2 });
    await db().update(t.staff).set({ active: false }).where(eq(t.staff.id, instructor.id));
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report.created).toBe(2);
    expect(report.staffConflicts).toEqual([
      { sessionId: null, startsAt: null, staffId: instructor.id, role: "instructor", reason: "NOT_QUALIFIED", clashingSessionId: null },
    ]);
    expect((await sessionsOf(patternId)).map((row) => row.instructorId)).toEqual([null, null]);
  });

  it("regenerates after a time change: moves unbooked sessions, leaves the booked one and reports it", async () => {
    const { patternId } = await setup({ count: 3 });
    await generateSessionsForPattern(db(), patternId, options);
    const before = await sessionsOf(patternId);
    await makeBooking(before[1]!.id, 2);

    await db().update(t.schedulePatterns).set({ startTime: "19:30" }).where(eq(t.schedulePatterns.id, patternId));
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report).toMatchObject({ created: 1, updated: 2, removed: 0 });
    expect(report.bookedLeftAlone).toEqual([
      { id: before[1]!.id, startsAt: before[1]!.startsAt.toISOString(), reason: "NOT_IN_PATTERN", seatsBooked: 2 },
    ]);

    const after = await sessionsOf(patternId);
    const byId = new Map(after.map((row) => [row.id, row]));
    // Unbooked sessions kept their ids and moved to 19:30.
    expect(byId.get(before[0]!.id)!.startsAt.toISOString()).toBe("2030-01-07T19:30:00.000Z");
    expect(byId.get(before[2]!.id)!.startsAt.toISOString()).toBe("2030-01-21T19:30:00.000Z");
    // The booked one is untouched, and its Monday got a new 19:30 session beside it.
    expect(byId.get(before[1]!.id)!.startsAt.toISOString()).toBe("2030-01-14T18:00:00.000Z");
    expect(after.map((row) => row.startsAt.toISOString())).toContain("2030-01-14T19:30:00.000Z");
    expect(after).toHaveLength(4);

    // Stable from here on.
    expect(await generateSessionsForPattern(db(), patternId, options)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
  });

  it("regenerates after a capacity change: updates unbooked sessions in place, keeps a booked one as it was", async () => {
    const { patternId } = await setup({ count: 3 });
    await generateSessionsForPattern(db(), patternId, options);
    const before = await sessionsOf(patternId);
    await makeBooking(before[0]!.id, 1);

    await db().update(t.schedulePatterns).set({ maxStudents: 20 }).where(eq(t.schedulePatterns.id, patternId));
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report).toMatchObject({ created: 0, updated: 2, unchanged: 0 });
    expect(report.bookedLeftAlone).toEqual([expect.objectContaining({ id: before[0]!.id, reason: "DIFFERS_FROM_PATTERN", seatsBooked: 1 })]);
    const after = await sessionsOf(patternId);
    expect(after.map((row) => [row.id, row.capacity])).toEqual([
      [before[0]!.id, 12],
      [before[1]!.id, 20],
      [before[2]!.id, 20],
    ]);
  });

  it("keeps a manual staff change on a session that still matches the pattern", async () => {
    const { patternId, role } = await setup({ count: 2 });
    await generateSessionsForPattern(db(), patternId, options);
    const [first] = await sessionsOf(patternId);
    const other = await makeStaff([role.id]);
    await db().update(t.classSessions).set({ instructorId: other.id }).where(eq(t.classSessions.id, first!.id));
    await addAssistant(first!.id, (await makeStaff([role.id])).id);

    await generateSessionsForPattern(db(), patternId, options);
    const [again] = await sessionsOf(patternId);
    expect(again!.instructorId).toBe(other.id);
    expect(await db().select().from(t.sessionAssistants).where(eq(t.sessionAssistants.sessionId, first!.id))).toHaveLength(1);
  });

  it("deletes sessions no longer wanted, and cancels those with cancelled booking lines", async () => {
    const { patternId } = await setup({ count: 4 });
    await generateSessionsForPattern(db(), patternId, options);
    const before = await sessionsOf(patternId);
    await makeCancelledBooking(before[3]!.id);

    await db().update(t.schedulePatterns).set({ count: 2 }).where(eq(t.schedulePatterns.id, patternId));
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report).toMatchObject({ removed: 1, cancelled: 1, unchanged: 2 });
    const after = await sessionsOf(patternId);
    expect(after.map((row) => [row.id, row.status])).toEqual([
      [before[0]!.id, "scheduled"],
      [before[1]!.id, "scheduled"],
      [before[3]!.id, "cancelled"],
    ]);
  });

  it("leaves the instructor off a session that would double-book them, and reports the clash", async () => {
    const { patternId, instructor, klass } = await setup({ count: 2 });
    const elsewhere = await makeSession(klass.id, {
      startsAt: new Date("2030-01-14T17:30:00Z"),
      endsAt: new Date("2030-01-14T18:30:00Z"),
      instructorId: instructor.id,
    });
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report.created).toBe(2);
    const rows = await sessionsOf(patternId);
    expect(rows.map((row) => row.instructorId)).toEqual([instructor.id, null]);
    expect(report.staffConflicts).toEqual([
      {
        sessionId: rows[1]!.id,
        startsAt: "2030-01-14T18:00:00.000Z",
        staffId: instructor.id,
        role: "instructor",
        reason: "DOUBLE_BOOKED",
        clashingSessionId: elsewhere.id,
      },
    ]);
  });

  it("keeps a start in the generated sessions at 18:00 London across the clock change", async () => {
    // 2030: British Summer Time starts Sunday 31 March.
    const { patternId } = await setup({ startDate: "2030-03-25", count: 2 });
    const report = await generateSessionsForPattern(db(), patternId, options);
    expect(report.sessions.map((s) => [s.startsAt, s.localStart])).toEqual([
      ["2030-03-25T18:00:00.000Z", "2030-03-25T18:00:00+00:00"],
      ["2030-04-01T17:00:00.000Z", "2030-04-01T18:00:00+01:00"],
    ]);
  });

  it("refuses a pattern beyond the occurrence limit", async () => {
    const { patternId } = await setup({ count: 20 });
    await expect(generateSessionsForPattern(db(), patternId, { ...options, maxOccurrences: 10 })).rejects.toMatchObject({
      code: "OCCURRENCE_LIMIT_EXCEEDED",
      details: { limit: 10 },
    });
    expect(await sessionsOf(patternId)).toHaveLength(0);
  });
});

describe("POST /api/v1/admin/schedule-patterns/{id}/generate-sessions", () => {
  it("leaves alone sessions whose Durable Object holds seats in checkout, rather than removing them or shrinking them below the hold", async () => {
    const { patternId } = await setup({ startDate: "2099-03-02", count: 3 });
    const path = `/api/v1/admin/schedule-patterns/${patternId}/generate-sessions`;
    expect((await call("POST", path, { token: admin })).status).toBe(200);
    const [first, , last] = await sessionsOf(patternId);
    const hold = (sessionId: string, guestCount: number) =>
      postHold({ registrationType: "SINGLE_SESSION", sessionId, guestCount, contact: { email: uniqueEmail(), firstName: "H", lastName: "C" } });
    expect((await hold(last!.id, 1)).status).toBe(201);
    expect((await hold(first!.id, 5)).status).toBe(201);

    // Two occurrences now (the third goes), with room for 4 (below the 5 held in the first).
    await db().update(t.schedulePatterns).set({ count: 2, maxStudents: 4 }).where(eq(t.schedulePatterns.id, patternId));
    const report = await call("POST", path, { token: admin });
    expect(report.status).toBe(200);
    expect(report.json.heldLeftAlone.sort()).toEqual([first!.id, last!.id].sort());
    expect(report.json.removed).toBe(0);
    expect((await sessionsOf(patternId)).map((row) => row.id)).toContain(last!.id);
    expect(await availability(first!.id)).toMatchObject({ capacity: 12, held: 5 });
  });

  it("leaves alone a session whose object has a booking D1 has not received yet: it is neither moved nor cancelled", { timeout: 30_000 }, async () => {
    const { patternId } = await setup({ startDate: "2099-04-06", count: 2 });
    const path = `/api/v1/admin/schedule-patterns/${patternId}/generate-sessions`;
    expect((await call("POST", path, { token: admin })).status).toBe(200);
    const [first] = await sessionsOf(patternId);
    // D1 refuses the booking's line, so the plan (which reads D1) sees the session unbooked.
    await env.DB.exec(`CREATE TRIGGER lag_${patternId} BEFORE INSERT ON booking_sessions WHEN NEW.session_id = '${first!.id}' BEGIN SELECT RAISE(ABORT, 'not yet'); END`);
    try {
      const booked = await postBooking(singleBookingBody(first!.id, 2500));
      expect(booked.status).toBe(201);
      // The pattern moves to 19:00: an unbooked session would be moved.
      await db().update(t.schedulePatterns).set({ startTime: "19:00" }).where(eq(t.schedulePatterns.id, patternId));
      const report = await call("POST", path, { token: admin });
      expect(report.status).toBe(200);
      expect(report.json.heldLeftAlone).toEqual([first!.id]);
      const [row] = await db().select().from(t.classSessions).where(eq(t.classSessions.id, first!.id));
      expect(row!.startsAt.getTime()).toBe(first!.startsAt.getTime());
      expect(row!.status).not.toBe("cancelled");
    } finally {
      await env.DB.exec(`DROP TRIGGER IF EXISTS lag_${patternId}`);
    }
  });

  it("generates through the API and is idempotent", async () => {
    const { patternId } = await setup({ startDate: "2099-01-05", count: 3 });
    const first = await call("POST", `/api/v1/admin/schedule-patterns/${patternId}/generate-sessions`, { token: admin });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ created: 3, timeZone: "Europe/London" });
    expect(first.json.sessions).toHaveLength(3);
    const second = await call("POST", `/api/v1/admin/schedule-patterns/${patternId}/generate-sessions`, { token: admin });
    expect(second.json).toMatchObject({ created: 0, unchanged: 3 });
  });

  it("two parallel runs create each session once", async () => {
    const { patternId } = await setup({ startDate: "2099-02-02", count: 5 });
    const path = `/api/v1/admin/schedule-patterns/${patternId}/generate-sessions`;
    const results = await Promise.all([call("POST", path, { token: admin }), call("POST", path, { token: admin })]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results[0]!.json.created + results[1]!.json.created).toBe(5);
    expect(await sessionsOf(patternId)).toHaveLength(5);
  });

  it("answers 404 for an unknown pattern", async () => {
    const res = await call("POST", "/api/v1/admin/schedule-patterns/pat_nope/generate-sessions", { token: admin });
    expect(res.status).toBe(404);
  });
});
