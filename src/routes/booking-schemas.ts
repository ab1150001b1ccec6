/** Request and response schemas shared by the holds and bookings routes. */
import { z } from "@hono/zod-openapi";
import { BOOKING_KINDS } from "../db/schema";
import { BOOKING_STATUSES_SHOWN } from "../domain/booking-status";
import { PAYMENT_STATUSES } from "../domain/payments";
import { PersonNameSchema } from "../domain/person-name";
import type { SessionSelection } from "../services/booking-context";
import type { BookingView } from "../services/booking-views";

const Id = z.string().min(1).max(64);
const MAX_SEATS = 50;
const MAX_DROP_IN_SESSIONS = 50;

export const ContactSchema = z.object({
  email: z.string().trim().email().max(254).openapi({ example: "ada@example.com" }),
  firstName: PersonNameSchema.openapi({ example: "Ada", description: "Letters, spaces, apostrophes, hyphens, commas and periods after initials; 1–100 characters" }),
  lastName: PersonNameSchema.openapi({ example: "Lovelace" }),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9 ()-]{6,20}$/, "a phone number such as +44 20 7946 0000")
    .optional(),
});

/** `sessionId`, `sessionIds` or `patternId`, whichever the registration type needs. */
export const SelectionFields = {
  registrationType: z.enum(BOOKING_KINDS).openapi({ description: "SINGLE_SESSION needs sessionId, DROP_IN sessionIds, FULL_SCHEDULE patternId" }),
  sessionId: Id.optional(),
  sessionIds: z
    .array(Id)
    .min(1)
    .max(MAX_DROP_IN_SESSIONS)
    .refine((ids) => new Set(ids).size === ids.length, "Each session may appear only once")
    .optional(),
  patternId: Id.optional(),
  guestCount: z.number().int().min(1).max(MAX_SEATS).openapi({ description: "Seats per session: the customer plus their guests" }),
  contact: ContactSchema,
};

type SelectionInput = { registrationType: (typeof BOOKING_KINDS)[number]; sessionId?: string; sessionIds?: string[]; patternId?: string };

/** zod refinement: the field the registration type needs is there, and the others are not. */
export function checkSelection(value: SelectionInput, ctx: z.RefinementCtx): void {
  const needed = { SINGLE_SESSION: "sessionId", DROP_IN: "sessionIds", FULL_SCHEDULE: "patternId" } as const;
  const field = needed[value.registrationType];
  if (value[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `required for ${value.registrationType}` });
  for (const other of Object.values(needed)) {
    if (other !== field && value[other] !== undefined) {
      ctx.addIssue({ code: "custom", path: [other], message: `not allowed for ${value.registrationType}; use ${field}` });
    }
  }
}

export function toSelection(value: SelectionInput): SessionSelection {
  switch (value.registrationType) {
    case "SINGLE_SESSION":
      return { registrationType: "SINGLE_SESSION", sessionId: value.sessionId! };
    case "DROP_IN":
      return { registrationType: "DROP_IN", sessionIds: value.sessionIds! };
    case "FULL_SCHEDULE":
      return { registrationType: "FULL_SCHEDULE", patternId: value.patternId! };
  }
}

/** A class's cancellation policy as it applies to one booking (src/domain/booking-terms.ts). */
export const CancellationTermsSchema = z
  .object({
    summary: z.string().openapi({ example: "Free cancellation until 48 hours before the start; after that 50% of the price is kept; you can cancel online until 12 hours before the start (after that, ask the studio)." }),
    freeCancellationUntil: z.string().openapi({ description: "Until this instant a customer's cancellation costs nothing" }),
    selfCancellationUntil: z.string().openapi({ description: "Until this instant a customer may cancel online; later, only the studio can" }),
    lateCancellationFeePercent: z.number().int().openapi({ description: "Percent of the amount paid kept for a cancellation after freeCancellationUntil" }),
  })
  .openapi("CancellationTerms");

export const BookingSchema = z
  .object({
    id: z.string(),
    status: z.enum(BOOKING_STATUSES_SHOWN).openapi({
      description: "pending_payment: paid online, its seats held until the payment succeeds (then confirmed) or its checkout closes (then expired)",
    }),
    registrationType: z.enum(BOOKING_KINDS),
    classId: z.string(),
    patternId: z.string().nullable(),
    guestCount: z.number().int(),
    customer: z.object({ id: z.string(), email: z.string(), firstName: z.string(), lastName: z.string() }),
    lines: z.array(
      z.object({
        sessionId: z.string(),
        startsAt: z.string(),
        endsAt: z.string(),
        seats: z.number().int(),
        pricePence: z.number().int(),
        status: z.enum(["confirmed", "cancelled"]),
      }),
    ),
    subtotalPence: z.number().int(),
    discountPence: z.number().int(),
    totalAmountPence: z.number().int(),
    currency: z.string(),
    promoCodeId: z.string().nullable(),
    source: z.string().openapi({ description: "Where the booking came from: website, phone, email, walk_in, staff or waitlist" }),
    referralSource: z.string().nullable(),
    notes: z.string().nullable(),
    holdId: z.string().nullable(),
    bookedBy: z.string().nullable(),
    duplicateOverride: z.boolean(),
    paymentStatus: z.enum(PAYMENT_STATUSES).openapi({
      description: "not_required (nothing to pay), unpaid (to pay at the studio), pending (an online checkout open), paid, partially_refunded, refunded, failed (every checkout closed unpaid)",
    }),
    confirmedAt: z.string(),
    cancelledAt: z.string().nullable(),
  })
  .openapi("Booking");

/** What accepting an offer (waitlist or renewal) answers: the booking and its manage token. */
export const AcceptedOfferSchema = z.object({
  booking: BookingSchema,
  manageToken: z.string().optional().openapi({ description: "Secret: lets the holder read and cancel this booking (X-Manage-Token header). Withheld from a replay that reaches another client address" }),
  secretsWithheld: z.literal(true).optional().openapi({ description: "Present on a replay to another client address than the original request's: the secrets were left out" }),
});

/** The public view of a booking: everything but the manage token's hash. */
export function toBookingResponse(view: BookingView) {
  const { manageTokenHash: _hash, ...booking } = view;
  return booking;
}
