/** Helpers for the attendance tests: sessions at a given time, roster calls, attendance events. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { attendeeId } from "../src/domain/attendees";
import { makeBooking, makeClass, makeSession } from "./fixtures";
import { call, eventuallyPasses, tokenFor } from "./helpers";

/** A class and one of its sessions starting `minutes` from now (negative: started that long ago). */
export async function sessionStartingIn(minutes: number, overrides: { status?: "scheduled" | "cancelled" } = {}) {
  const klass = await makeClass();
  const session = await makeSession(klass.id, { startsAt: new Date(Date.now() + minutes * 60_000), ...overrides });
  return { klass, session };
}

/** A confirmed booking of `seats` on the session, written straight into D1 (no attendee rows: as before they existed). */
export async function bookedSeats(sessionId: string, seats: number) {
  const bookingId = await makeBooking(sessionId, seats);
  return { bookingId, attendeeIds: Array.from({ length: seats }, (_, i) => attendeeId(bookingId, i + 1)) };
}

export async function staffToken() {
  return tokenFor("staff");
}

export function roster(sessionId: string, token: string) {
  return call("GET", `/api/v1/admin/sessions/${sessionId}/roster`, { token });
}

export function mark(sessionId: string, id: string, action: "check-in" | "no-show" | "undo", token: string) {
  return call("POST", `/api/v1/admin/sessions/${sessionId}/roster/${id}/${action}`, { token });
}

export type EventRow = { id: string; type: string; session_id: string; class_id: string; studio_id: string; booking_id: string; customer_id: string; data: string };

/** The attendance events of a session in D1 (written by the events consumer), oldest first. */
export async function attendanceEvents(sessionId: string): Promise<EventRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, type, session_id, class_id, studio_id, booking_id, customer_id, data FROM events
     WHERE session_id = ? AND type IN ('ATTENDED', 'NO_SHOW', 'ATTENDANCE_UNDONE') ORDER BY occurred_at, id`,
  )
    .bind(sessionId)
    .all<EventRow>();
  return results;
}

/**
 * Waits until the session has `count` attendance events, then gives late ones time to arrive
 * and checks there are still exactly `count` (an event emitted twice would show up by then).
 */
export async function settledAttendanceEvents(sessionId: string, count: number): Promise<EventRow[]> {
  await eventuallyPasses(async () => expect((await attendanceEvents(sessionId)).length).toBeGreaterThanOrEqual(count));
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const rows = await attendanceEvents(sessionId);
  expect(rows).toHaveLength(count);
  return rows;
}

/** The session_attendance rows of a session, by attendee. */
export async function attendanceRows(sessionId: string) {
  const { results } = await env.DB.prepare(`SELECT attendee_id AS attendeeId, status, recorded_by AS recordedBy FROM session_attendance WHERE session_id = ? ORDER BY attendee_id`)
    .bind(sessionId)
    .all<{ attendeeId: string; status: string; recordedBy: string }>();
  return results;
}
