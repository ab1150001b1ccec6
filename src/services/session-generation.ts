/**
 * Turning a schedule pattern into class sessions in D1. What to do is decided by the pure
 * `planSessions` (src/domain/session-plan.ts); this file loads its inputs and applies the plan in
 * one D1 batch (one transaction), a statement per row so no statement nears D1's 100 bound
 * parameters.
 *
 * Every write is conditional in SQL, so a booking or a staff assignment made by a parallel
 * request between the plan and the batch is never overwritten: a session that gained a confirmed
 * booking is not changed, a default instructor who meanwhile teaches an overlapping session is
 * left off, and a session another generation run already created is not created twice.
 */
import { and, asc, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookingSessions, classes, classSessions, schedulePatterns, sessionAssistants, studios } from "../db/schema";
import { ApiError, notFound } from "../errors";
import { expandOccurrences, toLocalIso, type Expansion, type RecurrenceSpec } from "../domain/recurrence";
import { planSessions, type DesiredSession, type ExistingSession } from "../domain/session-plan";
import { unqualifiedStaff } from "../domain/staffing";
import { newId } from "../lib/ids";
import { batchSql, clashSql, findClashes, loadCandidates } from "./staff-assignment";

export interface GenerationOptions {
  /** Occurrences starting at or before this instant are skipped; sessions before it are never touched. */
  now: Date;
  /** The most occurrences a pattern may expand to (`config.maxOccurrencesPerPattern`). */
  maxOccurrences: number;
  /**
   * The session DOs' say over the sessions the plan would remove or change: they know about holds
   * D1 does not. Without it (seeding a fresh database) D1's bookings are all that is checked.
   */
  seats?: SeatGuard;
}

/** Asks sessions' Durable Objects before their sessions are removed or changed. */
export interface SeatGuard {
  /** Closes a session for good when nothing is held or booked in it; false when something is. */
  retire(sessionId: string): Promise<boolean>;
  /** Gives a session new capacity and times as of `version`; false when its held and booked seats exceed the capacity. */
  reconfigure(sessionId: string, change: { capacity: number; startsAt: Date }, version: Date): Promise<boolean>;
  /** Seats booked in the session as its object knows them (D1 may not have the latest bookings yet). */
  bookedSeats(sessionId: string): Promise<number>;
}

export interface StaffConflict {
  /** The session the person was left off; null when they were left off every session. */
  sessionId: string | null;
  startsAt: string | null;
  staffId: string;
  role: "instructor" | "assistant";
  reason: "DOUBLE_BOOKED" | "NOT_QUALIFIED";
  /** The overlapping session the person already teaches or assists (DOUBLE_BOOKED). */
  clashingSessionId: string | null;
}

export interface GeneratedSession {
  id: string;
  startsAt: string;
  endsAt: string;
  localStart: string;
  capacity: number;
  location: string | null;
  instructorId: string | null;
  status: "scheduled" | "cancelled";
}

/** What a generation run did. Counts are rows actually changed. */
export interface GenerationReport {
  patternId: string;
  classId: string;
  timeZone: string;
  /** Occurrences the pattern expands to, past ones included. */
  occurrences: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Unbooked sessions deleted because the pattern no longer wants them. */
  removed: number;
  /** Sessions no longer wanted that carry cancelled booking lines: set to cancelled, not deleted. */
  cancelled: number;
  /** Occurrences at or before `now`, not generated. */
  skippedPast: number;
  /** Future sessions with confirmed bookings that no longer match the pattern: not touched. */
  bookedLeftAlone: { id: string; startsAt: string; reason: "NOT_IN_PATTERN" | "DIFFERS_FROM_PATTERN"; seatsBooked: number }[];
  /** Cancelled sessions at a start the pattern wants: not revived, not duplicated. */
  cancelledLeftAlone: { id: string; startsAt: string }[];
  /** Sessions the pattern would remove or change whose Durable Object holds seats (checkouts in progress): not touched. */
  heldLeftAlone: string[];
  /** Default staff left off a session rather than double-booked or assigned unqualified. */
  staffConflicts: StaffConflict[];
  /** The pattern's future sessions after the run, in start order. */
  sessions: GeneratedSession[];
}

/** A pattern's recurrence in its studio's zone, the way both preview and generation expand it. */
export function patternSpec(pattern: typeof schedulePatterns.$inferSelect, timeZone: string): RecurrenceSpec {
  return {
    frequency: pattern.frequency,
    interval: pattern.interval,
    byWeekday: pattern.byWeekday,
    count: pattern.count,
    untilDate: pattern.untilDate,
    startDate: pattern.startDate,
    startTime: pattern.startTime,
    durationMinutes: pattern.durationMinutes,
    exceptionDates: pattern.exceptionDates,
    timeZone,
  };
}

/** Throws the 422 for an expansion that failed (too many occurrences, unusable time zone). */
export function assertExpanded(expansion: Expansion): asserts expansion is Extract<Expansion, { ok: true }> {
  if (expansion.ok) return;
  if (expansion.reason === "INVALID_TIME_ZONE") {
    throw new ApiError("INVALID_SCHEDULE", `The studio's time zone ${expansion.timeZone} is not a valid IANA zone`, {
      timeZone: expansion.timeZone,
    });
  }
  throw new ApiError(
    "OCCURRENCE_LIMIT_EXCEEDED",
    expansion.unbounded
      ? `The pattern has neither count nor untilDate, so it repeats forever; give one so that it has at most ${expansion.limit} occurrences`
      : `The pattern has more than ${expansion.limit} occurrences; lower count, move untilDate earlier or split it into several patterns`,
    { limit: expansion.limit },
  );
}

/** The pattern with its class and its studio's time zone, or 404. */
export async function loadPattern(db: Db, patternId: string) {
  const [row] = await db
    .select({ pattern: schedulePatterns, class: classes, timeZone: studios.timeZone })
    .from(schedulePatterns)
    .innerJoin(classes, eq(classes.id, schedulePatterns.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(schedulePatterns.id, patternId));
  if (!row) throw notFound("Schedule pattern", patternId);
  return row;
}

/**
 * Creates, updates and removes the future sessions of pattern `patternId` so they follow the
 * pattern (see src/domain/session-plan.ts for the rules), assigning its default instructor and
 * assistants to sessions it creates or changes. Idempotent: a second run with nothing changed
 * creates nothing. Throws 404 for an unknown pattern and 422 OCCURRENCE_LIMIT_EXCEEDED when the
 * pattern expands to more than `maxOccurrences`.
 */
export async function generateSessionsForPattern(db: Db, patternId: string, options: GenerationOptions): Promise<GenerationReport> {
  const { pattern, class: klass, timeZone } = await loadPattern(db, patternId);
  const expansion = expandOccurrences(patternSpec(pattern, timeZone), options.maxOccurrences);
  assertExpanded(expansion);

  const desired: DesiredSession[] = expansion.occurrences.map((occurrence) => ({
    startsAt: occurrence.startsAt,
    endsAt: occurrence.endsAt,
    localDate: occurrence.localDate,
    capacity: pattern.maxStudents,
    location: pattern.location,
  }));
  const plan = planSessions({ desired, existing: await existingSessions(db, patternId), timeZone, now: options.now });
  const now = Date.now();
  const heldLeftAlone = options.seats ? await consultSessions(plan, options.seats, new Date(now)) : [];

  // Defaults who may no longer teach the class (deactivated, role removed) are left off everywhere.
  const defaults = [...(pattern.defaultInstructorId ? [pattern.defaultInstructorId] : []), ...pattern.defaultAssistantIds];
  const unqualified = new Set(
    unqualifiedStaff(klass.requiredRoleId, defaults, await loadCandidates(db, defaults)).map((problem) => problem.staffId),
  );
  const instructorId = pattern.defaultInstructorId && !unqualified.has(pattern.defaultInstructorId) ? pattern.defaultInstructorId : null;
  const assistantIds = pattern.defaultAssistantIds.filter((id) => !unqualified.has(id));

  const notBooked = (id: string) =>
    sql`NOT EXISTS (SELECT 1 FROM booking_sessions b WHERE b.session_id = ${id} AND b.status = 'confirmed')`;
  const staffed = (id: string, to: DesiredSession) => {
    const window = { sessionId: id, startsAt: to.startsAt, endsAt: to.endsAt };
    const instructor = instructorId
      ? sql`CASE WHEN NOT ${clashSql([instructorId], window)} THEN ${instructorId} END`
      : sql`NULL`;
    const assistants = assistantIds.map((staffId) =>
      sql`INSERT OR IGNORE INTO session_assistants (session_id, staff_id)
        SELECT ${id}, ${staffId}
        WHERE EXISTS (SELECT 1 FROM class_sessions s WHERE s.id = ${id} AND s.starts_at = ${to.startsAt.getTime()})
          AND ${notBooked(id)} AND NOT ${clashSql([staffId], window)}`,
    );
    return { instructor, assistants };
  };

  const removals = [
    ...plan.remove.map((id) =>
      sql`DELETE FROM class_sessions WHERE id = ${id} AND NOT EXISTS (SELECT 1 FROM booking_sessions b WHERE b.session_id = ${id})`,
    ),
    ...plan.cancel.map((id) =>
      sql`UPDATE class_sessions SET status = 'cancelled', updated_at = ${now} WHERE id = ${id} AND ${notBooked(id)}`,
    ),
  ];
  const updates = plan.update.map(({ id, to }) => {
    const { instructor, assistants } = staffed(id, to);
    return {
      id,
      main: sql`UPDATE class_sessions SET starts_at = ${to.startsAt.getTime()}, ends_at = ${to.endsAt.getTime()},
          capacity = ${to.capacity}, location = ${to.location}, instructor_id = ${instructor}, updated_at = ${now}
        WHERE id = ${id} AND status <> 'cancelled' AND ${notBooked(id)}`,
      rest: [sql`DELETE FROM session_assistants WHERE session_id = ${id} AND ${notBooked(id)}`, ...assistants],
    };
  });
  const creates = plan.create.map((to) => {
    const id = newId("session");
    const { instructor, assistants } = staffed(id, to);
    return {
      id,
      main: sql`INSERT INTO class_sessions (id, class_id, pattern_id, starts_at, ends_at, capacity, location, instructor_id, status)
        VALUES (${id}, ${pattern.classId}, ${pattern.id}, ${to.startsAt.getTime()}, ${to.endsAt.getTime()}, ${to.capacity},
          ${to.location}, ${instructor}, 'scheduled')
        ON CONFLICT (pattern_id, starts_at) DO NOTHING`,
      rest: assistants,
    };
  });

  // Removals first (they free staff and starts), then updates, then creates, each in start order.
  const statements = [...removals, ...[...updates, ...creates].flatMap((step) => [step.main, ...step.rest])];
  const results = await batchSql(db, statements);
  const changed = (statement: SQL) => results[statements.indexOf(statement)]?.meta.changes ?? 0;

  const sessions = await futureSessions(db, patternId, options.now, timeZone);
  const touched = new Set([...updates, ...creates].filter((step) => changed(step.main) > 0).map((step) => step.id));
  return {
    patternId,
    classId: pattern.classId,
    timeZone,
    occurrences: expansion.occurrences.length,
    created: creates.filter((step) => changed(step.main) > 0).length,
    updated: updates.filter((step) => changed(step.main) > 0).length,
    unchanged: plan.unchanged.length,
    removed: plan.remove.filter((_, i) => changed(removals[i]!) > 0).length,
    cancelled: plan.cancel.filter((_, i) => changed(removals[plan.remove.length + i]!) > 0).length,
    skippedPast: plan.skippedPast,
    bookedLeftAlone: plan.bookedLeftAlone.map((s) => ({ ...s, startsAt: s.startsAt.toISOString() })),
    cancelledLeftAlone: plan.cancelledLeftAlone.map((s) => ({ ...s, startsAt: s.startsAt.toISOString() })),
    heldLeftAlone,
    staffConflicts: [
      ...[...unqualified].map((staffId) => ({
        sessionId: null,
        startsAt: null,
        staffId,
        role: staffId === pattern.defaultInstructorId ? ("instructor" as const) : ("assistant" as const),
        reason: "NOT_QUALIFIED" as const,
        clashingSessionId: null,
      })),
      ...(await leftOff(db, sessions.filter((s) => touched.has(s.id)), instructorId, assistantIds)),
    ],
    sessions: sessions.map(({ assistantIds: _, ...session }) => session),
  };
}

/**
 * Drops from the plan what the sessions' DOs refuse: a session holding seats (a checkout in
 * progress) is neither removed nor given a capacity below what it holds; it is reported instead.
 */
async function consultSessions(plan: ReturnType<typeof planSessions>, seats: SeatGuard, version: Date): Promise<string[]> {
  // The plan counted bookings from D1, a projection that may lag: a session its object knows to be
  // booked is neither moved nor cancelled.
  const [updateBooked, cancelBooked] = await Promise.all([
    Promise.all(plan.update.map(({ id }) => seats.bookedSeats(id))),
    Promise.all(plan.cancel.map((id) => seats.bookedSeats(id))),
  ]);
  const bookedNow = [...plan.update.filter((_, i) => updateBooked[i]! > 0).map((update) => update.id), ...plan.cancel.filter((_, i) => cancelBooked[i]! > 0)];
  plan.update = plan.update.filter((_, i) => updateBooked[i] === 0);
  plan.cancel = plan.cancel.filter((_, i) => cancelBooked[i] === 0);
  const [removable, changeable] = await Promise.all([
    Promise.all(plan.remove.map((id) => seats.retire(id))),
    Promise.all(plan.update.map(({ id, to }) => seats.reconfigure(id, { capacity: to.capacity, startsAt: to.startsAt }, version))),
  ]);
  const refusedRemovals = plan.remove.filter((_, i) => !removable[i]);
  const refusedUpdates = plan.update.filter((_, i) => !changeable[i]);
  plan.remove = plan.remove.filter((_, i) => removable[i]);
  plan.update = plan.update.filter((_, i) => changeable[i]);
  return [...bookedNow, ...refusedRemovals, ...refusedUpdates.map((update) => update.id)];
}

/** The pattern's sessions with what is booked on them, for the plan. */
async function existingSessions(db: Db, patternId: string): Promise<ExistingSession[]> {
  const rows = await db
    .select({
      id: classSessions.id,
      startsAt: classSessions.startsAt,
      endsAt: classSessions.endsAt,
      capacity: classSessions.capacity,
      location: classSessions.location,
      status: classSessions.status,
      seatsBooked: sql<number>`COALESCE(SUM(CASE WHEN ${bookingSessions.status} = 'confirmed' THEN ${bookingSessions.seats} END), 0)`,
      confirmedLines: sql<number>`COUNT(CASE WHEN ${bookingSessions.status} = 'confirmed' THEN 1 END)`,
      bookingLines: sql<number>`COUNT(${bookingSessions.bookingId})`,
    })
    .from(classSessions)
    .leftJoin(bookingSessions, eq(bookingSessions.sessionId, classSessions.id))
    .where(eq(classSessions.patternId, patternId))
    .groupBy(classSessions.id);
  return rows.map((row) => ({
    ...row,
    seatsBooked: Number(row.seatsBooked),
    confirmedLines: Number(row.confirmedLines),
    bookingLines: Number(row.bookingLines),
  }));
}

/** The pattern's sessions starting after `now`, with their staff ids. */
async function futureSessions(db: Db, patternId: string, now: Date, timeZone: string) {
  const rows = await db
    .select()
    .from(classSessions)
    .where(and(eq(classSessions.patternId, patternId), gt(classSessions.startsAt, now)))
    .orderBy(asc(classSessions.startsAt), asc(classSessions.id));
  const assistants = new Map<string, string[]>();
  for (let i = 0; i < rows.length; i += 90) {
    const chunk = rows.slice(i, i + 90).map((row) => row.id);
    const links = await db.select().from(sessionAssistants).where(inArray(sessionAssistants.sessionId, chunk));
    for (const link of links) assistants.set(link.sessionId, [...(assistants.get(link.sessionId) ?? []), link.staffId]);
  }
  return rows.map((row) => ({
    id: row.id,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    localStart: toLocalIso(row.startsAt, timeZone),
    capacity: row.capacity,
    location: row.location,
    instructorId: row.instructorId,
    status: row.status,
    assistantIds: assistants.get(row.id) ?? [],
  }));
}

/** Default staff the batch left off a session it created or changed, with the session that clashed. */
async function leftOff(
  db: Db,
  sessions: Awaited<ReturnType<typeof futureSessions>>,
  instructorId: string | null,
  assistantIds: string[],
): Promise<StaffConflict[]> {
  const missing: { session: (typeof sessions)[number]; staffId: string; role: "instructor" | "assistant" }[] = [];
  for (const session of sessions) {
    if (instructorId && session.instructorId !== instructorId) missing.push({ session, staffId: instructorId, role: "instructor" });
    for (const staffId of assistantIds) {
      if (!session.assistantIds.includes(staffId)) missing.push({ session, staffId, role: "assistant" });
    }
  }
  if (missing.length === 0) return [];
  const windows = missing.map(({ session }) => ({ sessionId: session.id, startsAt: new Date(session.startsAt), endsAt: new Date(session.endsAt) }));
  const clashes = await findClashes(db, [...new Set(missing.map((m) => m.staffId))], windows);
  return missing.map(({ session, staffId, role }) => {
    const clash = clashes.find(
      (c) =>
        c.staffId === staffId &&
        c.sessionId !== session.id &&
        c.startsAt.getTime() < new Date(session.endsAt).getTime() &&
        c.endsAt.getTime() > new Date(session.startsAt).getTime(),
    );
    return { sessionId: session.id, startsAt: session.startsAt, staffId, role, reason: "DOUBLE_BOOKED" as const, clashingSessionId: clash?.sessionId ?? null };
  });
}
