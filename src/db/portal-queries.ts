/**
 * Read queries behind the customer portal (/api/v1/me): everything is found by the customer's
 * email, never by an id the client sends, so no query can reach another customer's rows. Bookings
 * belong to the email through their customer profile (the projection files every booking made
 * with an email, guest or signed in, under the one profile of that email); waitlist entries,
 * notify-me registrations and messages carry the email themselves. Lists are keyset pages that
 * fetch `limit + 1` rows, so the caller can tell whether there is another page.
 */
import { and, asc, desc, eq, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { bookingCommunications, bookings, bookingSessions, cities, classes, classSessions, courseInterest, customers, studios, waitlistEntries } from "./schema";

/** Which of a customer's bookings: with a session still to come, or all in the past. */
export type BookingWhen = "upcoming" | "past";

/** A keyset position: the sort key (epoch ms) and id of the last row of the previous page. */
export interface After {
  at: number;
  id: string;
}

/** The customer profile of an email, if D1 has one. */
export async function customerByEmail(db: Db, email: string) {
  const [row] = await db.select().from(customers).where(eq(customers.email, email));
  return row;
}

/** A line that counts: confirmed, in a booking that is confirmed. */
const countedLine = and(eq(bookings.status, "confirmed"), eq(bookingSessions.status, "confirmed"));

/**
 * What an email has booked, net of cancellations: bookings still confirmed, the seats of their
 * confirmed lines (seats × sessions), what those lines cost, and how many bookings still have a
 * confirmed session to come.
 */
export async function bookingTotals(db: Db, email: string, now: Date) {
  const [row] = await db
    .select({
      bookings: sql<number>`count(DISTINCT ${bookings.id})`,
      seatsBooked: sql<number>`coalesce(sum(${bookingSessions.seats}), 0)`,
      totalSpentPence: sql<number>`coalesce(sum(${bookingSessions.pricePence}), 0)`,
      upcomingBookings: sql<number>`count(DISTINCT CASE WHEN ${classSessions.startsAt} > ${now.getTime()} THEN ${bookings.id} END)`,
    })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .innerJoin(bookingSessions, eq(bookingSessions.bookingId, bookings.id))
    .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
    .where(and(eq(customers.email, email), countedLine));
  return {
    bookings: Number(row?.bookings ?? 0),
    seatsBooked: Number(row?.seatsBooked ?? 0),
    totalSpentPence: Number(row?.totalSpentPence ?? 0),
    upcomingBookings: Number(row?.upcomingBookings ?? 0),
  };
}

/**
 * The next start of a booking still to come: its earliest future session among the lines that
 * stand (a confirmed booking's confirmed lines; every line of a cancelled booking, so a cancelled
 * booking of next week is listed as upcoming and cancelled). Null when nothing is to come.
 */
const nextStart = (now: Date) =>
  sql<number | null>`min(CASE WHEN ${classSessions.startsAt} > ${now.getTime()} AND (${bookingSessions.status} = 'confirmed' OR ${bookings.status} = 'cancelled') THEN ${classSessions.startsAt} END)`;
const lastStart = sql<number>`max(${classSessions.startsAt})`;

/**
 * One page of an email's bookings, as ids with their sort key. Upcoming: those with a session to
 * come, by next start, soonest first. Past: the others, by last start, latest first. The two
 * lists together hold every booking once.
 */
export async function bookingPage(db: Db, email: string, when: BookingWhen, now: Date, after: After | undefined, limit: number) {
  const next = nextStart(now);
  const key = when === "upcoming" ? next : lastStart;
  const conditions: SQL[] = [when === "upcoming" ? sql`${next} IS NOT NULL` : sql`${next} IS NULL`];
  if (after) {
    conditions.push(
      when === "upcoming"
        ? sql`(${key} > ${after.at} OR (${key} = ${after.at} AND ${bookings.id} > ${after.id}))`
        : sql`(${key} < ${after.at} OR (${key} = ${after.at} AND ${bookings.id} < ${after.id}))`,
    );
  }
  const rows = await db
    .select({ id: bookings.id, at: key })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .innerJoin(bookingSessions, eq(bookingSessions.bookingId, bookings.id))
    .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
    .where(eq(customers.email, email))
    .groupBy(bookings.id)
    .having(and(...conditions))
    .orderBy(...(when === "upcoming" ? [asc(key), asc(bookings.id)] : [desc(key), desc(bookings.id)]))
    .limit(limit + 1);
  return rows.map((row) => ({ id: row.id, at: Number(row.at) }));
}

/** Bookings by id with their class and studio (for display in the studio's zone), still limited to the email's. */
export function bookingsWithClass(db: Db, email: string, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select({
      booking: bookings,
      class: { id: classes.id, name: classes.name },
      studio: { id: studios.id, name: studios.name, timeZone: studios.timeZone },
      policy: { freeCancellationHours: classes.freeCancellationHours, lateCancellationFeePercent: classes.lateCancellationFeePercent, selfCancelCutoffHours: classes.selfCancelCutoffHours },
    })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .innerJoin(classes, eq(classes.id, bookings.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(and(eq(customers.email, email), inArray(bookings.id, ids)));
}

/** Newest first: a page condition on (column, id) descending. */
function before(column: AnySQLiteColumn, id: AnySQLiteColumn, after: After | undefined) {
  if (!after) return undefined;
  const at = new Date(after.at);
  return or(lt(column, at), and(eq(column, at), lt(id, after.id)));
}

/** One page of an email's waitlist entries, newest first, with the session and class each is for. */
export function waitlistPage(db: Db, email: string, after: After | undefined, limit: number) {
  return db
    .select({
      entry: waitlistEntries,
      session: { id: classSessions.id, startsAt: classSessions.startsAt, endsAt: classSessions.endsAt, status: classSessions.status },
      class: { id: classes.id, name: classes.name },
      studio: { id: studios.id, name: studios.name, timeZone: studios.timeZone },
    })
    .from(waitlistEntries)
    .innerJoin(classSessions, eq(classSessions.id, waitlistEntries.sessionId))
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(and(eq(waitlistEntries.email, email), before(waitlistEntries.joinedAt, waitlistEntries.id, after)))
    .orderBy(desc(waitlistEntries.joinedAt), desc(waitlistEntries.id))
    .limit(limit + 1);
}

/** One page of an email's notify-me registrations, newest first, with the course and city named. */
export function interestPage(db: Db, email: string, after: After | undefined, limit: number) {
  return db
    .select({ interest: courseInterest, class: { id: classes.id, name: classes.name }, city: { id: cities.id, name: cities.name } })
    .from(courseInterest)
    .innerJoin(classes, eq(classes.id, courseInterest.courseId))
    .leftJoin(cities, eq(cities.id, courseInterest.cityKey))
    .where(and(eq(courseInterest.email, email), before(courseInterest.createdAt, courseInterest.id, after)))
    .orderBy(desc(courseInterest.createdAt), desc(courseInterest.id))
    .limit(limit + 1);
}

/** One page of the messages addressed to an email, newest request first. */
export function communicationPage(db: Db, email: string, after: After | undefined, limit: number) {
  return db
    .select({
      id: bookingCommunications.id,
      type: bookingCommunications.type,
      channel: bookingCommunications.channel,
      status: bookingCommunications.status,
      subject: bookingCommunications.subject,
      content: bookingCommunications.content,
      bookingId: bookingCommunications.bookingId,
      waitlistEntryId: bookingCommunications.waitlistEntryId,
      sessionId: bookingCommunications.sessionId,
      classId: bookingCommunications.classId,
      requestedAt: bookingCommunications.requestedAt,
      sentAt: bookingCommunications.sentAt,
      deliveredAt: bookingCommunications.deliveredAt,
    })
    .from(bookingCommunications)
    .where(and(eq(bookingCommunications.recipientEmail, email), before(bookingCommunications.requestedAt, bookingCommunications.id, after)))
    .orderBy(desc(bookingCommunications.requestedAt), desc(bookingCommunications.id))
    .limit(limit + 1);
}
