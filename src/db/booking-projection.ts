/**
 * Writes what the Durable Objects deliver through the projection Queue into D1: booking lines with
 * their headers and customers, and attempts. Every write is an upsert keyed by id and guarded by
 * `version`, so redelivery and out-of-order delivery are harmless: a row only ever moves to a newer
 * state. Functions return statements; the consumer runs a whole batch of them in one transaction.
 */
import { eq, sql } from "drizzle-orm";
import type { AttemptRow, LineChange } from "../domain/projection";
import type { Db } from "./client";
import { bookingAttempts, bookings, bookingSessions, customers } from "./schema";

export type { LineChange } from "../domain/projection";

const anyLineConfirmed = (bookingId: string) => sql`EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = ${bookingId} AND status = 'confirmed')`;

/**
 * The statements for some line changes. The customer profile is matched by email or created with
 * the id the booking named; the header names whichever profile the email has. The header's status
 * is derived from its lines (confirmed while any line is), so deliveries from several sessions'
 * DOs, in any order, settle on the same answer.
 */
export function lineStatements(db: Db, changes: LineChange[]) {
  return changes.flatMap((change) => {
    const { booking, version, at } = change;
    const contact = booking.customer;
    return [
      db
        .insert(customers)
        .values({ id: booking.customerId, email: contact.email, firstName: contact.firstName, lastName: contact.lastName, phone: contact.phone, createdAt: new Date(at), updatedAt: new Date(at) })
        .onConflictDoNothing(),
      db
        .insert(bookings)
        .values({
          id: booking.id,
          customerId: sql`(SELECT id FROM customers WHERE email = ${contact.email})`,
          classId: booking.classId,
          patternId: booking.patternId,
          registrationType: booking.registrationType,
          status: change.status,
          guestCount: booking.guestCount,
          subtotalPence: booking.subtotalPence,
          discountPence: booking.discountPence,
          totalAmountPence: booking.totalAmountPence,
          currency: booking.currency,
          promoCodeId: booking.promoCodeId,
          source: booking.source,
          referralSource: booking.referralSource,
          notes: booking.notes,
          manageTokenHash: booking.manageTokenHash,
          bookedBy: booking.bookedBy,
          duplicateOverride: booking.duplicateOverride,
          holdId: booking.holdId,
          version,
          confirmedAt: new Date(booking.confirmedAt),
          cancelledAt: change.status === "cancelled" ? new Date(at) : null,
          createdAt: new Date(booking.confirmedAt),
          updatedAt: new Date(at),
        })
        .onConflictDoNothing(),
      db
        .insert(bookingSessions)
        .values({ bookingId: booking.id, sessionId: change.sessionId, seats: change.seats, status: change.status, pricePence: booking.linePricePence, version })
        .onConflictDoUpdate({
          target: [bookingSessions.bookingId, bookingSessions.sessionId],
          set: { status: change.status, seats: change.seats, version },
          setWhere: sql`${bookingSessions.version} < ${version}`,
        }),
      db
        .update(bookings)
        .set({
          status: sql`CASE WHEN ${anyLineConfirmed(booking.id)} THEN 'confirmed' ELSE 'cancelled' END`,
          cancelledAt: sql`CASE WHEN ${anyLineConfirmed(booking.id)} THEN NULL ELSE coalesce(${bookings.cancelledAt}, ${at}) END`,
          updatedAt: sql`max(${bookings.updatedAt}, ${at})`,
        })
        .where(eq(bookings.id, booking.id)),
    ];
  });
}

/** The inserts for some attempts (an attempt is written once: its id comes with it). */
export function attemptStatements(db: Db, attempts: AttemptRow[]) {
  return attempts.map(({ at, ...attempt }) => db.insert(bookingAttempts).values({ ...attempt, createdAt: new Date(at) }).onConflictDoNothing());
}
