/**
 * What a studio's cancellation of one session gives back of a booking, pure. A booking spanning
 * sessions (a course, a drop-in) is refunded its line's share: line price / booking total × what
 * was paid, in whole pence rounded down, never more than is left of the payments. "policy" keeps
 * the class's late-cancellation fee when the session is inside the late window: that is the
 * studio's choice to make (a studio cancelling is not bound by its customers' policy), and "full"
 * is the default expectation. "none" refunds nothing.
 */
import { cancellationCharge } from "./booking-terms";

export interface LineMoney {
  linePricePence: number;
  totalAmountPence: number;
  /** Received on the booking's payments (before refunds). */
  paidPence: number;
  /** Still refundable: paid less refunded. */
  leftPence: number;
}

/** The refund due for one line under a mode; `feePercent` is the policy's fee now (0 in the free window). */
export function sessionRefundPence(mode: "full" | "policy" | "none", money: LineMoney, feePercent: number): number {
  if (mode === "none" || money.paidPence <= 0 || money.leftPence <= 0) return 0;
  const share = money.totalAmountPence <= 0 ? 0 : Math.floor((money.paidPence * Math.min(money.linePricePence, money.totalAmountPence)) / money.totalAmountPence);
  const due = mode === "policy" ? cancellationCharge(feePercent, share).refundPence : share;
  return Math.max(0, Math.min(due, money.leftPence));
}

/** Spreads a refund over payments with money left, oldest first: which payment gives back how much. */
export function splitRefund(amountPence: number, payments: { paymentId: string; leftPence: number }[]): { paymentId: string; amountPence: number }[] {
  const parts: { paymentId: string; amountPence: number }[] = [];
  let remaining = amountPence;
  for (const payment of payments) {
    if (remaining <= 0) break;
    const take = Math.min(remaining, payment.leftPence);
    if (take > 0) parts.push({ paymentId: payment.paymentId, amountPence: take });
    remaining -= take;
  }
  return parts;
}
