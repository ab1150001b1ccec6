/**
 * A payment as the facts about its money: what was asked for, what the provider says arrived,
 * what went back, and why a checkout closed without paying. Provider events only ever add facts —
 * paid once, refunded totals that only grow, a closing reason that only hardens — so a replayed,
 * duplicated or out-of-order event folds to the same state, and what the booking must do next is
 * decided here once, from the state before and after. Pure: no bindings, `now` passed in.
 */

/** A booking's payment status (also `paymentStatus` on every booking). */
export const PAYMENT_STATUSES = ["not_required", "unpaid", "pending", "paid", "partially_refunded", "refunded", "failed"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Who opens checkouts (the PAYMENT_PROVIDER setting): `local` (development and tests, no internet) or Stripe. */
export const CHECKOUT_PROVIDER_NAMES = ["local", "stripe"] as const;
export type CheckoutProviderName = (typeof CHECKOUT_PROVIDER_NAMES)[number];

/** Who moved the money: a checkout provider, or `desk` (staff took it, or handed it back, at the studio). */
export const PAYMENT_PROVIDER_NAMES = [...CHECKOUT_PROVIDER_NAMES, "desk"] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDER_NAMES)[number];

/**
 * Why a checkout has not paid: `declined` (the last attempt failed; the checkout stays open, so the
 * customer may try another card until the hold ends), `expired` (the hold or the provider's page
 * ran out) or `cancelled` (the customer gave up). The last two are final: money after them is late.
 */
export const CLOSED_REASONS = ["declined", "expired", "cancelled"] as const;
export type ClosedReason = (typeof CLOSED_REASONS)[number];

/** A refund's life: reserved before the provider is asked, then what the provider answered. */
export const REFUND_STATUSES = ["pending", "succeeded", "failed"] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** What a verified provider event says happened (src/services/payments/provider.ts normalises each provider's). */
export const PAYMENT_EVENT_KINDS = ["payment_succeeded", "payment_failed", "payment_expired", "refund_succeeded"] as const;
export type PaymentEventKind = (typeof PAYMENT_EVENT_KINDS)[number];

export interface PaymentFacts {
  status: PaymentStatus;
  /** What the server charged: the provider is asked for exactly this. */
  amountPence: number;
  currency: string;
  /** When the seats' hold ends (epoch ms): money after this is late, whatever the provider's page allowed. */
  expiresAt: number;
  /** What the provider says arrived; 0 until then. */
  paidPence: number;
  paidAt: number | null;
  /** The most the provider has reported refunded (a running total), never more than was paid. */
  refundedPence: number;
  closedReason: ClosedReason | null;
}

export type PaymentEvent =
  | { kind: "payment_succeeded"; amountPence: number; currency: string }
  | { kind: "payment_failed" }
  | { kind: "payment_expired"; reason?: "expired" | "cancelled" }
  /** `amountPence` is the provider's running total refunded on this payment, not one refund's amount. */
  | { kind: "refund_succeeded"; amountPence: number };

/**
 * What the booking side must do after an event: `confirm` the held seats (money arrived in time),
 * `refund_late` (money arrived after the hold ended, or not the amount asked: give it all back),
 * `release` the hold (the checkout closed unpaid), or nothing.
 */
export const PAYMENT_ACTIONS = ["confirm", "refund_late", "release", "none"] as const;
export type PaymentAction = (typeof PAYMENT_ACTIONS)[number];

export interface PaymentTransition {
  next: PaymentFacts;
  action: PaymentAction;
  /** Whether any fact changed (an unchanged event is still recorded as seen). */
  changed: boolean;
  /** Why an event changed nothing, or why money must go back: for the log and the trace. */
  note?: "duplicate" | "after_paid" | "after_close" | "paid_late" | "amount_mismatch";
}

const FINAL_CLOSE: ReadonlySet<ClosedReason> = new Set(["expired", "cancelled"]);

/** Whether the checkout closed for good (expired or cancelled), so money after it is late. */
export function isClosedForGood(facts: Pick<PaymentFacts, "closedReason">): boolean {
  return facts.closedReason !== null && FINAL_CLOSE.has(facts.closedReason);
}

/** Money arrived after the checkout had closed for good: it is owed back in full. */
export function isPaidLate(facts: Pick<PaymentFacts, "closedReason" | "paidPence">): boolean {
  return facts.paidPence > 0 && isClosedForGood(facts);
}

/** Money that must all go back: paid late, or not the amount asked (a redelivered event finds it still owed). */
export function mustRefundInFull(facts: Pick<PaymentFacts, "closedReason" | "paidPence" | "amountPence">): boolean {
  return isPaidLate(facts) || (facts.paidPence > 0 && facts.paidPence !== facts.amountPence);
}

/**
 * The status the facts add up to. Before any money or closing it keeps the one it had (`unpaid`
 * until a checkout exists, then `pending`).
 */
export function statusOf(facts: PaymentFacts): PaymentStatus {
  if (facts.paidPence > 0) {
    if (facts.refundedPence >= facts.paidPence) return "refunded";
    return facts.refundedPence > 0 ? "partially_refunded" : "paid";
  }
  if (facts.closedReason !== null) return "failed";
  return facts.status;
}

/** What may still be refunded: paid, less what was refunded and what refunds in flight have reserved. */
export function refundableAmount(facts: Pick<PaymentFacts, "paidPence" | "refundedPence">, reservedPence = 0): number {
  return Math.max(0, facts.paidPence - facts.refundedPence - reservedPence);
}

function settle(current: PaymentFacts, next: PaymentFacts, action: PaymentAction, note?: PaymentTransition["note"]): PaymentTransition {
  const settled = { ...next, status: statusOf(next) };
  const changed = (Object.keys(settled) as (keyof PaymentFacts)[]).some((key) => settled[key] !== current[key]);
  return note === undefined ? { next: settled, action, changed } : { next: settled, action, changed, note };
}

/**
 * The state after `event`, received at `now`, and what the booking must do. Rules:
 * - success counts once: a second one (replay, duplicate) changes nothing; success after the
 *   checkout closed for good, or after the hold's `expiresAt`, records the money (it did arrive)
 *   and says `refund_late`; so does an amount or currency that is not what was asked;
 * - a decline never undoes money and never reopens a closed checkout; success after a decline is
 *   on time if the hold still stands (the customer tried another card), and forgets the decline;
 * - expiry or cancellation closes an unpaid checkout once (`release`), and is ignored once paid;
 * - refunds fold as a running total (the largest seen), capped at what was paid (or asked, while
 *   a refund's event overtakes its payment's), so replays and reordering never count one twice.
 */
export function applyPaymentEvent(current: PaymentFacts, event: PaymentEvent, now: number): PaymentTransition {
  switch (event.kind) {
    case "payment_succeeded": {
      if (current.paidPence > 0) return settle(current, current, "none", "duplicate");
      const late = isClosedForGood(current) || now > current.expiresAt;
      const next: PaymentFacts = {
        ...current,
        paidPence: event.amountPence,
        paidAt: now,
        // Late: keep why (a success past the hold's end without an expiry event yet records "expired").
        // In time: an earlier decline is history, so the state is the same as had it come after.
        closedReason: late ? (isClosedForGood(current) ? current.closedReason : "expired") : null,
      };
      if (late) return settle(current, next, "refund_late", "paid_late");
      const asked = event.amountPence === current.amountPence && event.currency.toUpperCase() === current.currency.toUpperCase();
      return asked ? settle(current, next, "confirm") : settle(current, next, "refund_late", "amount_mismatch");
    }
    case "payment_failed": {
      if (current.paidPence > 0) return settle(current, current, "none", "after_paid");
      if (current.closedReason !== null) return settle(current, current, "none", isClosedForGood(current) ? "after_close" : "duplicate");
      return settle(current, { ...current, closedReason: "declined" }, "none");
    }
    case "payment_expired": {
      if (current.paidPence > 0) return settle(current, current, "none", "after_paid");
      if (isClosedForGood(current)) return settle(current, current, "none", "duplicate");
      return settle(current, { ...current, closedReason: event.reason ?? "expired" }, "release");
    }
    case "refund_succeeded": {
      const cap = current.paidPence > 0 ? current.paidPence : current.amountPence;
      const refundedPence = Math.min(cap, Math.max(current.refundedPence, event.amountPence));
      return settle(current, { ...current, refundedPence }, "none", refundedPence === current.refundedPence ? "duplicate" : undefined);
    }
  }
}
