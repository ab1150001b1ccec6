/**
 * Closes online checkouts whose seats' hold has ended unpaid (every 15 minutes, with the session
 * messages), and asks again for refunds a provider left unanswered: the payment fails as expired, so money that still arrives is refunded, the provider's
 * page is closed where it can be, and the held seats are let go (their objects' alarms let them go
 * a minute after the payment's end anyway; this makes the payment say so too).
 */
import { and, eq, inArray, isNotNull, lt } from "drizzle-orm";
import { getDb } from "../db/client";
import { payments, refunds } from "../db/schema";
import type { Env } from "../env";
import { applyPaymentOutcome } from "../services/payment-outcomes";
import { closeCheckout } from "../services/payments/payments";
import { resumeRefund } from "../services/payments/refunds";

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
      if ((await resumeRefund(env, id, undefined, now)).refund.status !== "pending") settled++;
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "pending refund still unanswered", refundId: id, error: String(error) }));
    }
  }
  return settled;
}
