/**
 * The staff search over bookings (the D1 projection): by session, class, email, customer name,
 * status, booking date and session date, newest first. One query serves the admin API
 * (GET /api/v1/admin/bookings), the console's bookings page and its CSV export, so the three never
 * disagree about what a filter means.
 */
import { and, asc, desc, eq, gte, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { BOOKING_STATUSES, type BookingSource, bookings, classes, customers, studios } from "../db/schema";
import { bookingLines, toBookingView } from "./booking-views";

export interface BookingSearch {
  sessionId?: string | undefined;
  classId?: string | undefined;
  /** Exact address, case-insensitive. */
  email?: string | undefined;
  /** Part of the customer's first or last name (or "first last"), case-insensitive. */
  name?: string | undefined;
  status?: (typeof BOOKING_STATUSES)[number] | undefined;
  /** Where it came from; `website` includes older bookings recorded without a source. */
  source?: BookingSource | undefined;
  /** The staff subject who made it (bookings_booked_by_idx). */
  bookedBy?: string | undefined;
  /** Booked at or after. */
  from?: Date | undefined;
  /** Booked before. */
  to?: Date | undefined;
  /** With a session starting at or after. */
  sessionFrom?: Date | undefined;
  /** With a session starting before. */
  sessionTo?: Date | undefined;
}

/** Where the previous page ended (newest first: the next page is strictly older). */
export interface BookingSearchCursor {
  confirmedAt: Date;
  id: string;
}

/** `%` and `_` in what staff type are letters, not wildcards. */
const likePattern = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function conditionsOf(search: BookingSearch, after?: BookingSearchCursor): SQL | undefined {
  const name = search.name?.trim();
  return and(
    search.classId ? eq(bookings.classId, search.classId) : undefined,
    search.status ? eq(bookings.status, search.status) : undefined,
    search.source === "website" ? or(eq(bookings.source, "website"), isNull(bookings.source)) : search.source ? eq(bookings.source, search.source) : undefined,
    search.bookedBy ? eq(bookings.bookedBy, search.bookedBy) : undefined,
    search.email ? eq(customers.email, search.email.toLowerCase()) : undefined,
    name
      ? or(
          sql`lower(${customers.firstName}) LIKE ${likePattern(name)} ESCAPE '\\'`,
          sql`lower(${customers.lastName}) LIKE ${likePattern(name)} ESCAPE '\\'`,
          sql`lower(${customers.firstName} || ' ' || ${customers.lastName}) LIKE ${likePattern(name)} ESCAPE '\\'`,
        )
      : undefined,
    search.from ? gte(bookings.confirmedAt, search.from) : undefined,
    search.to ? lt(bookings.confirmedAt, search.to) : undefined,
    search.sessionId
      ? sql`EXISTS (SELECT 1 FROM booking_sessions l WHERE l.booking_id = ${bookings.id} AND l.session_id = ${search.sessionId})`
      : undefined,
    search.sessionFrom || search.sessionTo
      ? sql`EXISTS (SELECT 1 FROM booking_sessions l JOIN class_sessions s ON s.id = l.session_id WHERE l.booking_id = ${bookings.id}
          AND s.starts_at >= ${search.sessionFrom?.getTime() ?? 0} AND s.starts_at < ${search.sessionTo?.getTime() ?? Number.MAX_SAFE_INTEGER})`
      : undefined,
    after ? or(lt(bookings.confirmedAt, after.confirmedAt), and(eq(bookings.confirmedAt, after.confirmedAt), lt(bookings.id, after.id))) : undefined,
  );
}

/**
 * Up to `limit` bookings matching `search`, newest first, each as the API shows it plus its class
 * name and the studio's time zone (for showing times studio-local).
 */
export async function searchBookings(db: Db, search: BookingSearch, page: { limit: number; after?: BookingSearchCursor | undefined }) {
  const rows = await db
    .select({ booking: bookings, customer: customers, className: classes.name, timeZone: studios.timeZone })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .leftJoin(classes, eq(classes.id, bookings.classId))
    .leftJoin(studios, eq(studios.id, classes.studioId))
    .where(conditionsOf(search, page.after))
    .orderBy(desc(bookings.confirmedAt), desc(bookings.id))
    .limit(page.limit);
  const lines = await bookingLines(db, rows.map((row) => row.booking.id));
  return rows.map(({ booking, customer, className, timeZone }) => ({
    ...toBookingView(booking, customer, lines),
    className: className ?? booking.classId,
    timeZone: timeZone ?? "UTC",
  }));
}

export type FoundBooking = Awaited<ReturnType<typeof searchBookings>>[number];

/** Classes by name, for a search form's class choice. */
export function classChoices(db: Db) {
  return db.select({ id: classes.id, name: classes.name }).from(classes).orderBy(asc(classes.name), asc(classes.id)).limit(500);
}

/** The time zone of the studio a class is held in (UTC when the class is unknown). */
export async function classTimeZone(db: Db, classId: string): Promise<string> {
  const [row] = await db.select({ timeZone: studios.timeZone }).from(classes).innerJoin(studios, eq(studios.id, classes.studioId)).where(eq(classes.id, classId));
  return row?.timeZone ?? "UTC";
}
