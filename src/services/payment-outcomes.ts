/**
 * What a settled payment event leads to, beyond the payment's own row (already written by
 * handleVerifiedEvent). Called by src/services/payments/settle.ts for every verified webhook, the
 * local checkout's included, and by the sweep that closes unpaid checkouts when their hold ends.
 *
 * - `confirm`: the held seats are confirmed in the sessions' objects (one session: its `confirm`;
 *   several: the coordinator's commit, then every confirm). If the seats are no longer held (the
 *   hold ended, or the coordinator aborted first), the money goes back in full.
 * - `release`: the checkout closed unpaid, so the hold is let go (and a promo use given back).
 * - money that must all go back (paid after the hold ended, or not the amount asked) is refunded
 *   in full, once, as "system", and the customer told.
 *
 * Refund ids derive from the payment and the booking's snapshot is marked once settled, so a
 * redelivered event, or a retry after an object or the provider could not be reached (the webhook
 * then answers 5xx and the provider retries), does nothing twice.
 */
import { eq, sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { payments } from "../db/schema";
import type { Env } from "../env";
import { closeCheckout, type PaymentOutcome, paymentsOfBooking } from "./payments/payments";
import { owesSystemRefund, refundInFull, type RefundResult } from "./payments/refunds";
import { confirmRequest, type PendingBooking, pendingOf } from "./online-bookings";
import { bookingNotification } from "./booking-notifications";
import { viewOfProjection } from "./booking-views";
import { releaseRedemption } from "./promos";
import { notifyRefund } from "./refund-notifications";
import { commitAll, refusalOf, releaseAll } from "./seat-coordinator";
import { sessionObject } from "./session-client";

export interface AppliedPaymentOutcome extends PaymentOutcome {
  /** The full refund made (or resumed) for money that arrived late or wrong, or found its seats gone. */
  refund?: RefundResult["refund"];
  /** What became of the booking the payment was for: confirmed, or its seats gone (refunded), or let go. */
  booking?: "confirmed" | "seats_gone" | "released";
}

/** Applies an outcome's effects on the booking and the money, and passes the outcome on. */
export async function applyPaymentOutcome(env: Env, outcome: PaymentOutcome): Promise<AppliedPaymentOutcome> {
  const { payment } = outcome;
  if (payment === null) return outcome;
  const db = getDb(env.DB);
  const row = await db.select({ snapshot: payments.bookingSnapshot }).from(payments).where(eq(payments.id, payment.id)).get();
  const pending = pendingOf(row?.snapshot ?? null);
  let applied: AppliedPaymentOutcome = outcome;

  // A success whose confirmation did not finish (an object unreachable, a refund not made) is
  // finished by any later event of the payment, or by the sweep (src/jobs/payment-sweeps.ts).
  const unsettledPaid = pending !== null && pending.settledAt === undefined && payment.status === "paid";
  if (pending && (outcome.action === "confirm" || unsettledPaid)) {
    if (await confirmHeldSeats(env, pending)) {
      await markSettled(env, payment.id);
      return { ...outcome, booking: "confirmed" };
    }
    // Settled only once the money is on its way back: a failure here is retried, never forgotten.
    const refunded = await refundInFull(env, payment.id, "paid, but the seats' hold had ended before the payment arrived");
    if (pending.booking.promoCodeId) await releaseRedemption(env, pending.booking.promoCodeId, pending.booking.id);
    await markSettled(env, payment.id);
    applied = { ...outcome, booking: "seats_gone" };
    return refunded ? await told(env, pending, refunded, applied) : applied;
  }
  if (pending && (outcome.action === "release" || outcome.action === "refund_late")) {
    await releaseHeldSeats(env, pending);
    applied = { ...outcome, booking: "released" };
  }
  if (!(await owesSystemRefund(db, payment))) return applied;
  const reason = outcome.note === "amount_mismatch" ? "paid an amount that was not asked for" : "paid after the seats' hold had ended";
  const refunded = await refundInFull(env, payment.id, reason);
  if (!refunded) return applied;
  return pending ? told(env, pending, refunded, applied) : { ...applied, payment: refunded.payment, refund: refunded.refund };
}

/**
 * Closes a booking's checkouts still open (it was cancelled before it was paid, by the customer or
 * with its session): each fails as cancelled, its holds in every session and a promo use are let
 * go, and money that still gets through is refunded in full. Safe to repeat.
 */
export async function closeOpenCheckouts(env: Env, bookingId: string): Promise<void> {
  for (const payment of await paymentsOfBooking(getDb(env.DB), bookingId)) {
    if (payment.status === "pending" || payment.status === "unpaid") await applyPaymentOutcome(env, await closeCheckout(env, payment.id, { reason: "cancelled" }));
  }
}

async function told(env: Env, pending: PendingBooking, refunded: RefundResult, applied: AppliedPaymentOutcome): Promise<AppliedPaymentOutcome> {
  await notifyRefund(env, getDb(env.DB), { bookingId: pending.booking.id, refund: refunded.refund });
  return { ...applied, payment: refunded.payment, refund: refunded.refund };
}

/** Confirms a paid booking's held seats; false when they are no longer held for it. Throws when an object cannot be reached. */
async function confirmHeldSeats(env: Env, pending: PendingBooking): Promise<boolean> {
  const { booking } = pending;
  const sessions = (booking.sessions ?? []).map((session) => ({ id: session.sessionId }));
  // Built now, not kept with the payment: the message carries the manage token, which D1 never stores.
  const confirmed = await bookingNotification(env, getDb(env.DB), "BOOKING_CONFIRMED", viewOfProjection(booking));
  const notifications = confirmed ? [confirmed] : [];
  if (pending.coordinator === null) {
    const answer = await sessionObject(env, sessions[0]!.id).confirm({
      holdId: pending.reservationId,
      booking,
      seats: pending.seats,
      email: pending.email,
      coordinator: null,
      onSuccess: { notifications },
    });
    if (answer.ok) return true;
    logGone(pending, refusalOf(answer).code);
    return false;
  }
  const lineBooking = (sessionId: string) => ({ ...booking, linePricePence: booking.sessions?.find((session) => session.sessionId === sessionId)?.pricePence ?? 0 });
  const outcome = await commitAll(env, pending.coordinator, sessions, confirmRequest(pending), lineBooking, pending.audit, notifications);
  if (!outcome.ok) logGone(pending, outcome.refusal.code);
  return outcome.ok;
}

/** Lets a pending booking's hold go in every session (a hold already confirmed is left alone by `release`). */
async function releaseHeldSeats(env: Env, pending: PendingBooking): Promise<void> {
  const sessions = (pending.booking.sessions ?? []).map((session) => ({ id: session.sessionId }));
  await releaseAll(env, sessions, pending.reservationId);
  if (pending.booking.promoCodeId) await releaseRedemption(env, pending.booking.promoCodeId, pending.booking.id);
}

/** Marks the snapshot settled: a redelivered success neither confirms nor refunds again. */
async function markSettled(env: Env, paymentId: string): Promise<void> {
  await getDb(env.DB)
    .update(payments)
    .set({ bookingSnapshot: sql`json_set(${payments.bookingSnapshot}, '$.settledAt', ${Date.now()})` })
    .where(eq(payments.id, paymentId));
}

function logGone(pending: PendingBooking, code: string): void {
  console.warn(JSON.stringify({ level: "warn", msg: "paid booking found its seats gone: refunding", bookingId: pending.booking.id, code }));
}
