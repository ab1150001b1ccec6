/**
 * Attendance rules, pure: what an attendee's status can be, when it may be recorded, which event
 * a change is, and how a roster is put together from a session's booking lines, the names on
 * their seats and what was recorded. (Stored: src/db/schema/studio-operations.ts.)
 */
import { attendeeId } from "./attendees";
import type { EventType } from "./events";

/** `booked` is the absence of a record; staff or the no-show sweep record the other two. */
export const ROSTER_STATUSES = ["booked", "checked_in", "no_show"] as const;
export type AttendanceStatus = (typeof ROSTER_STATUSES)[number];

/** Who recorded a no-show the sweep found. */
export const SYSTEM_RECORDER = "system";

/** The event a change to `to` is: ATTENDED, NO_SHOW, or ATTENDANCE_UNDONE back to booked. */
export function attendanceEventType(to: AttendanceStatus): EventType {
  return to === "checked_in" ? "ATTENDED" : to === "no_show" ? "NO_SHOW" : "ATTENDANCE_UNDONE";
}

/**
 * When staff may record `to` for a session starting at `startsAt`: a check-in from `checkInOpensMs`
 * before the start, a no-show from the start, an undo whenever there is something to undo.
 * Returns the instant it opens, or null when it is open now.
 */
export function attendanceOpensAt(to: AttendanceStatus, startsAt: number, now: number, checkInOpensMs: number): number | null {
  const opensAt = to === "checked_in" ? startsAt - checkInOpensMs : to === "no_show" ? startsAt : Number.NEGATIVE_INFINITY;
  return now < opensAt ? opensAt : null;
}

export interface RosterEntry {
  attendeeId: string;
  bookingId: string;
  customerId: string;
  position: number;
  name: string | null;
  email: string | null;
  status: AttendanceStatus;
  recordedBy: string | null;
  recordedAt: number | null;
}

interface Line {
  bookingId: string;
  customerId: string;
  guestCount: number;
  firstName: string;
  lastName: string;
  email: string;
}

interface Named {
  id: string;
  position: number;
  name: string | null;
  email: string | null;
}

interface Recorded {
  attendeeId: string;
  status: "checked_in" | "no_show";
  recordedBy: string;
  recordedAt: number;
}

/**
 * Every seat of every line, in line order then position: its name and email as stored, or (no
 * row yet) the booker's profile at position 1 and nothing for the others; its recorded status or
 * `booked`. `missing` lists the seats with no attendee row, for the caller to fill in.
 */
export function composeRoster(lines: Line[], attendees: Named[], recorded: Recorded[]): { entries: RosterEntry[]; missing: { id: string; position: number; bookingId: string }[] } {
  const named = new Map(attendees.map((row) => [row.id, row]));
  const marks = new Map(recorded.map((row) => [row.attendeeId, row]));
  const entries: RosterEntry[] = [];
  const missing: { id: string; position: number; bookingId: string }[] = [];
  for (const line of lines) {
    for (let position = 1; position <= line.guestCount; position++) {
      const id = attendeeId(line.bookingId, position);
      const row = named.get(id);
      if (!row) missing.push({ id, position, bookingId: line.bookingId });
      const booker = position === 1 ? { name: `${line.firstName} ${line.lastName}`.trim() || null, email: line.email } : { name: null, email: null };
      const mark = marks.get(id);
      entries.push({
        attendeeId: id,
        bookingId: line.bookingId,
        customerId: line.customerId,
        position,
        name: row ? row.name : booker.name,
        email: row ? row.email : booker.email,
        status: mark?.status ?? "booked",
        recordedBy: mark?.recordedBy ?? null,
        recordedAt: mark?.recordedAt ?? null,
      });
    }
  }
  return { entries, missing };
}
