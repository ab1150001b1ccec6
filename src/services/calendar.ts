/**
 * Calendar files (iCalendar, RFC 5545, written by ical-generator): a booking's file, a customer's
 * private feed and a class's public feed. This loads the rows, src/domain/calendar.ts says what
 * each event is, and this writes them out with METHOD:PUBLISH.
 *
 * Times: each event is written in its studio's IANA zone (DTSTART;TZID=Europe/London:…) with that
 * zone's VTIMEZONE (timezones-ical-library), so a client shows it at the studio's wall-clock time
 * whatever zone it is in; a zone the library does not know, and UTC itself, are written as UTC
 * instants (…Z). Luxon turns each instant into the zone's wall-clock time: ical-generator would
 * read a plain Date with the runtime's own zone, which in a Worker is UTC.
 */
import { and, asc, eq, gt, gte, inArray, sql } from "drizzle-orm";
import { ICalCalendar, ICalCalendarMethod, ICalEventStatus } from "ical-generator";
import { DateTime } from "luxon";
import { tzlib_get_ical_block, tzlib_get_timezones } from "timezones-ical-library";
import { type ConfigSource, configOf } from "../config";
import type { Db } from "../db/client";
import { bookings, bookingSessions, classes, classSessions, customers, studios } from "../db/schema";
import {
  bookingCalendarFileName,
  bookingLineEvent,
  type CalendarEvent,
  type CalendarLine,
  type CalendarPlace,
  type CalendarSession,
  calendarHost,
  classSessionEvent,
  feedWindowStart,
} from "../domain/calendar";
import type { BookingView } from "./booking-views";
import { currentManageToken } from "./manage-tokens";

/** Most sessions a class's public feed lists (the next ones by start). */
export const MAX_CLASS_FEED_SESSIONS = 500;
/** Most lines a customer's feed lists (the earliest in its window first). */
export const MAX_CUSTOMER_FEED_LINES = 1000;
/** How often a subscribed client is asked to fetch a feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL). */
const FEED_REFRESH_SECONDS = 3600;

export const CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8";

// ---- zones ---------------------------------------------------------------------------------

let libraryZones: ReadonlySet<string> | undefined;
const UTC_NAMES = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"]);

/** The library's VTIMEZONE of a zone, and the TZID it names it by; undefined when it has none. */
function vtimezoneOf(zone: string): { tzid: string; block: string } | undefined {
  libraryZones ??= new Set(tzlib_get_timezones() as string[]);
  // Asked only for zones it lists: it logs an error for any other.
  if (!libraryZones.has(zone)) return undefined;
  const found = tzlib_get_ical_block(zone);
  if (!Array.isArray(found) || typeof found[0] !== "string" || !found[0].startsWith("BEGIN:VTIMEZONE")) return undefined;
  const tzid = /^TZID:(.+)$/m.exec(found[0])?.[1]?.trim();
  return tzid ? { tzid, block: found[0] } : undefined;
}

/**
 * The TZID events of a studio in `zone` are written in, or null for UTC: the zone itself, or the
 * name the library files it under when that is another (a link such as Europe/Belfast), which
 * keeps each event's TZID equal to its VTIMEZONE's.
 */
export function calendarZone(zone: string): string | null {
  if (UTC_NAMES.has(zone)) return null;
  return vtimezoneOf(zone)?.tzid ?? null;
}

// ---- writing ---------------------------------------------------------------------------------

interface CalendarOptions {
  name: string;
  /** Ask subscribed clients to fetch again after this long (feeds, not one-off files). */
  refreshSeconds?: number;
}

const STATUS = { CONFIRMED: ICalEventStatus.CONFIRMED, CANCELLED: ICalEventStatus.CANCELLED } as const;

/** The iCalendar text of some events. */
export function writeCalendar(events: CalendarEvent[], options: CalendarOptions): string {
  const calendar = new ICalCalendar({
    name: options.name,
    prodId: { company: "class-booking", product: "calendar", language: "EN" },
    method: ICalCalendarMethod.PUBLISH,
    // No calendar-wide zone (DTSTAMP stays UTC): only the generator, which adds one VTIMEZONE per
    // zone the events name. The zones given here all have one (calendarZone).
    timezone: { name: null, generator: (zone) => vtimezoneOf(zone)?.block ?? null },
    ...(options.refreshSeconds !== undefined && { ttl: options.refreshSeconds }),
  });
  for (const event of events) {
    const zone = event.timeZone ?? "utc";
    calendar.createEvent({
      id: event.uid,
      sequence: event.sequence,
      status: STATUS[event.status],
      start: DateTime.fromJSDate(event.start, { zone }),
      end: DateTime.fromJSDate(event.end, { zone }),
      timezone: event.timeZone,
      summary: event.summary,
      location: event.location,
      description: event.description,
    });
  }
  return calendar.toString();
}

// ---- loading ---------------------------------------------------------------------------------

const sessionColumns = {
  sessionId: classSessions.id,
  startsAt: classSessions.startsAt,
  endsAt: classSessions.endsAt,
  status: classSessions.status,
  location: classSessions.location,
  createdAt: classSessions.createdAt,
  updatedAt: classSessions.updatedAt,
};

// Distinct names throughout: a D1 batch hands rows back keyed by column name, and classes and
// studios both have a `name` (booking_sessions and class_sessions a `status`).
const placeColumns = {
  className: sql<string>`${classes.name}`.as("class_name"),
  studioName: sql<string>`${studios.name}`.as("studio_name"),
  studioAddress: studios.address,
  studioZone: studios.timeZone,
};

type PlaceRow = { className: string; studioName: string; studioAddress: string | null; studioZone: string };

function placeOf(row: PlaceRow, host: string): CalendarPlace {
  return { className: row.className, studioName: row.studioName, studioAddress: row.studioAddress, timeZone: calendarZone(row.studioZone), host };
}

/** The query for a class's name and studio (no row for an unknown class). */
function placeQuery(db: Db, classId: string) {
  return db.select(placeColumns).from(classes).innerJoin(studios, eq(studios.id, classes.studioId)).where(eq(classes.id, classId));
}

export interface CalendarFile {
  fileName: string;
  text: string;
}

/**
 * A booking's calendar file: one event per booked line, each with the booking's manage link. The
 * booking is the one its reader was allowed to open (from D1 or, just after it was made, from its
 * objects); its lines' versions are D1's, 0 while D1 has not got a line.
 */
export async function bookingCalendar(env: ConfigSource, db: Db, booking: BookingView): Promise<CalendarFile> {
  const config = configOf(env);
  const host = calendarHost(config.publicBaseUrl);
  // A booking has at least one line; the placeholder only keeps the query valid.
  const sessionIds = booking.lines.length > 0 ? booking.lines.map((line) => line.sessionId) : [""];
  const [[placeRow], sessionRows, versionRows] = await db.batch([
    placeQuery(db, booking.classId),
    db.select(sessionColumns).from(classSessions).where(inArray(classSessions.id, sessionIds)),
    db.select({ sessionId: bookingSessions.sessionId, version: bookingSessions.version }).from(bookingSessions).where(eq(bookingSessions.bookingId, booking.id)),
  ]);
  const place = placeRow ? placeOf(placeRow, host) : { className: "Class", studioName: null, studioAddress: null, timeZone: null, host };
  const sessions = new Map(sessionRows.map((row) => [row.sessionId, row]));
  const versions = new Map(versionRows.map((row) => [row.sessionId, row.version]));
  const manageLink = `${config.publicBaseUrl}/api/v1/bookings/${encodeURIComponent(booking.id)}?token=${await currentManageToken(env, db, booking.id)}`;
  const description = `${booking.guestCount === 1 ? "1 seat" : `${booking.guestCount} seats`}, booking ${booking.id}.\nView or cancel your booking: ${manageLink}`;
  const events = booking.lines.map((line) => {
    const session = sessions.get(line.sessionId);
    const calendarLine: CalendarLine = {
      sessionId: line.sessionId,
      startsAt: session?.startsAt ?? new Date(line.startsAt),
      endsAt: session?.endsAt ?? new Date(line.endsAt),
      status: session?.status ?? "scheduled",
      location: session?.location ?? null,
      createdAt: session?.createdAt ?? new Date(0),
      updatedAt: session?.updatedAt ?? new Date(0),
      bookingId: booking.id,
      lineStatus: line.status,
      version: versions.get(line.sessionId) ?? 0,
    };
    return bookingLineEvent(calendarLine, place, description);
  });
  return { fileName: bookingCalendarFileName(booking.id), text: writeCalendar(events, { name: place.className }) };
}

/**
 * A class's public feed: its sessions not yet over, by start (cancelled ones marked cancelled),
 * with nothing about who booked. Undefined for an unknown class.
 */
export async function classCalendar(env: ConfigSource, db: Db, classId: string, now = Date.now()): Promise<string | undefined> {
  const [placeRow] = await placeQuery(db, classId);
  if (!placeRow) return undefined;
  const place = placeOf(placeRow, calendarHost(configOf(env).publicBaseUrl));
  const sessions: CalendarSession[] = await db
    .select(sessionColumns)
    .from(classSessions)
    .where(and(eq(classSessions.classId, classId), gt(classSessions.endsAt, new Date(now))))
    .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
    .limit(MAX_CLASS_FEED_SESSIONS);
  return writeCalendar(
    sessions.map((session) => classSessionEvent(session, place)),
    { name: `${place.className}${place.studioName ? ` at ${place.studioName}` : ""}`, refreshSeconds: FEED_REFRESH_SECONDS },
  );
}

const lineStatusColumn = sql<"confirmed" | "cancelled">`${bookingSessions.status}`.as("line_status");

/**
 * A customer's private feed: every line of their bookings whose session ends after the window's
 * start (the last RECENT_FEED_DAYS days and everything to come), cancelled ones marked
 * cancelled. No manage links: a feed's URL is handed to calendar services, and a manage token
 * would let whoever holds it cancel.
 */
export async function customerCalendar(env: ConfigSource, db: Db, email: string, now = Date.now()): Promise<string> {
  const host = calendarHost(configOf(env).publicBaseUrl);
  const rows = await db
    .select({ ...sessionColumns, ...placeColumns, bookingId: bookingSessions.bookingId, lineStatus: lineStatusColumn, version: bookingSessions.version })
    .from(bookingSessions)
    .innerJoin(bookings, eq(bookings.id, bookingSessions.bookingId))
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(and(eq(customers.email, email.toLowerCase()), gte(classSessions.endsAt, feedWindowStart(now))))
    .orderBy(asc(classSessions.startsAt), asc(bookingSessions.bookingId))
    .limit(MAX_CUSTOMER_FEED_LINES);
  return writeCalendar(
    rows.map((row) => bookingLineEvent(row, placeOf(row, host))),
    { name: "My classes", refreshSeconds: FEED_REFRESH_SECONDS },
  );
}
