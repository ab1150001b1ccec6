/**
 * What goes in and out of a SessionDO over RPC. Inputs are zod schemas because the DO checks
 * them at its boundary; results are plain unions, since errors lose their class across RPC.
 */
import { z } from "zod";
import { BOOKING_KINDS } from "../db/schema";
import type { Availability, Refusal } from "../domain/seating";

/** The catalog facts a session's DO needs, read from D1 by the caller. Newer `configVersion` wins. */
export const SessionSnapshot = z.object({
  sessionId: z.string().min(1),
  capacity: z.number().int().min(0),
  startsAt: z.number().int(),
  cancelled: z.boolean(),
  configVersion: z.number().int(),
  resources: z.array(
    z.object({
      resourceId: z.string(),
      name: z.string(),
      quantity: z.number().int().min(0),
      perStudent: z.number().int().min(1),
    }),
  ),
});
export type SessionSnapshot = z.infer<typeof SessionSnapshot>;

/** The booking header as projected into D1; every session's DO carries a copy in its outbox. */
export const BookingProjection = z.object({
  id: z.string().min(1),
  customerId: z.string().min(1),
  classId: z.string().min(1),
  patternId: z.string().nullable(),
  registrationType: z.enum(BOOKING_KINDS),
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
  /** This session's line: price of its seats in pence. */
  linePricePence: z.number().int().min(0),
});
export type BookingProjection = z.infer<typeof BookingProjection>;

export const ReserveInput = z.object({
  /** Hold id, or booking id for a direct booking; a retry with the same id returns the first result. */
  reservationId: z.string().min(1),
  mode: z.enum(["hold", "book"]),
  seats: z.number().int().min(1),
  email: z.string().min(1),
  clientKey: z.string(),
  /** Staff and admins are exempt from the per-email and per-client caps. */
  exempt: z.boolean(),
  overrideDuplicate: z.boolean(),
  holdTtlMs: z.number().int().min(1000),
  limits: z.object({ perEmail: z.number().int().min(1), perClient: z.number().int().min(1) }),
  /** Required for mode "book". */
  booking: BookingProjection.optional(),
  snapshot: SessionSnapshot,
});
export type ReserveInput = z.input<typeof ReserveInput>;

export interface Reservation {
  id: string;
  bookingId: string | null;
  status: "held" | "confirmed" | "released" | "cancelled";
  seats: number;
  email: string;
  expiresAt: number | null;
}

/** `created` is false when the reservation existed already (a retry, or a hold being confirmed). */
export type ReserveResult = { ok: true; created: boolean; reservation: Reservation; availability: Availability } | ({ ok: false } & Refusal);

export type ConfirmResult = { ok: true; reservation: Reservation } | ({ ok: false } & Refusal);

export type CancelResult = { ok: true; reservation: Reservation | null; availability: Availability };

/**
 * The header carrying the caller's SessionSnapshot (JSON) on the request that opens a live
 * subscription (SessionDO.fetch). Set by the Worker on a request it builds, never taken from a client.
 */
export const LIVE_SNAPSHOT_HEADER = "X-Session-Snapshot";
