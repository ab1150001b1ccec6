/**
 * What goes in and out of a SessionDO over RPC. Inputs are zod schemas because the DO checks
 * them at its boundary; results are plain unions, since errors lose their class across RPC.
 */
import { z } from "zod";
import { BOOKING_KINDS } from "../db/schema";
import type { Availability, Refusal, RefusalCode } from "../domain/seating";

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
  /** Set only when accepting a waitlist offer (its token checked): the one way to book an offer's hold. */
  acceptsOffer: z.boolean().optional(),
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

/** What a waitlist entry carries besides its place in line; kept with the entry in the DO. */
export const WaitlistEntryDetails = z.object({
  firstName: z.string(),
  lastName: z.string(),
  customerId: z.string().nullable(),
  preferredContact: z.string().nullable(),
  alternativeDates: z.array(z.string()).nullable(),
  notes: z.string().nullable(),
  /** Subject of the staff token that added the entry. */
  addedBy: z.string().nullable(),
  /** The session's class and place, for events and notifications. */
  classId: z.string(),
  className: z.string(),
  /** Price of one seat when the entry joined, for the offer's message (accepting re-prices). */
  seatPricePence: z.number().int().min(0),
  studioId: z.string(),
  studioName: z.string(),
  cityId: z.string(),
  timeZone: z.string(),
});
export type WaitlistEntryDetails = z.infer<typeof WaitlistEntryDetails>;

export const JoinWaitlistInput = z.object({
  entryId: z.string().min(1),
  email: z.string().min(1),
  guestCount: z.number().int().min(1),
  priority: z.enum(["high", "normal", "low"]),
  details: WaitlistEntryDetails,
  /** How long an offer holds its seats before it passes on. */
  offerWindowMs: z.number().int().min(60_000),
  snapshot: SessionSnapshot,
});
export type JoinWaitlistInput = z.input<typeof JoinWaitlistInput>;

export type WaitlistStatus = "waiting" | "offered" | "expired" | "booked" | "removed" | "declined";

/** A waitlist entry as the DO sees it: `position` counts only entries still waiting (1 = next). */
export interface WaitlistEntryView {
  id: string;
  sessionId: string;
  email: string;
  /** Null where the caller may not see them (a repeat join by someone who only knows the email). */
  firstName: string | null;
  lastName: string | null;
  guestCount: number;
  priority: "high" | "normal" | "low";
  status: WaitlistStatus;
  position: number | null;
  /** The open offer (seats held for it until `expiresAt`), or the last one made. */
  offer: { number: number; holdId: string; expiresAt: number } | null;
  offersMade: number;
  bookingId: string | null;
  preferredContact: string | null;
  alternativeDates: string[] | null;
  notes: string | null;
  addedBy: string | null;
  joinedAt: number;
  updatedAt: number;
}

export type WaitlistRefusalCode =
  | RefusalCode
  | "SERVICE_UNAVAILABLE"
  | "WAITLIST_NOT_NEEDED"
  | "WAITLIST_ENTRY_NOT_FOUND"
  | "OFFER_NOT_AVAILABLE";
export type WaitlistRefusal = { code: WaitlistRefusalCode; message: string; details: Record<string, unknown> };

export type WaitlistResult = { ok: true; created: boolean; entry: WaitlistEntryView } | ({ ok: false } & WaitlistRefusal);

/**
 * The header carrying the caller's SessionSnapshot (JSON) on the request that opens a live
 * subscription (SessionDO.fetch). Set by the Worker on a request it builds, never taken from a client.
 */
export const LIVE_SNAPSHOT_HEADER = "X-Session-Snapshot";
/** The subscriber's client address (CF-Connecting-IP), set by the Worker on the same request. */
export const LIVE_CLIENT_HEADER = "X-Live-Client";
