/**
 * Attendance at a session: its roster (every seat of every confirmed booking line), check-ins,
 * no-shows and undo by staff, and the no-show sweep's marks. Every change is a compare-and-set
 * write (src/db/attendance-queries.ts), so marking twice, or two staff marking at once, records
 * and emits once. Changes emit ATTENDED, NO_SHOW or ATTENDANCE_UNDONE through the events Queue,
 * awaited before the caller answers (not left to waitUntil).
 */
import { configOf } from "../config";
import { applyChanges, type AttendanceChange, attendanceSession, type AttendanceSession, type ChangeContext, rosterParts, sweptStatement } from "../db/attendance-queries";
import { missingSeatsStatement } from "../db/attendee-rows";
import { attendanceEventType, attendanceOpensAt, type AttendanceStatus, composeRoster, type RosterEntry, SYSTEM_RECORDER } from "../domain/attendance";
import { domainEvent } from "../domain/events";
import type { Env } from "../env";
import { ApiError, notFound } from "../errors";
import { emitEvents } from "./events";

export type { AttendanceStatus, RosterEntry } from "../domain/attendance";

/** A change that lost its compare-and-set to a concurrent one is re-read and tried again this often. */
const CHANGE_ATTEMPTS = 3;

/** The session (404 when unknown) and its roster. */
export async function sessionRoster(d1: D1Database, sessionId: string, now = Date.now()): Promise<{ session: AttendanceSession; entries: RosterEntry[] }> {
  const session = await attendanceSession(d1, sessionId);
  if (!session) throw notFound("Session", sessionId);
  return { session, entries: await rosterOf(d1, sessionId, now) };
}

/**
 * The roster of a session. Seats of bookings projected before attendee rows existed get theirs
 * here (best effort: a read goes on while D1 refuses writes, showing the booker's profile).
 */
async function rosterOf(d1: D1Database, sessionId: string, now: number): Promise<RosterEntry[]> {
  const { lines, attendees, attendance } = await rosterParts(d1, sessionId);
  const { entries, missing } = composeRoster(lines, attendees, attendance);
  if (missing.length > 0) {
    await missingSeatsStatement(d1, missing.map((seat) => [seat.id, seat.position, seat.bookingId]), now)
      .run()
      .catch((error) => console.error(JSON.stringify({ level: "warn", msg: "could not fill attendee rows", sessionId, seats: missing.length, error: String(error) })));
  }
  return entries;
}

/**
 * Staff record `to` (checked_in, no_show, or booked to undo) for some attendees of a session:
 * all of them or none. 404 for an unknown session or an attendee not on its roster; 409
 * ATTENDANCE_NOT_OPEN before check-in opens (or, for a no-show, before the start) and on a
 * cancelled session. Returns the attendees as they are afterwards.
 */
export async function recordAttendance(
  env: Env,
  input: { sessionId: string; attendeeIds: string[]; to: AttendanceStatus; recordedBy: string; now?: number },
): Promise<RosterEntry[]> {
  const now = input.now ?? Date.now();
  const { session, entries } = await sessionRoster(env.DB, input.sessionId, now);
  if (input.to !== "booked") {
    if (session.status === "cancelled") throw new ApiError("ATTENDANCE_NOT_OPEN", `Session ${session.id} is cancelled`, { sessionId: session.id });
    const opensAt = attendanceOpensAt(input.to, session.startsAt, now, configOf(env).checkInOpensMs);
    if (opensAt !== null) {
      const what = input.to === "checked_in" ? "Check-in" : "Recording a no-show";
      throw new ApiError("ATTENDANCE_NOT_OPEN", `${what} opens at ${new Date(opensAt).toISOString()}`, { sessionId: session.id, opensAt: new Date(opensAt).toISOString() });
    }
  }
  const wanted = [...new Set(input.attendeeIds)];
  const onRoster = new Map(entries.map((entry) => [entry.attendeeId, entry]));
  const unknown = wanted.filter((id) => !onRoster.has(id));
  if (unknown.length > 0) {
    throw new ApiError("NOT_FOUND", `${unknown.length === 1 ? `Attendee ${unknown[0]} is` : `${unknown.length} attendees are`} not on the roster of session ${session.id}`, {
      resource: "Attendee",
      sessionId: session.id,
      attendeeIds: unknown,
    });
  }
  const result = await changeUntilSettled(env, session, wanted, onRoster, input.to, { sessionId: session.id, recordedBy: input.recordedBy, at: now });
  // An attendee whose booking was cancelled meanwhile has left the roster.
  const gone = wanted.filter((id) => !result.has(id));
  if (gone.length > 0) throw new ApiError("NOT_FOUND", `No longer on the roster of session ${session.id}`, { resource: "Attendee", sessionId: session.id, attendeeIds: gone });
  return wanted.map((id) => result.get(id)!);
}

/**
 * Moves `ids` to `to`, re-reading the roster for those a concurrent change got to first (their
 * `from` is stale), and emits one event per change that applied. Returns every roster entry as
 * last seen.
 */
async function changeUntilSettled(
  env: Pick<Env, "DB" | "EVENTS">,
  session: AttendanceSession,
  ids: string[],
  roster: Map<string, RosterEntry>,
  to: AttendanceStatus,
  context: ChangeContext,
): Promise<Map<string, RosterEntry>> {
  const applied: { change: AttendanceChange; entry: RosterEntry }[] = [];
  let pending = ids;
  for (let attempt = 1; pending.length > 0 && attempt <= CHANGE_ATTEMPTS; attempt++) {
    if (attempt > 1) roster = new Map((await rosterOf(env.DB, session.id, context.at)).map((entry) => [entry.attendeeId, entry]));
    const changes = pending.flatMap((id) => {
      const entry = roster.get(id);
      return entry && entry.status !== to ? [{ attendeeId: id, bookingId: entry.bookingId, from: entry.status, to }] : [];
    });
    const done = await applyChanges(env.DB, context, changes);
    for (const change of done) {
      const entry = roster.get(change.attendeeId)!;
      applied.push({ change, entry });
      roster.set(change.attendeeId, { ...entry, ...recordedFields(to, context) });
    }
    const doneIds = new Set(done.map((change) => change.attendeeId));
    pending = changes.filter((change) => !doneIds.has(change.attendeeId)).map((change) => change.attendeeId);
  }
  // What did apply is announced even when some changes kept losing to concurrent ones.
  await emitAttendanceEvents(env, session, context, applied);
  if (pending.length > 0) throw new ApiError("IDEMPOTENCY_IN_PROGRESS", "Attendance for these attendees is being changed by someone else; try again", { attendeeIds: pending });
  return roster;
}

function recordedFields(to: AttendanceStatus, context: ChangeContext) {
  return to === "booked" ? { status: to, recordedBy: null, recordedAt: null } : { status: to, recordedBy: context.recordedBy, recordedAt: context.at };
}

/** One event per applied change: ATTENDED, NO_SHOW or ATTENDANCE_UNDONE, with what it replaced. */
async function emitAttendanceEvents(env: Pick<Env, "EVENTS">, session: AttendanceSession, context: ChangeContext, applied: { change: AttendanceChange; entry: RosterEntry }[]): Promise<void> {
  await emitEvents(
    env,
    applied.map(({ change, entry }) =>
      domainEvent(attendanceEventType(change.to), {
        occurredAt: context.at,
        sessionId: session.id,
        classId: session.classId,
        studioId: session.studioId,
        cityId: session.cityId,
        bookingId: entry.bookingId,
        customerId: entry.customerId,
        email: entry.email,
        data: { attendeeId: change.attendeeId, previousStatus: change.from, status: change.to, recordedBy: context.recordedBy },
      }),
    ),
  );
}

/**
 * The no-show sweep for one session: every attendee still `booked` becomes `no_show`, recorded by
 * "system", and the session is recorded as swept in the same transaction, so it is swept once
 * (a later undo by staff stays). Returns how many it marked.
 */
export async function sweepSessionNoShows(env: Pick<Env, "DB" | "EVENTS">, sessionId: string, now: number): Promise<number> {
  const session = await attendanceSession(env.DB, sessionId);
  if (!session) return 0;
  const entries = await rosterOf(env.DB, sessionId, now);
  const context = { sessionId, recordedBy: SYSTEM_RECORDER, at: now };
  const changes = entries.filter((entry) => entry.status === "booked").map((entry) => ({ attendeeId: entry.attendeeId, bookingId: entry.bookingId, from: "booked" as const, to: "no_show" as const }));
  const done = await applyChanges(env.DB, context, changes, [sweptStatement(env.DB, sessionId, changes.length, now)]);
  const byId = new Map(entries.map((entry) => [entry.attendeeId, entry]));
  await emitAttendanceEvents(env, session, context, done.map((change) => ({ change, entry: byId.get(change.attendeeId)! })));
  return done.length;
}
