/**
 * The seat ledger: reservations (holds and confirmed lines) and the counters that sum them. Every
 * change of a reservation's status goes through `setStatus`, which moves the counters in the same
 * transaction, so checking seats is O(1) however many reservations the session has.
 */
import { limitIdentityOf } from "../../domain/email-identity";
import { availabilityOf, type Availability, type Refusal, type SeatLedger } from "../../domain/seating";
import type { Reservation } from "../session-contract";
import { moveSeats, readConfig, type ReservationRow } from "./storage";

const COUNTED: Partial<Record<ReservationRow["status"], "booked" | "held">> = { confirmed: "booked", held: "held" };

export function ledgerOf(sql: SqlStorage): SeatLedger {
  const config = readConfig(sql);
  if (!config) throw new Error("SessionDO has no configuration yet");
  return {
    capacity: config.capacity,
    bookedSeats: config.booked_seats,
    heldSeats: config.held_seats,
    cancelled: config.cancelled === 1,
    startsAt: config.starts_at,
    resources: JSON.parse(config.resources),
  };
}

export function availabilityNow(sql: SqlStorage): Availability {
  return readConfig(sql)
    ? availabilityOf(ledgerOf(sql))
    : availabilityOf({ capacity: 0, bookedSeats: 0, heldSeats: 0, cancelled: false, startsAt: 0, resources: [] });
}

export function reservationById(sql: SqlStorage, id: string): ReservationRow | undefined {
  return sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE id = ?`, id).toArray()[0];
}

/** The confirmed (or cancelled) line of a booking here. */
export function lineOfBooking(sql: SqlStorage, bookingId: string): ReservationRow | undefined {
  return sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE booking_id = ? AND status IN ('confirmed', 'cancelled')`, bookingId).toArray()[0];
}

export interface NewReservation {
  id: string;
  status: "held" | "confirmed";
  seats: number;
  email: string;
  clientKey: string;
  expiresAt: number | null;
  bookingId: string | null;
  booking: string | null;
  origin: "checkout" | "offer";
  coordinator: string | null;
}

export function insertReservation(sql: SqlStorage, row: NewReservation, now: number): void {
  sql.exec(
    `INSERT INTO reservations (id, booking_id, status, seats, email, email_key, client_key, expires_at, booking, origin, coordinator, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    row.id,
    row.bookingId,
    row.status,
    row.seats,
    row.email,
    limitIdentityOf(row.email),
    row.clientKey,
    row.expiresAt,
    row.booking,
    row.origin,
    row.coordinator,
    now,
    now,
  );
  moveSeats(sql, { [COUNTED[row.status]!]: row.seats });
}

/** Moves a reservation to another status, the counters with it. */
export function setStatus(sql: SqlStorage, row: ReservationRow, status: ReservationRow["status"], now: number, confirmed?: { bookingId: string; booking: string }): void {
  if (confirmed) {
    sql.exec(
      `UPDATE reservations SET status = ?, booking_id = ?, booking = ?, expires_at = NULL, updated_at = ? WHERE id = ?`,
      status,
      confirmed.bookingId,
      confirmed.booking,
      now,
      row.id,
    );
  } else {
    sql.exec(`UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?`, status, now, row.id);
  }
  const from = COUNTED[row.status];
  const to = COUNTED[status];
  if (from === to) return;
  const delta: { booked?: number; held?: number } = {};
  if (from) delta[from] = -row.seats;
  if (to) delta[to] = (delta[to] ?? 0) + row.seats;
  moveSeats(sql, delta);
}

/**
 * The soft duplicate block: another active reservation by the same email, a booking or a hold
 * still in checkout. Counting holds means a retry without an Idempotency-Key, after a failure
 * that left the first attempt's holds to be settled, cannot book the same person twice.
 */
export function duplicateOf(sql: SqlStorage, email: string, reservationId: string): Refusal | null {
  const row = sql
    .exec<{ booking_id: string | null; status: string }>(
      `SELECT booking_id, status FROM reservations WHERE email = ? AND status IN ('held', 'confirmed') AND id <> ? ORDER BY status = 'confirmed' DESC LIMIT 1`,
      email,
      reservationId,
    )
    .toArray()[0];
  if (!row) return null;
  return row.status === "confirmed"
    ? { code: "DUPLICATE_BOOKING", message: "This email already has a booking for this session", details: { existingBookingId: row.booking_id } }
    : {
        // Not the hold's id: anyone who knows the email may ask, and the id books the hold.
        code: "DUPLICATE_BOOKING",
        message: "This email already holds seats in this session (a checkout or a waitlist offer); complete that, or wait for it to expire",
        details: { existing: "hold" },
      };
}

/**
 * Seats one email (its sub-addresses with it, unless `exactEmail`) and one client address hold or
 * have booked here (each an index lookup).
 */
export function heldBy(sql: SqlStorage, email: string, clientKey: string, exactEmail = false) {
  const byEmail = exactEmail
    ? `SELECT coalesce(sum(seats), 0) FROM reservations WHERE email = ? AND status IN ('held', 'confirmed')`
    : `SELECT coalesce(sum(seats), 0) FROM reservations WHERE email_key = ? AND status IN ('held', 'confirmed')`;
  return sql
    .exec<{ byEmail: number; byClient: number }>(
      `SELECT (${byEmail}) AS byEmail,
              (SELECT coalesce(sum(seats), 0) FROM reservations WHERE client_key = ? AND status IN ('held', 'confirmed')) AS byClient`,
      exactEmail ? email : limitIdentityOf(email),
      clientKey,
    )
    .one();
}

/** A retry of a reservation that exists: the same answer as the first time, if it still stands. */
export function replayOfReservation(row: ReservationRow, input: { seats: number; email: string }): Refusal | null {
  if (row.seats !== input.seats || row.email !== input.email) {
    return {
      code: "HOLD_EXPIRED",
      message: "The hold does not match this request (seats or email differ)",
      details: { holdId: row.id, heldSeats: row.seats, reason: "mismatch" },
    };
  }
  if (row.status === "held" || row.status === "confirmed") return null;
  return { code: "HOLD_EXPIRED", message: "This reservation was released or cancelled", details: { holdId: row.id, status: row.status } };
}

/**
 * Seats held for a waitlist offer are booked only by accepting the offer (its signed link), never
 * by naming the hold in POST /bookings: knowing someone's email must not be enough to take them.
 */
export function refuseOfferHold(row: ReservationRow, acceptsOffer: boolean | undefined): Refusal | null {
  if (row.origin !== "offer" || acceptsOffer) return null;
  return { code: "HOLD_EXPIRED", message: "These seats are held for a waitlist offer; only its link can accept it", details: { reason: "waitlist_offer" } };
}

/** Why a hold cannot be confirmed for this booking, or null when it can (or already is, for it). */
export function refuseConfirm(
  row: ReservationRow | undefined,
  holdId: string,
  bookingId: string,
  expected: { seats: number; email: string; acceptsOffer?: boolean | undefined; coordinator?: string | null | undefined },
): Refusal | null {
  if (!row || row.status === "released" || row.status === "cancelled") {
    return { code: "HOLD_EXPIRED", message: "The hold has expired or was released", details: { holdId } };
  }
  const offerRefusal = refuseOfferHold(row, expected.acceptsOffer);
  if (offerRefusal) return offerRefusal;
  // A hold of a booking spanning sessions is confirmed only by its own coordinator's commit, and a
  // one-session hold only by a one-session booking: a part of one booking is never sold as another.
  if ((row.coordinator ?? null) !== (expected.coordinator ?? null)) {
    return { code: "HOLD_EXPIRED", message: "The hold does not cover exactly these sessions", details: { holdId, reason: "mismatch" } };
  }
  if (row.seats !== expected.seats || row.email !== expected.email) {
    return {
      code: "HOLD_EXPIRED",
      message: "The hold does not match this booking (seats or email differ)",
      details: { holdId, heldSeats: row.seats, reason: "mismatch" },
    };
  }
  if (row.status === "confirmed" && row.booking_id !== bookingId) {
    return {
      code: "HOLD_EXPIRED",
      message: "This hold has already been used by another booking",
      details: { holdId, reason: "already_booked", existingBookingId: row.booking_id },
    };
  }
  return null;
}

export function toReservation(row: ReservationRow): Reservation {
  return { id: row.id, bookingId: row.booking_id, status: row.status, seats: row.seats, email: row.email, expiresAt: row.expires_at, coordinator: row.coordinator };
}
