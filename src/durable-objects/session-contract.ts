/**
 * What goes in and out of a SessionDO over RPC. Inputs are zod schemas because the DO checks
 * them at its boundary; results are plain unions, since errors lose their class across RPC.
 */
import { z } from "zod";
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

import { BookingProjection } from "../domain/projection";

export { BookingProjection };

/** A message request carried through the outbox (its consumer checks it against its own schema). */
const Notification = z.custom<{ id: string; kind: string }>((value) => typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string");

/** An Idempotency-Key as the Worker saw it: who sent it (scope), the key, and a hash of the request. */
export const IdempotencyClaim = z.object({
  scope: z.string().min(1),
  key: z.string().min(1).max(255),
  requestHash: z.string().min(1),
  /** The client address of the request that recorded it: a replay to another address withholds the secrets. */
  origin: z.string().max(200).optional(),
});
export type IdempotencyClaim = z.infer<typeof IdempotencyClaim>;

/** What a keyed write answered: replayed to a repeat of the same request. */
export type RecordedOutcome = { ok: true; response: string; origin?: string | undefined } | { ok: false; code: string; message: string; details: Record<string, unknown> };

/**
 * The attempt a write stands for (DESIGN invariant 7): the DO records it, accepted or refused, with
 * its events, in the same transaction as the outcome, so no attempt is lost.
 */
export const AttemptAudit = z.object({
  id: z.string().min(1),
  startedAt: z.number().int(),
  fields: z.object({
    kind: z.enum(["booking", "hold", "cancellation"]),
    bookingId: z.string().nullable(),
    registrationType: z.string().nullable(),
    sessionIds: z.array(z.string()),
    email: z.string().nullable(),
    guestCount: z.number().int().nullable(),
    amountPence: z.number().int().nullable(),
    expectedAmountPence: z.number().int().nullable(),
    currency: z.string().nullable(),
    promoCode: z.string().nullable(),
    source: z.string().nullable(),
    actorRole: z.string().nullable(),
    clientKey: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    requestId: z.string().nullable(),
  }),
  subject: z
    .object({
      classId: z.string(),
      studioId: z.string().nullable(),
      cityId: z.string().nullable(),
      customerId: z.string(),
      sessionIds: z.array(z.string()),
      data: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  checkout: z.enum(["hold", "booking"]).optional(),
});
export type AttemptAudit = z.infer<typeof AttemptAudit>;

/** What the Worker wants done when the write succeeds: the response to keep for replays, messages to send. */
export const OnSuccess = z.object({
  /** The response body (JSON text) the Worker answers with; stored under the Idempotency-Key. */
  response: z.string().optional(),
  /** Notification requests (BOOKING_CONFIRMED …), sent through the outbox once committed. */
  notifications: z.array(Notification).optional(),
});

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
  limits: z.object({
    perEmail: z.number().int().min(1),
    perClient: z.number().int().min(1),
    sharePercent: z.number().int().min(1).max(100),
    /** The signed-in owner of the email: count its exact address only, so others' holds under its +tags cannot limit it. */
    exactEmail: z.boolean().optional(),
  }),
  /** Set only when accepting a waitlist offer (its token checked): the one way to book an offer's hold. */
  acceptsOffer: z.boolean().optional(),
  /** Required for mode "book". */
  booking: BookingProjection.optional(),
  snapshot: SessionSnapshot,
  /** The coordinator of a booking spanning sessions: asked before an expiring hold is let go. */
  coordinator: z.string().nullable().optional(),
  idempotency: IdempotencyClaim.optional(),
  audit: AttemptAudit.optional(),
  onSuccess: OnSuccess.optional(),
});
export type ReserveInput = z.input<typeof ReserveInput>;

/** Confirms a hold (POST /bookings naming it, a waitlist offer accepted, or a coordinator's commit). */
export const ConfirmInput = z.object({
  holdId: z.string().min(1),
  booking: BookingProjection,
  seats: z.number().int().min(1),
  email: z.string().min(1),
  acceptsOffer: z.boolean().optional(),
  /** The coordinator whose commit this confirms; null (a one-session booking) confirms only a one-session hold. */
  coordinator: z.string().nullable().optional(),
  idempotency: IdempotencyClaim.optional(),
  audit: AttemptAudit.optional(),
  onSuccess: OnSuccess.optional(),
});
export type ConfirmInput = z.input<typeof ConfirmInput>;

/**
 * Keeps an earlier checkout hold for a booking's online payment: the hold now belongs to that
 * booking and lives until the payment's end (never shorter than it was). One booking per hold, so
 * booking again on the same hold cannot stretch it further.
 */
export const HoldForPaymentInput = z.object({
  holdId: z.string().min(1),
  bookingId: z.string().min(1),
  seats: z.number().int().min(1),
  email: z.string().min(1),
  coordinator: z.string().nullable().optional(),
  /** Epoch ms: when the payment's hold ends (with the grace the caller adds). */
  until: z.number().int(),
  idempotency: IdempotencyClaim.optional(),
  audit: AttemptAudit.optional(),
  onSuccess: OnSuccess.optional(),
});
export type HoldForPaymentInput = z.input<typeof HoldForPaymentInput>;

export type HoldForPaymentResult = { ok: true; expiresAt: number; replayed?: undefined } | ({ ok: false; replayed?: undefined } & Refusal) | Replay;

export const CancelInput = z.object({
  bookingId: z.string().min(1),
  /** The hold the booking confirmed, when it came from one (a hold committed but not confirmed here is cancelled too). */
  reservationId: z.string().min(1).optional(),
  audit: AttemptAudit.optional(),
  /** Sent once the cancellation is committed (BOOKING_CANCELLED). */
  notifications: z.array(Notification).optional(),
  /** A keyed cancellation: recorded here (the first session of the booking) with its response. */
  idempotency: IdempotencyClaim.optional(),
  onSuccess: OnSuccess.optional(),
});
export type CancelInput = z.input<typeof CancelInput>;

/** Shrinks a booking's confirmed line (a participant left a group booking); the same target again changes nothing. */
export const ReduceSeatsInput = z.object({
  bookingId: z.string().min(1),
  /** The seats the caller saw: a line with any other count (changed meanwhile) is refused. */
  fromSeats: z.number().int().min(2),
  /** The seats to keep: at least one (a booking with none left is cancelled instead). */
  toSeats: z.number().int().min(1),
  /** What the change is for (the attendee leaving): its retry is answered again; another change from the same count is refused. */
  changeId: z.string().min(1).max(200),
  /** The booking's price for the seats kept (the caller prices it); recorded with the seats, so D1 gets both in one change. */
  price: z
    .object({
      subtotalPence: z.number().int().min(0),
      discountPence: z.number().int().min(0),
      totalAmountPence: z.number().int().min(0),
      /** Each session's share of the total, by session id. */
      linePrices: z.record(z.string(), z.number().int().min(0)),
    })
    .optional(),
}).refine((input) => input.toSeats < input.fromSeats, { message: "toSeats must be below fromSeats", path: ["toSeats"] });
export type ReduceSeatsInput = z.infer<typeof ReduceSeatsInput>;

export type ReduceSeatsResult =
  | { ok: true; changed: boolean; seats: number; availability: Availability }
  | { ok: false; code: "NOT_FOUND" | "SEATS_CHANGED" | "PARTICIPANTS_LOCKED"; message: string; details: Record<string, unknown> };

export interface Reservation {
  /** The coordinator of a multi-session reservation, or null. */
  coordinator: string | null;
  id: string;
  bookingId: string | null;
  status: "held" | "confirmed" | "released" | "cancelled";
  seats: number;
  email: string;
  expiresAt: number | null;
}

/** `created` is false when the reservation existed already (a retry, or a hold being confirmed). */
export type ReserveResult =
  | { ok: true; created: boolean; reservation: Reservation; availability: Availability; replayed?: undefined }
  | ({ ok: false; replayed?: undefined } & Refusal)
  | Replay;

/** The first answer to a keyed request, for its repeat (`reused`: the key came with another request). */
export type Replay = { ok: false; replayed: true; outcome: RecordedOutcome } | { ok: false; replayed: "reused" };

export type ConfirmResult = { ok: true; reservation: Reservation; replayed?: undefined } | ({ ok: false; replayed?: undefined } & Refusal) | Replay;

export type CancelResult = { ok: true; reservation: Reservation | null; availability: Availability; replayed?: undefined };

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
  /** Staff, or the signed-in owner of the email: in line at once. Anyone else confirms by the join message's link. */
  confirmed: z.boolean(),
  /** How long an unconfirmed entry stays before it leaves the line. */
  confirmWindowMs: z.number().int().min(60_000),
  /** Whose per-address allowance this draws on, and how many parties it may have waiting here (null: no cap, staff). */
  clientKey: z.string().min(1).max(200),
  maxEntriesPerClient: z.number().int().min(1).nullable(),
  /** Seats the client may hold or book in this session (its share): offers never take it past that. Null: no cap (staff). */
  maxSeatsPerClient: z.number().int().min(1).nullable(),
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
  /** False until the party proves its email; an unconfirmed entry gets no offer, has no position and leaves at `confirmBy`. */
  confirmed: boolean;
  confirmBy: number | null;
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
  | "WAITLIST_LIMIT_EXCEEDED"
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

export { OUTBOX_DEADLINE_MS } from "../domain/projection";

/** The purpose an offer's token is signed for (src/durable-objects/outbox.ts signs it). */
export const OFFER_TOKEN_PURPOSE = "waitlist-offer";
/** The purpose of the token in a join message's link that confirms the party's email. */
export const CONFIRM_TOKEN_PURPOSE = "waitlist-confirm";
