/**
 * Shrinking a confirmed booking line: a participant leaves a group booking and their seat goes
 * back to the session at once (to the waitlist first, like any freed seat). The caller names the
 * seats it saw, the seats to keep and what the change is for. The change is a keyed write in the
 * object's idempotency records, keyed by the line's transition (`from>to`) and hashed by its
 * purpose: a retry of the same change is answered again without shrinking twice, and a second,
 * different change from the same count (two removals racing) is refused. Runs inside the
 * caller's transaction. The caller may name the booking's new price with it (see `repriced`).
 */
import type { BookingProjection } from "../../domain/projection";
import type { IdempotencyClaim, ReduceSeatsInput, ReduceSeatsResult } from "../session-contract";
import { availabilityNow, lineOfBooking } from "./ledger";
import { queueLineChange } from "./seat-changes";
import { moveSeats, readConfig } from "./storage";
import { offerFreedSeats } from "./waitlist-line";

export function reduceLineSeats(sql: SqlStorage, input: ReduceSeatsInput, now: number): ReduceSeatsResult {
  const line = lineOfBooking(sql, input.bookingId);
  if (!line?.booking || line.status !== "confirmed") {
    return { ok: false, code: "NOT_FOUND", message: "This booking has no confirmed seats in this session", details: { bookingId: input.bookingId } };
  }
  if (line.seats !== input.fromSeats) {
    return { ok: false, code: "SEATS_CHANGED", message: "The booking's seats changed meanwhile; read it again", details: { bookingId: input.bookingId, seats: line.seats } };
  }
  // Before the start only: after it, seats are attendance history, not capacity to give back.
  if (readConfig(sql)!.starts_at <= now) {
    return { ok: false, code: "PARTICIPANTS_LOCKED", message: "The session has started; its seats can no longer be changed", details: { bookingId: input.bookingId, reason: "started" } };
  }
  const config = readConfig(sql)!;
  // The seats and their price change together: D1 gets both in the one line change below.
  const booking = repriced({ ...(JSON.parse(line.booking) as BookingProjection), guestCount: input.toSeats }, input.price, config.session_id);
  sql.exec(`UPDATE reservations SET seats = ?, booking = ?, updated_at = ? WHERE id = ?`, input.toSeats, JSON.stringify(booking), now, line.id);
  moveSeats(sql, { booked: input.toSeats - line.seats });
  // The line goes to D1 with its new seats and the header's new guest count (booking_sessions, bookings).
  queueLineChange(sql, line.id, booking, input.toSeats, "confirmed", now);
  offerFreedSeats(sql, now);
  return { ok: true, changed: true, seats: input.toSeats, availability: availabilityNow(sql) };
}

/** The idempotency record of a change: one per transition of one booking's line. */
export function reduceSeatsClaim(input: ReduceSeatsInput): IdempotencyClaim {
  return { scope: "reduce-seats", key: `${input.bookingId}:${input.fromSeats}>${input.toSeats}`, requestHash: input.changeId };
}

/** The answer to a change the records already hold: the same change done, or another one from the same count. */
export function replayedReduction(sql: SqlStorage, input: ReduceSeatsInput, replay: { replayed: true | "reused" }): ReduceSeatsResult {
  if (replay.replayed === true) return { ok: true, changed: false, seats: input.toSeats, availability: availabilityNow(sql) };
  return { ok: false, code: "SEATS_CHANGED", message: "Another change took this booking's seats from the same count meanwhile; read it again", details: { bookingId: input.bookingId } };
}

/** The header with the price of the seats kept, when the caller named one (each line its own share). */
function repriced(booking: BookingProjection, price: ReduceSeatsInput["price"], sessionId: string): BookingProjection {
  if (!price) return booking;
  const { linePrices, ...totals } = price;
  return {
    ...booking,
    ...totals,
    linePricePence: linePrices[sessionId] ?? booking.linePricePence,
    sessions: booking.sessions?.map((session) => ({ ...session, pricePence: linePrices[session.sessionId] ?? session.pricePence })),
  };
}
