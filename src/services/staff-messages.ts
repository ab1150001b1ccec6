/**
 * Messages staff send: a booking's confirmation or reminder sent again, free text to one booking's
 * customer, or free text to everyone booked on a session. Each goes through the notifications
 * queue like any other message and is recorded in booking_communications with who sent it
 * (`sent_by`). Request ids come from the call's batch id (the Idempotency-Key's seed when there is
 * one, else random): a retried call with the same key queues the same ids, which are sent once;
 * a new call is a new message.
 */
import { and, asc, desc, eq, gt, lt, or } from "drizzle-orm";
import type { ConfigSource } from "../config";
import type { Db } from "../db/client";
import { bookings, bookingSessions, bookingCommunications, classes, classSessions, customers, staff, studios } from "../db/schema";
import type { Env } from "../env";
import { ApiError, notFound } from "../errors";
import { inIdList } from "../lib/references";
import { classPlace } from "./booking-context";
import { bookingNotification } from "./booking-notifications";
import { getBooking } from "./booking-views";
import { type NotificationRequest, queueNotifications, type TypedNotificationRequest } from "./notifications";
import { manageLinkPaths, sessionReminderRequest } from "./reminders";

/** What staff write: a one-line subject and a free text (line breaks kept). */
export interface StaffText {
  subject: string;
  text: string;
}

/** A booking message: one of its templates again, or free text. */
export type BookingEmail = { template: "BOOKING_CONFIRMED" | "SESSION_REMINDER" } | StaffText;

export interface Sender {
  /** Recorded as sent_by: the staff principal's email, else its subject. */
  sentBy: string;
  /** The principal's email, to sign the message with their name when they are on the staff list. */
  email: string | undefined;
}

type MessageEnv = Pick<Env, "NOTIFICATIONS" | "SESSION" | "COORDINATOR" | "STAFF_MESSAGE_RATE_LIMITER"> & ConfigSource;

/**
 * Staff messages one sender may send per minute (STAFF_MESSAGE_RATE_LIMITER), so a stolen staff
 * session cannot turn the studio's sender into a mass mailer. Retries with the same
 * Idempotency-Key are replayed before they get here and cost nothing.
 */
async function limitSender(env: MessageEnv, from: Sender): Promise<void> {
  const { success } = await env.STAFF_MESSAGE_RATE_LIMITER.limit({ key: `sender:${from.sentBy}` });
  if (success) return;
  const error = new ApiError("RATE_LIMITED", "Too many messages sent in the last minute; try again shortly", { scope: "sender" });
  error.headers["Retry-After"] = "60";
  throw error;
}

/** Recipients read per page when messaging a session. */
const SESSION_PAGE_SIZE = 500;

/** The request id of a staff message to one booking in one call. */
export const staffMessageId = (batchId: string, bookingId: string) => `staff:${batchId}:${bookingId}`;

/** Sends one booking's customer a template again or free text. 404 for an unknown booking, 409 NOTHING_TO_SEND when there is nothing to say. */
export async function sendBookingEmail(env: MessageEnv, db: Db, bookingId: string, email: BookingEmail, from: Sender, batchId: string, now: Date): Promise<number> {
  await limitSender(env, from);
  const booking = await getBooking(env, db, bookingId);
  if (!booking) throw notFound("Booking", bookingId);
  const id = staffMessageId(batchId, bookingId);
  const confirmedLines = booking.lines.filter((line) => line.status === "confirmed");
  let request: NotificationRequest;
  if ("template" in email && email.template === "BOOKING_CONFIRMED") {
    if (booking.status !== "confirmed" || confirmedLines.length === 0) throw nothingToSend("The booking is cancelled: there is no confirmation to send", bookingId);
    const confirmation = await bookingNotification(env, db, "BOOKING_CONFIRMED", { ...booking, lines: confirmedLines });
    if (!confirmation) throw notFound("Class", booking.classId);
    request = { ...confirmation, id, requestedAt: now.getTime() };
  } else if ("template" in email) {
    const next = await nextSession(db, confirmedLines.map((line) => line.sessionId), now);
    if (!next || booking.status !== "confirmed") throw nothingToSend("The booking has no confirmed session still to come: there is nothing to remind of", bookingId);
    const links = await manageLinkPaths(env, db, [bookingId]);
    const seats = confirmedLines.find((line) => line.sessionId === next.sessionId)?.seats ?? booking.guestCount;
    request = sessionReminderRequest({ ...next, ...customerOf(booking), bookingId, seats }, links.get(bookingId)!, id, now);
  } else {
    const place = await classPlace(db, booking.classId);
    const only = booking.lines.length === 1 ? booking.lines[0]! : undefined;
    request = staffMessage(id, customerOf(booking), email, await senderName(db, from), now, {
      bookingId,
      classId: booking.classId,
      sessionId: only?.sessionId ?? null,
      className: place?.className,
      studioName: place?.studioName,
      timeZone: place?.timeZone,
      sessionStartsAt: only ? Date.parse(only.startsAt) : undefined,
    });
  }
  await queueNotifications(env, [{ ...request, sentBy: from.sentBy }]);
  return 1;
}

/**
 * Sends free text to the customer of every confirmed booking line of a session, one message per
 * booking. 404 for an unknown session. Reads D1's projection, so a booking made in the last
 * moments may not be there yet.
 */
export async function messageSession(env: MessageEnv, db: Db, sessionId: string, message: StaffText, from: Sender, batchId: string, now: Date): Promise<number> {
  await limitSender(env, from);
  const [session] = await db
    .select({ sessionId: classSessions.id, startsAt: classSessions.startsAt, classId: classes.id, className: classes.name, studioName: studios.name, timeZone: studios.timeZone })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(classSessions.id, sessionId));
  if (!session) throw notFound("Session", sessionId);
  const name = await senderName(db, from);
  let queued = 0;
  let after: string | undefined;
  for (;;) {
    const rows = await db
      .select({ bookingId: bookings.id, email: customers.email, firstName: customers.firstName, lastName: customers.lastName })
      .from(bookingSessions)
      .innerJoin(bookings, and(eq(bookings.id, bookingSessions.bookingId), eq(bookings.status, "confirmed")))
      .innerJoin(customers, eq(customers.id, bookings.customerId))
      .where(and(eq(bookingSessions.sessionId, sessionId), eq(bookingSessions.status, "confirmed"), after ? gt(bookingSessions.bookingId, after) : undefined))
      .orderBy(asc(bookingSessions.bookingId))
      .limit(SESSION_PAGE_SIZE);
    const requests = rows.map((row) => ({
      ...staffMessage(staffMessageId(batchId, row.bookingId), row, message, name, now, {
        bookingId: row.bookingId,
        classId: session.classId,
        sessionId,
        className: session.className,
        studioName: session.studioName,
        timeZone: session.timeZone,
        sessionStartsAt: session.startsAt.getTime(),
      }),
      sentBy: from.sentBy,
    }));
    await queueNotifications(env, requests);
    queued += requests.length;
    if (rows.length < SESSION_PAGE_SIZE) return queued;
    after = rows[rows.length - 1]!.bookingId;
  }
}

interface Recipient {
  email: string;
  firstName: string;
  lastName: string;
}

interface About {
  bookingId: string;
  classId: string;
  sessionId: string | null;
  className: string | undefined;
  studioName: string | undefined;
  timeZone: string | undefined;
  sessionStartsAt: number | undefined;
}

function staffMessage(id: string, to: Recipient, message: StaffText, senderName: string | undefined, now: Date, about: About): TypedNotificationRequest<"STAFF_MESSAGE"> {
  const optional = { className: about.className, studioName: about.studioName, timeZone: about.timeZone, sessionStartsAt: about.sessionStartsAt, senderName };
  return {
    id,
    kind: "STAFF_MESSAGE",
    recipient: { email: to.email, firstName: to.firstName, lastName: to.lastName },
    channel: "email",
    bookingId: about.bookingId,
    sessionId: about.sessionId,
    classId: about.classId,
    data: { subject: message.subject, text: message.text, ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) },
    requestedAt: now.getTime(),
  };
}

const customerOf = (booking: { customer: Recipient }) => ({ email: booking.customer.email, firstName: booking.customer.firstName, lastName: booking.customer.lastName });

/** The sender's name when they are on the staff list ("Sam Teacher"), to sign the message with. */
async function senderName(db: Db, from: Sender): Promise<string | undefined> {
  if (!from.email) return undefined;
  const [row] = await db.select({ firstName: staff.firstName, lastName: staff.lastName }).from(staff).where(eq(staff.email, from.email.toLowerCase()));
  return row ? `${row.firstName} ${row.lastName}`.trim() || undefined : undefined;
}

/** The first of these sessions still to come and not cancelled, with what a reminder says of it. */
async function nextSession(db: Db, sessionIds: string[], now: Date) {
  if (sessionIds.length === 0) return undefined;
  const [row] = await db
    .select({
      sessionId: classSessions.id,
      startsAt: classSessions.startsAt,
      location: classSessions.location,
      classId: classes.id,
      className: classes.name,
      studioName: studios.name,
      timeZone: studios.timeZone,
      address: studios.address,
    })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(and(inIdList(classSessions.id, sessionIds), eq(classSessions.status, "scheduled"), gt(classSessions.startsAt, now)))
    .orderBy(asc(classSessions.startsAt))
    .limit(1);
  return row;
}

function nothingToSend(message: string, bookingId: string): ApiError {
  return new ApiError("NOTHING_TO_SEND", message, { bookingId });
}

/**
 * A customer's communications, newest first, after the keyset `before`: every message addressed to
 * the customer's email, which is whose bookings (guest ones included) and waitlist places they are.
 * Undefined for an unknown customer.
 */
export async function customerCommunications(db: Db, customerId: string, page: { limit: number; before?: { requestedAt: Date; id: string } }) {
  const customer = await db.query.customers.findFirst({ columns: { id: true, email: true }, where: eq(customers.id, customerId) });
  if (!customer) return undefined;
  const { before } = page;
  return db
    .select()
    .from(bookingCommunications)
    .where(
      and(
        eq(bookingCommunications.recipientEmail, customer.email.toLowerCase()),
        before
          ? or(lt(bookingCommunications.requestedAt, before.requestedAt), and(eq(bookingCommunications.requestedAt, before.requestedAt), lt(bookingCommunications.id, before.id)))
          : undefined,
      ),
    )
    .orderBy(desc(bookingCommunications.requestedAt), desc(bookingCommunications.id))
    .limit(page.limit);
}
