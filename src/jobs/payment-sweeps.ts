/**
 * The payment sweeps (every 15 minutes, with the session messages), each bounded per run:
 * - checkouts whose seats' hold ended unpaid are closed: the payment fails as expired (money that
 *   still arrives is refunded), the provider's page is closed where it can be, and the held seats
 *   are let go (their objects' alarms let them go a minute after the payment's end anyway);
 * - refunds a provider left unanswered are asked again, with the same key, and told once made;
 * - paid bookings whose confirmation did not complete are confirmed, or refunded in full.
 */
import { and, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { payments, refunds } from "../db/schema";
import type { Env } from "../env";
import { applyPaymentOutcome } from "../services/payment-outcomes";
import { closeCheckout, getPayment } from "../services/payments/payments";
import { resumeRefund } from "../services/payments/refunds";
import { notifyRefund } from "../services/refund-notifications";

/** Checkouts closed per run: a backlog is worked off over the next runs. */
const MAX_PER_RUN = 200;

/** Closes the checkouts due by `now`; returns how many it closed. */
export async function closeExpiredCheckouts(env: Env, now: number): Promise<number> {
  const due = await getDb(env.DB)
    .select({ id: payments.id })
    .from(payments)
    .where(and(inArray(payments.status, ["unpaid", "pending"]), lt(payments.expiresAt, new Date(now)), isNotNull(payments.bookingSnapshot)))
    .limit(MAX_PER_RUN);
  let closed = 0;
  for (const { id } of due) {
    try {
      await applyPaymentOutcome(env, await closeCheckout(env, id, { reason: "expired", now }));
      closed++;
    } catch (error) {
      // The next run tries again; the seats go back by their alarms meanwhile.
      console.error(JSON.stringify({ level: "error", msg: "could not close an expired checkout", paymentId: id, error: String(error) }));
    }
  }
  return closed;
}

/** How long a refund may wait for its provider's answer before the sweep asks again (same idempotency key). */
const REFUND_RETRY_AFTER_MS = 5 * 60_000;

/** Asks the provider again for refunds left pending (it did not answer); returns how many settled. */
export async function resumePendingRefunds(env: Env, now: number): Promise<number> {
  const stuck = await getDb(env.DB)
    .select({ id: refunds.id })
    .from(refunds)
    .where(and(eq(refunds.status, "pending"), lt(refunds.updatedAt, new Date(now - REFUND_RETRY_AFTER_MS))))
    .limit(MAX_PER_RUN);
  let settled = 0;
  for (const { id } of stuck) {
    try {
      const { refund, payment } = await resumeRefund(env, id, undefined, now);
      if (refund.status === "pending") continue;
      settled++;
      await notifyRefund(env, getDb(env.DB), { bookingId: payment.bookingId, refund });
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "pending refund still unanswered", refundId: id, error: String(error) }));
    }
  }
  return settled;
}

/** How long a paid booking may wait for its confirmation before the sweep finishes it. */
const CONFIRM_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Finishes paid bookings whose confirmation did not complete (an object unreachable when the
 * webhook came, and the provider stopped retrying): confirms the held seats, or refunds in full if
 * they are gone. Returns how many it finished.
 */
export async function finishPaidBookings(env: Env, now: number): Promise<number> {
  const db = getDb(env.DB);
  const stuck = await db
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.status, "paid"), isNotNull(payments.bookingSnapshot), sql`json_extract(${payments.bookingSnapshot}, '$.settledAt') IS NULL`, lt(payments.paidAt, new Date(now - CONFIRM_RETRY_AFTER_MS))))
    .limit(MAX_PER_RUN);
  let finished = 0;
  for (const { id } of stuck) {
    try {
      await applyPaymentOutcome(env, { action: "none", payment: await getPayment(db, id), duplicate: true });
      finished++;
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "could not finish a paid booking", paymentId: id, error: String(error) }));
    }
  }
  return finished;
}
