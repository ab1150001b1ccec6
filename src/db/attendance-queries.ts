/**
 * Reads and writes behind a session's roster: its confirmed seats (booking lines × guest count),
 * the names on them, what staff or the no-show sweep recorded, and compare-and-set changes of
 * that record. Each change names the status it expects to replace, so of two concurrent changes
 * to one attendee only one applies (and only that one emits an event).
 */
import type { AttendanceStatus } from "../domain/attendance";

/** The session facts attendance needs: when it starts and what its events are grouped by. */
export interface AttendanceSession {
  id: string;
  classId: string;
  className: string;
  studioId: string;
  cityId: string;
  timeZone: string;
  startsAt: number;
  status: "scheduled" | "cancelled";
}

const SESSION = `SELECT s.id, s.class_id AS classId, c.name AS className, c.studio_id AS studioId, st.city_id AS cityId, st.time_zone AS timeZone,
  s.starts_at AS startsAt, s.status FROM class_sessions s JOIN classes c ON c.id = s.class_id JOIN studios st ON st.id = c.studio_id WHERE s.id = ?`;

export async function attendanceSession(d1: D1Database, sessionId: string): Promise<AttendanceSession | null> {
  return d1.prepare(SESSION).bind(sessionId).first<AttendanceSession>();
}

/** One confirmed booking line of the session, with the booker's profile. */
export interface RosterLine {
  bookingId: string;
  customerId: string;
  guestCount: number;
  firstName: string;
  lastName: string;
  email: string;
}

export interface AttendeeRow {
  id: string;
  bookingId: string;
  position: number;
  name: string | null;
  email: string | null;
}

export interface AttendanceRow {
  attendeeId: string;
  bookingId: string;
  status: Exclude<AttendanceStatus, "booked">;
  recordedBy: string;
  recordedAt: number;
}

// A line's seats are the session's own count of the booking's people (its guest count, less any
// group participant removed since).
const LINES = `SELECT b.id AS bookingId, b.customer_id AS customerId, bs.seats AS guestCount, cu.first_name AS firstName, cu.last_name AS lastName, cu.email
  FROM booking_sessions bs JOIN bookings b ON b.id = bs.booking_id JOIN customers cu ON cu.id = b.customer_id
  WHERE bs.session_id = ?1 AND bs.status = 'confirmed' ORDER BY b.confirmed_at, b.id`;

const ATTENDEES = `SELECT a.id, a.booking_id AS bookingId, a.position, a.name, a.email FROM booking_attendees a
  WHERE a.booking_id IN (SELECT booking_id FROM booking_sessions WHERE session_id = ?1 AND status = 'confirmed') ORDER BY a.booking_id, a.position`;

const ATTENDANCE = `SELECT attendee_id AS attendeeId, booking_id AS bookingId, status, recorded_by AS recordedBy, recorded_at AS recordedAt
  FROM session_attendance WHERE session_id = ?1`;

/** Everything a roster is made of, read in one round trip (one D1 batch). */
export async function rosterParts(d1: D1Database, sessionId: string) {
  const [lines, attendees, attendance] = await d1.batch([d1.prepare(LINES).bind(sessionId), d1.prepare(ATTENDEES).bind(sessionId), d1.prepare(ATTENDANCE).bind(sessionId)]);
  return {
    lines: lines!.results as RosterLine[],
    attendees: attendees!.results as AttendeeRow[],
    attendance: attendance!.results as AttendanceRow[],
  };
}

/** Who records a set of changes to one session's attendance, and when. */
export interface ChangeContext {
  sessionId: string;
  recordedBy: string;
  at: number;
}

/** One attendee's move from `from` to `to`. */
export interface AttendanceChange {
  attendeeId: string;
  bookingId: string;
  from: AttendanceStatus;
  to: AttendanceStatus;
}

// Marks of attendees still `booked` in one statement (a roster may have hundreds): each a
// `[attendeeId, bookingId, status]` in a JSON parameter; a row already there stays as it is.
const INSERT_MARKS = `INSERT INTO session_attendance (session_id, attendee_id, booking_id, status, recorded_by, recorded_at)
  SELECT ?1, json_extract(mark.value, '$[0]'), json_extract(mark.value, '$[1]'), json_extract(mark.value, '$[2]'), ?2, ?3
  FROM json_each(?4) AS mark WHERE true
  ON CONFLICT DO NOTHING RETURNING attendee_id AS attendeeId`;
const UPDATE_MARK = `UPDATE session_attendance SET status = ?4, recorded_by = ?5, recorded_at = ?6
  WHERE session_id = ?1 AND attendee_id = ?2 AND status = ?3 RETURNING attendee_id AS attendeeId`;
const DELETE_MARK = `DELETE FROM session_attendance WHERE session_id = ?1 AND attendee_id = ?2 AND status = ?3 RETURNING attendee_id AS attendeeId`;

/**
 * Runs changes as compare-and-set writes in one transaction (plus `extra` statements, run last)
 * and returns those that applied; the others found the attendee no longer in their `from` status.
 */
export async function applyChanges(d1: D1Database, context: ChangeContext, changes: AttendanceChange[], extra: D1PreparedStatement[] = []): Promise<AttendanceChange[]> {
  const { sessionId, recordedBy, at } = context;
  const fromBooked = changes.filter((change) => change.from === "booked");
  const others = changes.filter((change) => change.from !== "booked");
  const statements = [
    ...(fromBooked.length > 0 ? [d1.prepare(INSERT_MARKS).bind(sessionId, recordedBy, at, JSON.stringify(fromBooked.map((c) => [c.attendeeId, c.bookingId, c.to])))] : []),
    ...others.map((c) =>
      c.to === "booked" ? d1.prepare(DELETE_MARK).bind(sessionId, c.attendeeId, c.from) : d1.prepare(UPDATE_MARK).bind(sessionId, c.attendeeId, c.from, c.to, recordedBy, at),
    ),
    ...extra,
  ];
  if (statements.length === 0) return [];
  const results = await d1.batch<{ attendeeId: string }>(statements);
  const written = new Set(results.slice(0, statements.length - extra.length).flatMap((result) => result.results.map((row) => row.attendeeId)));
  return changes.filter((change) => written.has(change.attendeeId));
}

/**
 * Sessions the no-show sweep still owes: started between `from` and `until`, not cancelled, not
 * swept yet, oldest first (on the starts_at index).
 */
const DUE_SESSIONS = `SELECT s.id FROM class_sessions s LEFT JOIN attendance_sweeps w ON w.session_id = s.id
  WHERE s.starts_at >= ?1 AND s.starts_at <= ?2 AND s.status = 'scheduled' AND w.session_id IS NULL ORDER BY s.starts_at LIMIT ?3`;

export async function sessionsDueForSweep(d1: D1Database, from: number, until: number, limit: number): Promise<string[]> {
  const { results } = await d1.prepare(DUE_SESSIONS).bind(from, until, limit).all<{ id: string }>();
  return results.map((row) => row.id);
}

/** Records a session as swept (kept if it already was: a second run in flight changes nothing). */
export function sweptStatement(d1: D1Database, sessionId: string, marked: number, at: number): D1PreparedStatement {
  return d1.prepare(`INSERT INTO attendance_sweeps (session_id, marked, swept_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`).bind(sessionId, marked, at);
}
