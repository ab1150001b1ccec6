/**
 * Changes to seats that ripple: confirming a hold (the line goes to D1, an offer's entry is booked,
 * the party leaves the line), letting a hold go and cancelling a line (the freed seats are offered
 * down the waitlist). Each runs inside the caller's transaction.
 */
import type { BookingProjection } from "../../domain/projection";
import { queueOut } from "../outbox";
import { setStatus } from "./ledger";
import { bumpVersion, readConfig, type ReservationRow } from "./storage";
import { holdBooked, holdEnded, leaveLineOnBooking, offerFreedSeats } from "./waitlist-line";

/**
 * Records a change to this session's line of a booking and queues it for D1. Its version is the
 * session's change counter, so D1 orders one line's changes without trusting clocks.
 */
export function queueLineChange(sql: SqlStorage, reservationId: string, booking: BookingProjection, seats: number, status: "confirmed" | "cancelled", at: number): void {
  const version = bumpVersion(sql);
  sql.exec(`UPDATE reservations SET line_version = ? WHERE id = ?`, version, reservationId);
  queueOut(sql, { kind: "line", change: { booking, sessionId: readConfig(sql)!.session_id, seats, status, version, at } }, at);
}

/** A booking made without a hold: the line and its consequences (the new row is already inserted). */
export function booked(sql: SqlStorage, reservationId: string, booking: BookingProjection, seats: number, email: string, now: number): void {
  queueLineChange(sql, reservationId, booking, seats, "confirmed", now);
  leaveLineOnBooking(sql, email, now);
}

export function confirmHold(sql: SqlStorage, row: ReservationRow, booking: BookingProjection, now: number): void {
  setStatus(sql, row, "confirmed", now, { bookingId: booking.id, booking: JSON.stringify(booking) });
  queueLineChange(sql, row.id, booking, row.seats, "confirmed", now);
  holdBooked(sql, row.id, booking.id, now);
  leaveLineOnBooking(sql, row.email, now);
}

/** Lets a hold go (released, or cancelled with its booking); an offer's hold passes the offer on. */
export function endHold(sql: SqlStorage, row: ReservationRow, status: "released" | "cancelled", now: number): void {
  setStatus(sql, row, status, now);
  bumpVersion(sql);
  holdEnded(sql, row.id, now);
}

export function cancelLine(sql: SqlStorage, row: ReservationRow, now: number): void {
  setStatus(sql, row, "cancelled", now);
  queueLineChange(sql, row.id, JSON.parse(row.booking!) as BookingProjection, row.seats, "cancelled", now);
  offerFreedSeats(sql, now);
}
