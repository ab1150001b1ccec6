/**
 * Writes what the Durable Objects deliver through the projection Queue into D1: booking lines with
 * their headers and customers, and attempts. Every write is an upsert keyed by id and guarded by
 * `version`, so redelivery and out-of-order delivery are harmless: a row only ever moves to a newer
 * state. Functions return prepared statements (plain SQL: a batch holds hundreds of them, and
 * building each through the query builder cost more than running it); the consumer runs a whole
 * batch in one transaction.
 */
import { type AttemptRow, initialPaymentStatus, type LineChange } from "../domain/projection";
import { bookingSeatsStatement } from "./attendee-rows";

export type { LineChange } from "../domain/projection";

const INSERT_CUSTOMER = `INSERT INTO customers (id, email, first_name, last_name, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

// The header names whichever profile the email has (an older profile may have another id); a
// booking committed before bookings carried their contact names D1's profile id itself.
const INSERT_BOOKING = `INSERT INTO bookings (id, customer_id, class_id, pattern_id, registration_type, status, guest_count, subtotal_pence,
  discount_pence, total_amount_pence, currency, promo_code_id, source, referral_source, notes, manage_token_hash, booked_by,
  duplicate_override, hold_id, version, confirmed_at, cancelled_at, created_at, updated_at, payment_status)
  VALUES (?, coalesce((SELECT id FROM customers WHERE email = ?), ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

const UPSERT_LINE = `INSERT INTO booking_sessions (booking_id, session_id, seats, status, price_pence, version) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (booking_id, session_id) DO UPDATE SET status = excluded.status, seats = excluded.seats, price_pence = excluded.price_pence, version = excluded.version
  WHERE booking_sessions.version < excluded.version`;

// The header's status follows its lines: confirmed while any line is. Its guest count follows the
// seats its confirmed lines hold (a group participant removed shrinks every line; see reduce-seats.ts).
const SETTLE_HEADER = `UPDATE bookings SET
  guest_count = coalesce((SELECT max(seats) FROM booking_sessions WHERE booking_id = ?1 AND status = 'confirmed'), guest_count),
  status = CASE WHEN EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = ?1 AND status = 'confirmed') THEN 'confirmed' ELSE 'cancelled' END,
  cancelled_at = CASE WHEN EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = ?1 AND status = 'confirmed') THEN NULL ELSE coalesce(cancelled_at, ?2) END,
  updated_at = max(updated_at, ?2)
  WHERE id = ?1`;

// The header's price follows the line change that was applied (a group booking shrunk is repriced
// with its seats; see reduce-seats.ts): only while this change is the line's newest, so a
// redelivered older change cannot bring back an older price.
const PRICE_HEADER = `UPDATE bookings SET subtotal_pence = ?1, discount_pence = ?2, total_amount_pence = ?3
  WHERE id = ?4 AND EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = ?4 AND session_id = ?5 AND version = ?6)`;

const INSERT_ATTEMPT = `INSERT INTO booking_attempts (id, kind, outcome, error_code, booking_id, registration_type, session_ids, email, guest_count,
  amount_pence, expected_amount_pence, currency, promo_code, source, actor_role, client_key, idempotency_key, request_id, duration_ms, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/**
 * The statements for some line changes: the customer profile matched by email or created with the
 * id the booking named, the header, the line (only to a newer version), and the header's status.
 */
export function lineStatements(d1: D1Database, changes: LineChange[]): D1PreparedStatement[] {
  return changes.flatMap(({ booking, sessionId, seats, status, version, at }) => {
    const contact = booking.customer;
    return [
      ...(contact ? [d1.prepare(INSERT_CUSTOMER).bind(booking.customerId, contact.email, contact.firstName, contact.lastName, contact.phone, at, at)] : []),
      d1
        .prepare(INSERT_BOOKING)
        .bind(
          booking.id,
          contact?.email ?? null,
          booking.customerId,
          booking.classId,
          booking.patternId,
          booking.registrationType,
          status,
          booking.guestCount,
          booking.subtotalPence,
          booking.discountPence,
          booking.totalAmountPence,
          booking.currency,
          booking.promoCodeId,
          booking.source,
          booking.referralSource,
          booking.notes,
          booking.manageTokenHash,
          booking.bookedBy,
          booking.duplicateOverride ? 1 : 0,
          booking.holdId,
          version,
          booking.confirmedAt,
          status === "cancelled" ? at : null,
          booking.confirmedAt,
          at,
          initialPaymentStatus(booking),
        ),
      d1.prepare(UPSERT_LINE).bind(booking.id, sessionId, seats, status, booking.linePricePence, version),
      d1.prepare(SETTLE_HEADER).bind(booking.id, at),
      d1.prepare(PRICE_HEADER).bind(booking.subtotalPence, booking.discountPence, booking.totalAmountPence, booking.id, sessionId, version),
    ];
  });
}

/**
 * One attendee row per seat of each booking the changes name (once per booking, however many of
 * its lines arrive): positions 1..seats of its newest line change (a group booking may have
 * shrunk it below the header's guestCount), the booker at 1. Run after `lineStatements`, whose
 * header and customer it reads; inserts only missing seats, so redelivery changes nothing.
 */
export function attendeeStatements(d1: D1Database, changes: LineChange[]): D1PreparedStatement[] {
  // Changes come in version order: the map keeps each booking's newest.
  const byBooking = new Map(changes.map((change) => [change.booking.id, change]));
  return [...byBooking.values()].map(({ booking, seats, at }) => bookingSeatsStatement(d1, { id: booking.id, guestCount: seats, contact: booking.customer }, at));
}

/** The inserts for some attempts (an attempt is written once: its id comes with it). */
export function attemptStatements(d1: D1Database, attempts: AttemptRow[]): D1PreparedStatement[] {
  return attempts.map((a) =>
    d1
      .prepare(INSERT_ATTEMPT)
      .bind(
        a.id,
        a.kind,
        a.outcome,
        a.errorCode,
        a.bookingId,
        a.registrationType,
        JSON.stringify(a.sessionIds),
        a.email,
        a.guestCount,
        a.amountPence,
        a.expectedAmountPence,
        a.currency,
        a.promoCode,
        a.source,
        a.actorRole,
        a.clientKey,
        a.idempotencyKey,
        a.requestId,
        a.durationMs,
        a.at,
      ),
  );
}
