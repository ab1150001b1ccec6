/**
 * Writes what session Durable Objects deliver from their outboxes into D1. Every write is an
 * upsert keyed by id and guarded by `version`, so redelivery and out-of-order delivery are
 * harmless: a row only ever moves to a newer state.
 */
import { eq, sql } from "drizzle-orm";
import type { BookingProjection } from "../durable-objects/session-contract";
import type { Db } from "./client";
import { bookingDecisions, bookings, bookingSessions } from "./schema";

/** One change to one session's line of a booking (and the booking's header with it). */
export interface LineChange {
  booking: BookingProjection;
  sessionId: string;
  seats: number;
  status: "confirmed" | "cancelled";
  /** The session DO's change counter: orders the changes of this line. */
  version: number;
  /** Epoch ms of the change. */
  at: number;
}

const anyLineConfirmed = (bookingId: string) =>
  sql`EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = ${bookingId} AND status = 'confirmed')`;

/**
 * Applies changes in one D1 batch (one transaction). Lines move only to a newer version; the
 * header's status is derived from its lines (confirmed while any line is), so deliveries from
 * several sessions' DOs, in any order, settle on the same answer.
 */
export async function projectLineChanges(db: Db, changes: LineChange[]): Promise<void> {
  if (changes.length === 0) return;
  const statements = changes.flatMap((change) => {
    const { booking, version, at } = change;
    return [
      db
        .insert(bookings)
        .values({
          id: booking.id,
          customerId: booking.customerId,
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
        .values({
          bookingId: booking.id,
          sessionId: change.sessionId,
          seats: change.seats,
          status: change.status,
          pricePence: booking.linePricePence,
          version,
        })
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
  const [first, ...rest] = statements;
  await db.batch([first!, ...rest]);
}

/**
 * A commit names exactly the sessions it covers and each one's line price: a hold in any other
 * session (a booking that confirmed only part of a hold) is let go, never sold on its behalf.
 */
export type Decision = { decision: "commit"; booking: BookingProjection; linePrices: Record<string, number> } | { decision: "abort" };

/**
 * Records `proposed` for a reservation unless a decision exists, and returns the decision that
 * stands. One INSERT ... ON CONFLICT DO NOTHING is atomic in D1, so commit (the coordinator)
 * and abort (an expiring hold) can race and exactly one wins.
 */
export async function decideReservation(db: Db, reservationId: string, proposed: Decision): Promise<Decision> {
  await db
    .insert(bookingDecisions)
    .values({
      reservationId,
      decision: proposed.decision,
      bookingId: proposed.decision === "commit" ? proposed.booking.id : null,
      booking: proposed.decision === "commit" ? JSON.stringify({ booking: proposed.booking, linePrices: proposed.linePrices }) : null,
    })
    .onConflictDoNothing();
  const row = await db.query.bookingDecisions.findFirst({ where: (d, { eq }) => eq(d.reservationId, reservationId) });
  if (!row) throw new Error(`decision for ${reservationId} vanished`);
  if (row.decision === "abort") return { decision: "abort" };
  const { booking, linePrices } = JSON.parse(row.booking ?? "null") as { booking: BookingProjection; linePrices: Record<string, number> };
  return { decision: "commit", booking, linePrices };
}

/** The sessions a reservation was committed to for `bookingId`, from the commit log (none if not committed). */
export async function committedSessionIds(db: Db, reservationId: string, bookingId: string): Promise<string[]> {
  const row = await db.query.bookingDecisions.findFirst({ where: (d, { eq }) => eq(d.reservationId, reservationId) });
  if (row?.decision !== "commit" || row.bookingId !== bookingId || !row.booking) return [];
  return Object.keys((JSON.parse(row.booking) as { linePrices: Record<string, number> }).linePrices);
}
