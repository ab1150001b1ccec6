/**
 * Calendar events (RFC 5545) for booked session lines and for a class's sessions, as plain
 * descriptions: which event (a UID that never changes), which revision of it (SEQUENCE, growing
 * with every change), confirmed or cancelled, when (UTC instants) and the zone to show it in.
 * Pure: the service (src/services/calendar.ts) loads the rows and writes the iCalendar text.
 *
 * - A booked line is `<bookingId>-<sessionId>@<host>`; a class's session is `<sessionId>@<host>`,
 *   another event, so a customer subscribed to both sees their booking and the timetable apart.
 * - SEQUENCE: a line's `version` (the session's change counter when the line last changed, so a
 *   cancellation raises it) plus the session's own revision (whole seconds its row changed after
 *   it was made: a new location or a cancelled session raises it). Both only grow, so their sum
 *   does; it is capped at RFC 5545's largest INTEGER.
 * - A line is cancelled when the customer cancelled it or the session was cancelled.
 */

/** RFC 5545 INTEGER is a signed 32-bit number. */
export const MAX_SEQUENCE = 2_147_483_647;

/** How far back a customer's feed reaches: sessions that ended in the last 30 days stay on it. */
export const RECENT_FEED_DAYS = 30;

export type CalendarStatus = "CONFIRMED" | "CANCELLED";

/** A session as the calendar needs it. */
export interface CalendarSession {
  sessionId: string;
  startsAt: Date;
  endsAt: Date;
  status: "scheduled" | "cancelled";
  /** The session's own place (a room), shown before the studio's. */
  location: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A booked line: the session with the booking's status and version for it. */
export interface CalendarLine extends CalendarSession {
  bookingId: string;
  lineStatus: "confirmed" | "cancelled";
  /** booking_sessions.version; 0 while D1 has not got the line yet. */
  version: number;
}

/** What every event of one class says about where: the class's name and its studio. */
export interface CalendarPlace {
  className: string;
  studioName: string | null;
  studioAddress: string | null;
  /** The zone times are written in (a TZID with its VTIMEZONE), or null for UTC. */
  timeZone: string | null;
  /** The host that makes UIDs globally unique (PUBLIC_BASE_URL's). */
  host: string;
}

export interface CalendarEvent {
  uid: string;
  sequence: number;
  status: CalendarStatus;
  start: Date;
  end: Date;
  timeZone: string | null;
  summary: string;
  location: string | null;
  /** Text for the event's DESCRIPTION, or null for none. */
  description: string | null;
}

/** The host part of UIDs: PUBLIC_BASE_URL's host name, without a port. */
export function calendarHost(publicBaseUrl: string): string {
  return new URL(publicBaseUrl).hostname;
}

export const bookingLineUid = (bookingId: string, sessionId: string, host: string) => `${bookingId}-${sessionId}@${host}`;
export const classSessionUid = (sessionId: string, host: string) => `${sessionId}@${host}`;

/** Whole seconds a session's row changed after it was made (0 for one never changed). */
export function sessionRevision(session: Pick<CalendarSession, "createdAt" | "updatedAt">): number {
  return Math.max(0, Math.floor((session.updatedAt.getTime() - session.createdAt.getTime()) / 1000));
}

function sequenceOf(...parts: number[]): number {
  const sum = parts.reduce((total, part) => total + (Number.isFinite(part) && part > 0 ? Math.floor(part) : 0), 0);
  return Math.min(MAX_SEQUENCE, sum);
}

/** The session's room, the studio and its address, without repeats; null when none is known. */
export function eventLocation(sessionLocation: string | null, place: Pick<CalendarPlace, "studioName" | "studioAddress">): string | null {
  const parts: string[] = [];
  for (const part of [sessionLocation, place.studioName, place.studioAddress]) {
    const text = part?.trim();
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.length > 0 ? parts.join(", ") : null;
}

/** The event of one booked line. `description` is the caller's (the booking file's manage link), or none. */
export function bookingLineEvent(line: CalendarLine, place: CalendarPlace, description: string | null = null): CalendarEvent {
  const cancelled = line.lineStatus === "cancelled" || line.status === "cancelled";
  return {
    uid: bookingLineUid(line.bookingId, line.sessionId, place.host),
    sequence: sequenceOf(line.version, sessionRevision(line)),
    status: cancelled ? "CANCELLED" : "CONFIRMED",
    start: line.startsAt,
    end: line.endsAt,
    timeZone: place.timeZone,
    summary: place.className,
    location: eventLocation(line.location, place),
    description,
  };
}

/** The event of one of a class's sessions, for its public feed: nothing about anyone booked. */
export function classSessionEvent(session: CalendarSession, place: CalendarPlace): CalendarEvent {
  return {
    uid: classSessionUid(session.sessionId, place.host),
    sequence: sequenceOf(sessionRevision(session)),
    status: session.status === "cancelled" ? "CANCELLED" : "CONFIRMED",
    start: session.startsAt,
    end: session.endsAt,
    timeZone: place.timeZone,
    summary: place.className,
    location: eventLocation(session.location, place),
    description: null,
  };
}

/** The earliest end a session may have to stay on a customer's feed at `now`. */
export function feedWindowStart(now: number): Date {
  return new Date(now - RECENT_FEED_DAYS * 86_400_000);
}

/** A file name for a booking's calendar file: the id's safe characters only. */
export function bookingCalendarFileName(bookingId: string): string {
  return `booking-${bookingId.replace(/[^A-Za-z0-9_-]/g, "")}.ics`;
}
