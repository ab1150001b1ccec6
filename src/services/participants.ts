/**
 * Named participants: the people on a booking's seats (position 1 the booker), each with a name
 * and an optional email. The customer may rename them until the booking's first session starts;
 * staff may at any time (a substitute at the door, a misspelt name on the roster). Names go to
 * booking_attendees, upserted per (booking, position), the same rows the projection fills and
 * group bookings name.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookingAttendees } from "../db/schema";
import { chunkByParameters } from "../db/chunks";
import { attendeeId } from "../domain/attendees";
import { ApiError } from "../errors";
import type { BookingView } from "./booking-views";

export interface Participant {
  attendeeId: string;
  position: number;
  name: string | null;
  email: string | null;
}

export interface ParticipantInput {
  position: number;
  name: string;
  email?: string | null;
}

/** Every seat of the booking, in position order: its stored name, or the booker's profile at 1. */
export async function listParticipants(db: Db, booking: BookingView): Promise<Participant[]> {
  const rows = await db
    .select({ position: bookingAttendees.position, name: bookingAttendees.name, email: bookingAttendees.email })
    .from(bookingAttendees)
    .where(eq(bookingAttendees.bookingId, booking.id))
    .orderBy(asc(bookingAttendees.position));
  const stored = new Map(rows.map((row) => [row.position, row]));
  const booker = { name: `${booking.customer.firstName} ${booking.customer.lastName}`.trim() || null, email: booking.customer.email || null };
  return Array.from({ length: booking.guestCount }, (_, index) => {
    const position = index + 1;
    const row = stored.get(position);
    const fallback = position === 1 ? booker : { name: null, email: null };
    return { attendeeId: attendeeId(booking.id, position), position, name: row ? row.name : fallback.name, email: row ? row.email : fallback.email };
  });
}

/**
 * Names the seats listed (others keep what they have). 400 for a position outside
 * 1..guestCount, with the field's path; 409 PARTICIPANTS_LOCKED on a cancelled booking, and,
 * unless `staffOverride`, once its first session has started. Returns every seat afterwards.
 */
export async function setParticipants(
  db: Db,
  booking: BookingView,
  participants: ParticipantInput[],
  options: { staffOverride: boolean; now?: number },
): Promise<Participant[]> {
  const issues = participants.flatMap((participant, index) =>
    participant.position > booking.guestCount
      ? [{ path: `participants.${index}.position`, message: `must be from 1 to ${booking.guestCount} (the booking's seats)`, code: "too_big" }]
      : [],
  );
  if (issues.length > 0) {
    throw new ApiError("VALIDATION_FAILED", `Invalid json. ${issues[0]!.path}: ${issues[0]!.message}`, { location: "json", issues });
  }
  if (booking.status === "cancelled") throw new ApiError("PARTICIPANTS_LOCKED", `Booking ${booking.id} is cancelled`, { bookingId: booking.id, reason: "cancelled" });
  const firstStart = Math.min(...booking.lines.map((line) => Date.parse(line.startsAt)));
  const now = options.now ?? Date.now();
  if (!options.staffOverride && Number.isFinite(firstStart) && now >= firstStart) {
    throw new ApiError("PARTICIPANTS_LOCKED", `Participants can no longer be changed: the booking's first session started at ${new Date(firstStart).toISOString()}`, {
      bookingId: booking.id,
      reason: "started",
      startedAt: new Date(firstStart).toISOString(),
    });
  }
  const at = new Date(now);
  const rows = participants.map((participant) => ({
    id: attendeeId(booking.id, participant.position),
    bookingId: booking.id,
    position: participant.position,
    name: participant.name,
    email: participant.email ?? null,
    createdAt: at,
    updatedAt: at,
  }));
  const statements = chunkByParameters(rows).map((chunk) =>
    db
      .insert(bookingAttendees)
      .values(chunk)
      .onConflictDoUpdate({
        target: [bookingAttendees.bookingId, bookingAttendees.position],
        set: { name: sql`excluded.name`, email: sql`excluded.email`, updatedAt: sql`excluded.updated_at` },
      }),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return listParticipants(db, booking);
}
