/**
 * Closes online checkouts whose seats' hold has ended unpaid (every 15 minutes, with the session
 * messages): the payment fails as expired, so money that still arrives is refunded, the provider's
 * page is closed where it can be, and the held seats are let go (their objects' alarms let them go
 * a minute after the payment's end anyway; this makes the payment say so too).
 */
import { and, inArray, isNotNull, lt } from "drizzle-orm";
import { getDb } from "../db/client";
import { payments } from "../db/schema";
import type { Env } from "../env";
import { applyPaymentOutcome } from "../services/payment-outcomes";
import { closeCheckout } from "../services/payments/payments";

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
