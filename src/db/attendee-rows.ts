/**
 * The one-row-per-seat attendee list of a booking (booking_attendees), written by the projection
 * when a booking header arrives and filled on roster reads for bookings projected before it did.
 * Inserts never overwrite: a name given by the customer, staff or a group booking stays.
 */
import { attendeeId } from "../domain/attendees";

/**
 * Seats 1..guestCount of some bookings in one statement: each seat a `[id, position, bookingId]`
 * in a JSON parameter (D1 binds at most 100 parameters; a booking may have hundreds of seats).
 * Position 1 is named after the booking's contact (`?2`, `?3`) or, without one, its customer.
 */
const INSERT_SEATS = `INSERT INTO booking_attendees (id, booking_id, position, name, email, created_at, updated_at)
  SELECT json_extract(seat.value, '$[0]'), b.id, json_extract(seat.value, '$[1]'),
    CASE WHEN json_extract(seat.value, '$[1]') = 1 THEN coalesce(?2, nullif(trim(c.first_name || ' ' || c.last_name), '')) END,
    CASE WHEN json_extract(seat.value, '$[1]') = 1 THEN coalesce(?3, c.email) END,
    ?4, ?4
  FROM json_each(?1) AS seat
  JOIN bookings b ON b.id = json_extract(seat.value, '$[2]')
  JOIN customers c ON c.id = b.customer_id
  WHERE true
  ON CONFLICT DO NOTHING`;

/** A booking's seats as `INSERT_SEATS` takes them. */
export function seatsOf(bookingId: string, guestCount: number, from = 1): [string, number, string][] {
  const seats: [string, number, string][] = [];
  for (let position = from; position <= guestCount; position++) seats.push([attendeeId(bookingId, position), position, bookingId]);
  return seats;
}

/** The insert of one booking's seats, its booker named by the contact the booking was made with. */
export function bookingSeatsStatement(
  d1: D1Database,
  booking: { id: string; guestCount: number; contact: { firstName: string; lastName: string; email: string } | null | undefined },
  at: number,
): D1PreparedStatement {
  const name = booking.contact ? `${booking.contact.firstName} ${booking.contact.lastName}`.trim() || null : null;
  return d1.prepare(INSERT_SEATS).bind(JSON.stringify(seatsOf(booking.id, booking.guestCount)), name, booking.contact?.email ?? null, at);
}

/** The insert of missing seats of several bookings (bookers named after their customer profiles). */
export function missingSeatsStatement(d1: D1Database, seats: [string, number, string][], at: number): D1PreparedStatement {
  return d1.prepare(INSERT_SEATS).bind(JSON.stringify(seats), null, null, at);
}
