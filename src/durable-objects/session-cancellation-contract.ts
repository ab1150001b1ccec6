/**
 * What goes in and out of SessionDO.cancelSession over RPC: the studio cancels the whole session.
 * The Worker reads the lines first (`cancellationState`), decides each booking's refund from D1's
 * payments, and sends that plan; the object cancels everything in one transaction, or refuses the
 * plan when a line changed meanwhile (the Worker reads again). The first cancellation's report is
 * kept in the object and answered to every repeat, so a retry refunds nothing twice and tells
 * nobody twice.
 */
import { z } from "zod";
import type { BookingProjection } from "../domain/projection";
import { SessionSnapshot } from "./session-contract";

export const REFUND_MODES = ["full", "policy", "none"] as const;
export type RefundMode = (typeof REFUND_MODES)[number];

/** A message request carried through the outbox (its consumer checks it against its own schema). */
const Notification = z.custom<{ id: string; kind: string }>((value) => typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string");

/** One booking's part of the plan: the line as the Worker saw it, what to refund from which payment, and its message. */
export const LinePlan = z.object({
  bookingId: z.string().min(1),
  /** The line's change counter as read: a line changed since (seats reduced, cancelled, re-sent) refuses the plan. */
  version: z.number().int().nullable(),
  refundDuePence: z.number().int().min(0),
  /** Refunded online by the Worker: which payment gives back how much. */
  payments: z.array(z.object({ paymentId: z.string().min(1), amountPence: z.number().int().min(1) })),
  /** The part of the refund paid at the desk: staff hand it back (and record it) there. */
  deskDuePence: z.number().int().min(0).default(0),
  bookingStillActive: z.boolean(),
  notification: Notification.nullable(),
});
export type LinePlan = z.infer<typeof LinePlan>;

export const CancelSessionInput = z.object({
  reason: z.string().min(1).max(500),
  refund: z.enum(REFUND_MODES),
  /** The catalog facts, marked cancelled: adopted first, so an object never configured closes too. */
  snapshot: SessionSnapshot,
  plan: z.array(LinePlan),
  /** What the SESSION_CANCELLED event names besides the session. */
  event: z.object({ classId: z.string(), studioId: z.string().nullable(), cityId: z.string().nullable(), by: z.string().nullable() }),
});
export type CancelSessionInput = z.input<typeof CancelSessionInput>;

/** A cancelled booking line in the report, with the refund decided for it (executed by the Worker). */
export interface CancelledLine {
  bookingId: string;
  seats: number;
  refundDuePence: number;
  payments: { paymentId: string; amountPence: number }[];
  deskDuePence?: number;
  bookingStillActive: boolean;
}

/** What the object keeps of the cancellation and answers to every repeat. */
export interface SessionCancellationRecord {
  sessionId: string;
  reason: string;
  refund: RefundMode;
  cancelledAt: number;
  bookings: CancelledLine[];
  waitlistClosed: number;
  holdsReleased: number;
  /** Bookings whose seats were held for their online payment: the Worker closes their checkouts. */
  paymentHolds: string[];
  notified: number;
}

export type CancelSessionResult =
  | { ok: true; created: boolean; record: SessionCancellationRecord }
  | { ok: false; code: "SEATS_CHANGED"; message: string; details: Record<string, unknown> };

/** A confirmed line as the Worker plans its refund from. */
export interface PlannableLine {
  bookingId: string;
  seats: number;
  email: string;
  version: number | null;
  booking: BookingProjection;
}

export interface SessionCancellationState {
  record: SessionCancellationRecord | null;
  lines: PlannableLine[];
}
