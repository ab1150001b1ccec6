/**
 * What a settled payment event leads to, beyond the payment's own row (already written by
 * handleVerifiedEvent). Called by src/services/payments/settle.ts for every verified webhook,
 * the local checkout's included; the booking side extends it: `confirm` confirms the held seats in
 * the session's object (and refunds in full if the hold is gone), `release` lets the hold go,
 * `refund_late` tells the customer their money is on its way back.
 *
 * Here: money that must all go back (paid after the hold ended, or not the amount asked) is
 * refunded in full, once, as "system". The refund's id derives from the payment, so a redelivered
 * event, or a retry after the provider could not be reached, asks again with the same key instead
 * of refunding twice; a provider failure throws, the webhook answers 5xx and the provider retries.
 */
import { getDb } from "../db/client";
import type { PaymentEnv, PaymentOutcome } from "./payments/payments";
import { owesSystemRefund, refundInFull, type RefundResult } from "./payments/refunds";

export interface AppliedPaymentOutcome extends PaymentOutcome {
  /** The full refund made (or resumed) for money that arrived late or wrong. */
  refund?: RefundResult["refund"];
}

/** Applies an outcome's effects on the payment side and passes the outcome on. */
export async function applyPaymentOutcome(env: PaymentEnv, outcome: PaymentOutcome): Promise<AppliedPaymentOutcome> {
  const { payment } = outcome;
  if (payment === null || !(await owesSystemRefund(getDb(env.DB), payment))) return outcome;
  const reason = outcome.note === "amount_mismatch" ? "paid an amount that was not asked for" : "paid after the seats' hold had ended";
  const refunded = await refundInFull(env, payment.id, reason);
  return refunded === null ? outcome : { ...outcome, payment: refunded.payment, refund: refunded.refund };
}
