/**
 * What the session and coordinator Durable Objects tell D1, as messages on the projection Queue
 * (DESIGN invariant 2): a booking's line in one session, a waitlist entry, and a finished attempt
 * with its events. Every message is an idempotent, versioned upsert, so redelivered and reordered
 * batches converge. Schemas, because the consumer checks every body at its boundary.
 */
import { z } from "zod";

export const BOOKING_KIND_NAMES = ["SINGLE_SESSION", "FULL_SCHEDULE", "DROP_IN"] as const;

/** Who booked: the projection matches or creates the customer profile from it. */
export const BookingContact = z.object({
  email: z.string().min(1).max(320),
  firstName: z.string().max(200),
  lastName: z.string().max(200),
  phone: z.string().max(50).nullable(),
});
export type BookingContact = z.infer<typeof BookingContact>;

/** The booking header as projected into D1; every session's DO carries a copy with its line. */
export const BookingProjection = z.object({
  id: z.string().min(1),
  customerId: z.string().min(1),
  /** Absent on bookings committed before the projection carried it: `customerId` is then D1's own. */
  customer: BookingContact.optional(),
  classId: z.string().min(1),
  patternId: z.string().nullable(),
  registrationType: z.enum(BOOKING_KIND_NAMES),
  guestCount: z.number().int().min(1),
  subtotalPence: z.number().int().min(0),
  discountPence: z.number().int().min(0),
  totalAmountPence: z.number().int().min(0),
  currency: z.literal("GBP"),
  promoCodeId: z.string().nullable(),
  source: z.string().nullable(),
  referralSource: z.string().nullable(),
  notes: z.string().nullable(),
  manageTokenHash: z.string(),
  bookedBy: z.string().nullable(),
  duplicateOverride: z.boolean(),
  holdId: z.string().nullable(),
  confirmedAt: z.number().int(),
  /**
   * Where its money stood when it was committed: paid online, to be paid at the desk, or nothing
   * to pay. Absent on bookings committed before it was carried (read by the total). D1 follows the
   * payments after that (migration 0011).
   */
  paymentStatus: z.enum(["not_required", "unpaid", "paid"]).optional(),
  /** This session's line: price of its seats in pence. */
  linePricePence: z.number().int().min(0),
  /** The coordinator of a booking spanning sessions (its commit names them), or null for one session. */
  coordinator: z.string().nullable().optional(),
  /** Every session the booking covers, with its start: lets the DO answer for the booking before D1 has it. */
  sessions: z.array(z.object({ sessionId: z.string(), startsAt: z.number().int(), endsAt: z.number().int(), pricePence: z.number().int() })).optional(),
});
export type BookingProjection = z.infer<typeof BookingProjection>;

/** What a committed booking's money status starts as. */
export function initialPaymentStatus(booking: Pick<BookingProjection, "paymentStatus" | "totalAmountPence">): "not_required" | "unpaid" | "paid" {
  return booking.paymentStatus ?? (booking.totalAmountPence > 0 ? "unpaid" : "not_required");
}

/** One change to one session's line of a booking (and the booking's header with it). */
export const LineChange = z.object({
  booking: BookingProjection,
  sessionId: z.string().min(1),
  seats: z.number().int().min(1),
  status: z.enum(["confirmed", "cancelled"]),
  /** The session DO's change counter: orders the changes of this line. */
  version: z.number().int(),
  /** Epoch ms of the change. */
  at: z.number().int(),
});
export type LineChange = z.infer<typeof LineChange>;

/** A hold, booking or cancellation attempt, accepted or refused: the audit trail's row. */
/** An optional field: absent or null in, null out. */
const orNull = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? null);

export const AttemptRow = z.object({
  id: z.string().min(1),
  kind: z.enum(["booking", "hold", "cancellation"]),
  outcome: z.enum(["accepted", "rejected"]),
  errorCode: orNull(z.string()),
  bookingId: orNull(z.string()),
  registrationType: orNull(z.string()),
  sessionIds: z.array(z.string()),
  email: orNull(z.string()),
  guestCount: orNull(z.number().int()),
  amountPence: orNull(z.number().int()),
  expectedAmountPence: orNull(z.number().int()),
  currency: orNull(z.string()),
  promoCode: orNull(z.string()),
  source: orNull(z.string()),
  actorRole: orNull(z.string()),
  clientKey: orNull(z.string()),
  idempotencyKey: orNull(z.string()),
  requestId: orNull(z.string()),
  durationMs: z.number().int().min(0),
  /** Epoch ms. */
  at: z.number().int(),
});
export type AttemptRow = z.infer<typeof AttemptRow>;

/** A waitlist entry's row as its session's DO last saw it (db/waitlist-projection.ts writes it). */
export const WaitlistEntryChangeShape = z.looseObject({ id: z.string().min(1), sessionId: z.string().min(1), version: z.number().int(), at: z.number().int() });

/** A booking's use of a promo code as its PromoRedemptionsDO last decided it (db/promo-redemption-projection.ts writes it). */
export const PromoRedemptionChange = z.object({
  promoCodeId: z.string().min(1),
  bookingId: z.string().min(1),
  email: z.string().min(1),
  status: z.enum(["redeemed", "released"]),
  /** The object's change counter: orders the changes of this redemption. */
  version: z.number().int(),
  /** Epoch ms the code was redeemed, and of this change. */
  redeemedAt: z.number().int(),
  at: z.number().int(),
});
export type PromoRedemptionChange = z.infer<typeof PromoRedemptionChange>;

export const ProjectionMessage = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("line"), change: LineChange }),
  z.object({ kind: z.literal("waitlist"), change: WaitlistEntryChangeShape }),
  // The events are checked by the events writer's own schema.
  z.object({ kind: z.literal("attempt"), change: z.object({ at: z.number().int(), attempt: AttemptRow, events: z.array(z.custom<{ id: string }>((value) => typeof value === "object" && value !== null)) }) }),
  z.object({ kind: z.literal("promo"), change: PromoRedemptionChange }),
]);
export type ProjectionMessage = z.infer<typeof ProjectionMessage>;

/**
 * The customer id a booking names before D1 has the profile: derived from the normalised email,
 * so every request, Durable Object and projection agrees on it without asking anyone.
 */
export function customerIdFromDigest(hexDigestOfEmail: string): string {
  return `cus_${hexDigestOfEmail.slice(0, 32)}`;
}

/** An outbox entry not sent for this long (or a line changed this long ago that D1 lacks) is drift. */
export const OUTBOX_DEADLINE_MS = 5 * 60_000;
