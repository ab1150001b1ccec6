/**
 * Read queries behind the staff customer records (src/services/customer-records.ts): prefix search
 * on the customers' indexes, a customer's totals net of cancellations, their booking history with
 * sessions, attendance and certificates, and keyset pages for the customers CSV.
 *
 * Search uses range conditions (`lower(col) >= p AND lower(col) < next(p)`) rather than LIKE: a
 * range is what lets SQLite walk the expression indexes on lower(first_name) and lower(last_name),
 * the unique index on email (stored lower-cased) and the index on phone.
 */
import { and, asc, desc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { bookings, bookingSessions, certificates, classes, classSessions, customers, sessionAttendance } from "./schema";

/**
 * The smallest string greater than every string starting with `prefix`: its last code point plus
 * one (UTF-8 keeps code point order, so SQLite's byte comparison agrees).
 */
export function prefixUpperBound(prefix: string): string {
  const points = [...prefix];
  const last = points.pop()!.codePointAt(0)!;
  // Skip the surrogate range: U+D7FF is followed by U+E000 as far as text is concerned.
  const next = last === 0xd7ff ? 0xe000 : last + 1;
  return points.join("") + String.fromCodePoint(Math.min(next, 0x10ffff));
}

/**
 * What SQLite's lower() does: ASCII letters only (no ICU in D1). Lower-casing the query the same
 * way keeps both sides of the comparison equal; non-ASCII letters match case-sensitively.
 */
export const sqliteLower = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());

const startsWith = (column: SQL, prefix: string): SQL => sql`(${column} >= ${prefix} AND ${column} < ${prefixUpperBound(prefix)})`;
const lowerFirst = sql`lower(${customers.firstName})`;
const lowerLast = sql`lower(${customers.lastName})`;

/** What staff typed, read as the fields it can be a prefix of. */
export function searchCondition(query: string): SQL {
  const q = query.trim().replace(/\s+/g, " ");
  // An address: only emails hold "@" (emails are stored lower-cased, in full Unicode).
  if (q.includes("@")) return startsWith(sql`${customers.email}`, q.toLowerCase());
  // A phone number as typed in the booking form: digits, spaces, brackets, dashes, a leading +.
  if (/^\+?[0-9][0-9 ()-]*$/.test(q)) return startsWith(sql`${customers.phone}`, q);
  const name = sqliteLower(q);
  const alternatives = [startsWith(lowerFirst, name), startsWith(lowerLast, name), startsWith(sql`${customers.email}`, q.toLowerCase())];
  const space = name.indexOf(" ");
  // "ada love": first name "ada…" and last name "love…" (the last name may hold spaces itself).
  if (space > 0) alternatives.push(and(startsWith(lowerFirst, name.slice(0, space)), startsWith(lowerLast, name.slice(space + 1)))!);
  return or(...alternatives)!;
}

/**
 * One page of customers matching `query` (every customer without one), by email, after the keyset
 * `afterEmail`. Unless the search is by email, the page's order and cursor use `+email`, which no
 * index serves: otherwise SQLite walks the email index in order and filters every row after the
 * cursor, instead of seeking the matches on the name and phone indexes and sorting those.
 */
export function searchCustomers(db: Db, query: string | undefined, page: { limit: number; afterEmail?: string | undefined }) {
  const emailOrdered = query === undefined || query.includes("@");
  const sortKey = emailOrdered ? sql`${customers.email}` : sql`+${customers.email}`;
  return db
    .select()
    .from(customers)
    .where(and(query ? searchCondition(query) : undefined, page.afterEmail !== undefined ? sql`${sortKey} > ${page.afterEmail}` : undefined))
    .orderBy(asc(sortKey))
    .limit(page.limit);
}

export function customerById(db: Db, id: string) {
  return db.query.customers.findFirst({ where: eq(customers.id, id) });
}

export function customerByEmail(db: Db, email: string) {
  return db.query.customers.findFirst({ where: eq(customers.email, email.toLowerCase()) });
}

/** Lines that count: confirmed, of a booking still confirmed (a cancelled one counts nowhere). */
const countedLine = and(eq(bookings.status, "confirmed"), eq(bookingSessions.status, "confirmed"));

/**
 * A customer's totals, net of cancellations: bookings still confirmed, the seats of their confirmed
 * lines (seats × sessions), what those lines cost, first and last booking time, bookings with a
 * confirmed session still to come, no-shows recorded on confirmed lines, certificates not revoked.
 */
export async function customerStats(db: Db, customerId: string, now: Date) {
  const [totals, noShows, issued] = await db.batch([
    db
      .select({
        totalBookings: sql<number>`count(DISTINCT ${bookings.id})`,
        seatsBooked: sql<number>`coalesce(sum(${bookingSessions.seats}), 0)`,
        totalSpentPence: sql<number>`coalesce(sum(${bookingSessions.pricePence}), 0)`,
        firstBookingAt: sql<number | null>`min(${bookings.confirmedAt})`,
        lastBookingAt: sql<number | null>`max(${bookings.confirmedAt})`,
        upcomingBookings: sql<number>`count(DISTINCT CASE WHEN ${classSessions.startsAt} > ${now.getTime()} THEN ${bookings.id} END)`,
      })
      .from(bookings)
      .innerJoin(bookingSessions, eq(bookingSessions.bookingId, bookings.id))
      .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
      .where(and(eq(bookings.customerId, customerId), countedLine)),
    db
      .select({ count: sql<number>`count(*)` })
      .from(sessionAttendance)
      .innerJoin(bookings, eq(bookings.id, sessionAttendance.bookingId))
      .innerJoin(bookingSessions, and(eq(bookingSessions.bookingId, sessionAttendance.bookingId), eq(bookingSessions.sessionId, sessionAttendance.sessionId)))
      .where(and(eq(bookings.customerId, customerId), eq(sessionAttendance.status, "no_show"), countedLine)),
    db
      .select({ count: sql<number>`count(*)` })
      .from(certificates)
      .where(and(eq(certificates.customerId, customerId), eq(certificates.status, "valid"))),
  ]);
  const row = totals[0];
  const at = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)));
  return {
    totalBookings: Number(row?.totalBookings ?? 0),
    seatsBooked: Number(row?.seatsBooked ?? 0),
    totalSpentPence: Number(row?.totalSpentPence ?? 0),
    firstBookingAt: at(row?.firstBookingAt),
    lastBookingAt: at(row?.lastBookingAt),
    upcomingBookings: Number(row?.upcomingBookings ?? 0),
    noShows: Number(noShows[0]?.count ?? 0),
    certificates: Number(issued[0]?.count ?? 0),
  };
}

/** A customer's latest `limit` bookings (cancelled ones too), newest first, with their class name. */
export function recentBookings(db: Db, customerId: string, limit: number) {
  return db
    .select({ booking: bookings, className: classes.name })
    .from(bookings)
    .leftJoin(classes, eq(classes.id, bookings.classId))
    .where(eq(bookings.customerId, customerId))
    .orderBy(desc(bookings.confirmedAt), desc(bookings.id))
    .limit(limit);
}

/** What staff recorded about the attendees of some bookings. */
export function attendanceOf(db: Db, bookingIds: string[]) {
  if (bookingIds.length === 0) return Promise.resolve([]);
  return db.select().from(sessionAttendance).where(inArray(sessionAttendance.bookingId, bookingIds)).orderBy(asc(sessionAttendance.recordedAt));
}

/** A customer's certificates, newest first (at most `limit`). */
export function certificatesOf(db: Db, customerId: string, limit: number) {
  return db.select().from(certificates).where(eq(certificates.customerId, customerId)).orderBy(desc(certificates.issuedAt), desc(certificates.id)).limit(limit);
}

/** Staff-only fields; only the staff record routes write them. */
export async function updateCustomerRecord(db: Db, id: string, changes: { staffNotes?: string | null; preferences?: Record<string, string | number | boolean | null> | null }, now: Date) {
  const [row] = await db
    .update(customers)
    .set({ ...changes, updatedAt: now })
    .where(eq(customers.id, id))
    .returning({ id: customers.id });
  return row !== undefined;
}
