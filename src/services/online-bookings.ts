/**
 * Bookings of classes paid online (a class's paymentMode "online"). The seats are held in the
 * sessions' objects for the payment (PAYMENT_HOLD_MINUTES, plus a grace, so the object's hold
 * always outlives the payment's), a checkout opens for the server's price, and the booking answers
 * 201 `pending_payment` with the payment. The provider's verified webhook then confirms the held
 * seats (src/services/payment-outcomes.ts); money that arrives after the hold ended, or finds the
 * seats gone, is refunded in full; a checkout that closes unpaid lets the seats go.
 *
 * The one D1 write on such a booking's response path is the payment record (DESIGN invariant 2
 * cannot hold for it: the provider's checkout must be known before the customer is sent there).
 * The hold and the request's Idempotency-Key record are the objects' as for every booking; a keyed
 * repeat replays the pending answer and opens the same checkout again (its provider key comes from
 * the booking), so a checkout that could not be opened the first time is opened by the retry.
 */
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { configOf } from "../config";
import { getDb } from "../db/client";
import { payments } from "../db/schema";
import { AttemptAudit, BookingProjection } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { ApiError } from "../errors";
import type { Attempt } from "./audit";
import type { BookingContext } from "./booking-context";
import { rememberIfFull } from "./booking-checks";
import type { BookingView } from "./booking-views";
import type { BookingResult, Caller } from "./bookings";
import { type Claimed, keyOf, settle } from "./keyed-writes";
import { type StartedPayment, startPayment } from "./payments/payments";
import { holdTogether, refusalOf, releaseAll, type SeatRequest } from "./seat-coordinator";
import { sessionObject } from "./session-client";

/** How much longer than the payment the objects hold the seats: clocks differ, and a payment in time must find them. */
export const PAYMENT_HOLD_GRACE_MS = 60_000;

/** What confirming a pending booking needs once it is paid; kept with its payment (payments.booking_snapshot). */
export const PendingBooking = z.object({
  /** The hold in every session: the booking's own id, or the checkout hold it named. */
  reservationId: z.string().min(1),
  booking: BookingProjection,
  seats: z.number().int().min(1),
  email: z.string().min(1),
  /** Several sessions: the coordinator that decides the commit. */
  coordinator: z.string().nullable(),
  audit: AttemptAudit,
  /** Set once the objects confirmed the seats, or refused them (refunded): a redelivered event does neither again. */
  settledAt: z.number().int().optional(),
});
export type PendingBooking = z.infer<typeof PendingBooking>;

/** What opening (or reopening) the booking's checkout needs: kept in the keyed answer so a repeat can. */
export const PendingCheckout = z.object({
  pending: PendingBooking,
  amountPence: z.number().int().min(1),
  currency: z.string(),
  description: z.string(),
  expiresAt: z.number().int(),
});
export type PendingCheckout = z.infer<typeof PendingCheckout>;

/** Is this booking paid when booking? Staff bookings and free ones are not: they confirm now. */
export function paysOnline(input: { paymentMode: string; totalPence: number; staff: boolean; fromWaitlistOffer: boolean }): boolean {
  return input.paymentMode === "online" && input.totalPence > 0 && !input.staff && !input.fromWaitlistOffer;
}

/** The answer's booking while it waits for its money. */
export function pendingView(view: BookingView): BookingView {
  return { ...view, status: "pending_payment", paymentStatus: "pending" };
}

/** When a payment started now ends, and how long the objects hold its seats. */
export function paymentWindow(env: Env, now: number): { expiresAt: number; holdTtlMs: number } {
  const { paymentHoldMs } = configOf(env);
  return { expiresAt: now + paymentHoldMs, holdTtlMs: paymentHoldMs + PAYMENT_HOLD_GRACE_MS };
}

/**
 * Opens the booking's checkout (or finds the one opened before, by the booking's key) and keeps
 * what confirming it needs with the payment. PAYMENT_UNAVAILABLE (503) when the provider does not
 * answer; the seats stay held until the hold ends, so a retry with the same key can go on.
 */
export async function openCheckout(env: Env, checkout: PendingCheckout): Promise<StartedPayment> {
  const { pending } = checkout;
  const started = await startPayment(env, {
    bookingId: pending.booking.id,
    classId: pending.booking.classId,
    source: pending.booking.source ?? "website",
    amountPence: checkout.amountPence,
    currency: checkout.currency,
    description: checkout.description,
    email: pending.email,
    expiresAt: checkout.expiresAt,
    origin: configOf(env).publicBaseUrl,
    // Back to the confirmation (pending until the webhook arrives); giving up goes back to the class.
    successPath: `/bookings/${encodeURIComponent(pending.booking.id)}/return`,
    cancelPath: `/classes/${encodeURIComponent(pending.booking.classId)}`,
  });
  // Written once, after the row exists (startPayment made it): a repeat must not wipe `settledAt`.
  await getDb(env.DB)
    .update(payments)
    .set({ bookingSnapshot: JSON.stringify(pending) })
    .where(and(eq(payments.id, started.id), isNull(payments.bookingSnapshot)));
  return started;
}

/** The payment part of an answer, as the API shows it. */
export function paymentAnswer(started: StartedPayment) {
  return { id: started.id, status: started.status, checkoutUrl: started.checkoutUrl, expiresAt: started.expiresAt };
}

/** A pending booking's snapshot from its payment row, or null (a payment that confirms no booking). */
export function pendingOf(snapshot: string | null): PendingBooking | null {
  if (snapshot === null) return null;
  const parsed = PendingBooking.safeParse(JSON.parse(snapshot));
  if (!parsed.success) {
    console.error(JSON.stringify({ level: "error", msg: "unreadable pending booking", issues: parsed.error.issues.slice(0, 3) }));
    return null;
  }
  return parsed.data;
}

/** The seat request a pending booking's confirmation repeats: its hold, seats and email. */
export function confirmRequest(pending: PendingBooking): Pick<SeatRequest, "reservationId" | "seats" | "email" | "acceptsOffer"> {
  return { reservationId: pending.reservationId, seats: pending.seats, email: pending.email, acceptsOffer: false };
}

/** Refused before any seat is held: online payment is not configured here. */
export function assertPaymentsAvailable(env: Env): void {
  if (configOf(env).paymentProvider === "none") {
    throw new ApiError("PAYMENT_UNAVAILABLE", "This class is paid online, and online payment is not available just now: book at the studio or try again later");
  }
}

export interface OnlineBooking {
  context: BookingContext;
  header: BookingProjection;
  /** The hold every session keeps for the payment: the booking's own id, or the hold it named. */
  request: SeatRequest;
  existingHold: boolean;
  claimed: Exclude<Claimed, { replay: unknown }> | null;
  attempt: Attempt;
  /** The answer as a confirmed booking would give it; sent as pending, with the payment. */
  result: BookingResult;
  description: string;
}

/**
 * Holds the seats for the payment in every session (or keeps the hold the booking named), keeps
 * the pending answer under the request's key, then opens the checkout. Refusals are the objects'
 * as for any booking; a provider that does not answer leaves the seats held for a keyed retry and
 * lets go of those an unkeyed request took.
 */
export async function holdForOnlinePayment(caller: Caller, booking: OnlineBooking): Promise<BookingResult> {
  const { env } = caller;
  const { context, header, request, existingHold, claimed } = booking;
  const window = paymentWindow(env, Date.now());
  const key = keyOf(caller);
  const audit = booking.attempt.toObject();
  const pendingOfCoordinator = (coordinator: string | null): PendingCheckout => ({
    // No messages kept here: BOOKING_CONFIRMED carries the manage token, so it is built when the seats are confirmed.
    pending: { reservationId: request.reservationId, booking: { ...header, paymentStatus: "paid" }, seats: request.seats, email: request.email, coordinator, audit },
    amountPence: header.totalAmountPence,
    currency: header.currency,
    description: booking.description,
    expiresAt: window.expiresAt,
  });
  let answer: BookingResult;
  if (claimed === null) {
    const session = context.sessions[0]!;
    const object = sessionObject(env, session.id);
    answer = { ...booking.result, booking: pendingView(booking.result.booking), checkout: pendingOfCoordinator(null) };
    const held = existingHold
      ? await object.holdForPayment({
          ...{ holdId: request.reservationId, bookingId: header.id, seats: request.seats, email: request.email, coordinator: null },
          ...{ until: window.expiresAt + PAYMENT_HOLD_GRACE_MS, idempotency: key, audit, onSuccess: { response: JSON.stringify(answer) } },
        })
      : await object.reserve({ ...request, holdTtlMs: window.holdTtlMs, mode: "hold", booking: header, snapshot: session.snapshot, idempotency: key, audit, onSuccess: { response: JSON.stringify(answer) } });
    rememberIfFull(env, context, held);
    answer = settle(held, answer, { sessionId: session.id }, key);
  } else {
    const held = await holdTogether(env, context.sessions, { ...request, holdTtlMs: window.holdTtlMs }, claimed.coordinator, existingHold);
    const refusal = held.ok ? null : held;
    const kept = held.ok && existingHold ? await keepAll(env, context.sessions, request, header.id, held.coordinator, window.expiresAt) : null;
    const failed = refusal ?? (kept && !kept.ok ? kept : null);
    if (failed) {
      await claimed.record(audit, failed.refusal);
      const error = new ApiError(failed.refusal.code, failed.refusal.message, { sessionId: failed.sessionId, ...failed.refusal.details });
      await claimed.finish({ ok: false, code: error.code, message: error.message, details: error.details ?? {} });
      throw error;
    }
    answer = { ...booking.result, booking: pendingView(booking.result.booking), checkout: pendingOfCoordinator(held.coordinator) };
    await claimed.record(audit);
    await claimed.finish({ ok: true, response: JSON.stringify(answer) });
  }
  return withCheckout(env, answer, { release: key === undefined && !existingHold, sessions: context.sessions });
}

/** An earlier hold across sessions kept for the payment in each of them, all or none. */
async function keepAll(env: Env, sessions: { id: string }[], request: SeatRequest, bookingId: string, coordinator: string, expiresAt: number) {
  const results = await Promise.all(
    sessions.map((session) =>
      sessionObject(env, session.id).holdForPayment({ holdId: request.reservationId, bookingId, seats: request.seats, email: request.email, coordinator, until: expiresAt + PAYMENT_HOLD_GRACE_MS }),
    ),
  );
  const index = results.findIndex((result) => !result.ok);
  return index === -1 ? { ok: true as const } : { ok: false as const, sessionId: sessions[index]!.id, refusal: refusalOf(results[index]!) };
}

/**
 * Opens the checkout of a pending answer (a first answer or a replay) and puts the payment in it.
 * `release`: the seats were taken by this request alone, with no key to retry under, so a checkout
 * that cannot be opened lets them go rather than keep them from others until the hold ends.
 */
export async function withCheckout(env: Env, answer: BookingResult, options: { release: boolean; sessions: { id: string }[] } = { release: false, sessions: [] }): Promise<BookingResult> {
  const checkout = answer.checkout ? PendingCheckout.parse(answer.checkout) : undefined;
  if (!checkout) return answer;
  try {
    return { ...answer, payment: paymentAnswer(await openCheckout(env, checkout)) };
  } catch (error) {
    if (options.release) await releaseAll(env, options.sessions, checkout.pending.reservationId);
    if (error instanceof ApiError) throw error;
    // D1 refused the payment's row: the seats are held and the answer kept, so the same key goes on.
    console.error(JSON.stringify({ level: "error", msg: "could not record the booking's payment", bookingId: checkout.pending.booking.id, error: String(error) }));
    const unavailable = new ApiError("SERVICE_UNAVAILABLE", "The payment could not be started just now; try again shortly with the same Idempotency-Key", { retryAfterSeconds: 30 });
    unavailable.headers["Retry-After"] = "30";
    throw unavailable;
  }
}
