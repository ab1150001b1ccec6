/**
 * The payment state machine (src/domain/payments.ts): every event only adds facts, so replays,
 * duplicates and any order of the same events end in the same state, and money after the hold is
 * flagged to go back.
 */
import { describe, expect, it } from "vitest";
import { applyPaymentEvent, mustRefundInFull, type PaymentEvent, type PaymentFacts, refundableAmount, statusOf } from "../src/domain/payments";

const HOLD_ENDS = Date.UTC(2030, 2, 14, 10, 15);
const BEFORE = HOLD_ENDS - 60_000;
const AFTER = HOLD_ENDS + 60_000;

const pending: PaymentFacts = { status: "pending", amountPence: 2500, currency: "GBP", expiresAt: HOLD_ENDS, paidPence: 0, paidAt: null, refundedPence: 0, closedReason: null };

const paid: PaymentEvent = { kind: "payment_succeeded", amountPence: 2500, currency: "GBP" };
const declined: PaymentEvent = { kind: "payment_failed" };
const expired: PaymentEvent = { kind: "payment_expired" };
const cancelled: PaymentEvent = { kind: "payment_expired", reason: "cancelled" };
const refundedTo = (amountPence: number): PaymentEvent => ({ kind: "refund_succeeded", amountPence });

/** Folds events in order, collecting the actions. */
function fold(events: PaymentEvent[], now = BEFORE, start = pending) {
  const actions: string[] = [];
  let state = start;
  for (const event of events) {
    const step = applyPaymentEvent(state, event, now);
    actions.push(step.action);
    state = step.next;
  }
  return { state, actions };
}

/** Every order of a list (small lists only). */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

describe("a payment's transitions", () => {
  it("confirms a success in time, once: a replay changes nothing and asks for nothing", () => {
    const first = applyPaymentEvent(pending, paid, BEFORE);
    expect(first).toMatchObject({ action: "confirm", changed: true, next: { status: "paid", paidPence: 2500, paidAt: BEFORE } });
    const replay = applyPaymentEvent(first.next, paid, BEFORE + 5);
    expect(replay).toMatchObject({ action: "none", changed: false, note: "duplicate" });
    expect(replay.next).toEqual(first.next);
  });

  it("ignores a decline or an expiry after the money arrived", () => {
    const { state } = fold([paid]);
    for (const late of [declined, expired, cancelled]) {
      const step = applyPaymentEvent(state, late, AFTER);
      expect(step).toMatchObject({ action: "none", changed: false, note: "after_paid" });
      expect(step.next.status).toBe("paid");
    }
  });

  it("releases the hold once when the checkout expires or is cancelled, and flags money after it as late", () => {
    const closed = applyPaymentEvent(pending, expired, BEFORE);
    expect(closed).toMatchObject({ action: "release", next: { status: "failed", closedReason: "expired" } });
    expect(applyPaymentEvent(closed.next, cancelled, BEFORE)).toMatchObject({ action: "none", changed: false });
    const late = applyPaymentEvent(closed.next, paid, BEFORE);
    expect(late).toMatchObject({ action: "refund_late", note: "paid_late", next: { status: "paid", paidPence: 2500, closedReason: "expired" } });
    expect(mustRefundInFull(late.next)).toBe(true);
    // The late success replayed asks for nothing more.
    expect(applyPaymentEvent(late.next, paid, BEFORE).action).toBe("none");
  });

  it("treats a success after the hold's end as late even before any expiry event", () => {
    const step = applyPaymentEvent(pending, paid, AFTER);
    expect(step).toMatchObject({ action: "refund_late", note: "paid_late", next: { closedReason: "expired", paidPence: 2500 } });
    // At exactly the end it is still in time.
    expect(applyPaymentEvent(pending, paid, HOLD_ENDS).action).toBe("confirm");
  });

  it("lets a customer pay after a declined card while the hold stands", () => {
    const { state, actions } = fold([declined, declined, paid]);
    expect(actions).toEqual(["none", "none", "confirm"]);
    expect(state).toMatchObject({ status: "paid", closedReason: null });
    expect(mustRefundInFull(state)).toBe(false);
    expect(fold([declined]).state.status).toBe("failed");
  });

  it("flags an amount or currency that is not what was asked", () => {
    expect(applyPaymentEvent(pending, { ...paid, amountPence: 2400 }, BEFORE)).toMatchObject({ action: "refund_late", note: "amount_mismatch" });
    expect(applyPaymentEvent(pending, { ...paid, currency: "EUR" }, BEFORE)).toMatchObject({ action: "refund_late", note: "amount_mismatch" });
    expect(applyPaymentEvent(pending, { ...paid, currency: "gbp" }, BEFORE).action).toBe("confirm");
    expect(mustRefundInFull(applyPaymentEvent(pending, { ...paid, amountPence: 2400 }, BEFORE).next)).toBe(true);
  });

  it("folds refunds as a running total: replayed and reordered refund events count once, never beyond what was paid", () => {
    const { state } = fold([paid, refundedTo(1000), refundedTo(500), refundedTo(1000)]);
    expect(state).toMatchObject({ refundedPence: 1000, status: "partially_refunded" });
    expect(refundableAmount(state)).toBe(1500);
    expect(refundableAmount(state, 1000)).toBe(500);
    expect(refundableAmount(state, 5000)).toBe(0);
    const all = fold([paid, refundedTo(2500), refundedTo(9999)]).state;
    expect(all).toMatchObject({ refundedPence: 2500, status: "refunded" });
    expect(refundableAmount(all)).toBe(0);
  });

  it("ends in the same state whatever order the same events arrive in", () => {
    const events = [paid, declined, refundedTo(700), refundedTo(1200)];
    const ends = permutations(events).map((order) => fold(order).state);
    for (const end of ends) expect({ ...end, paidAt: null }).toEqual({ ...ends[0]!, paidAt: null });
    expect(ends[0]).toMatchObject({ paidPence: 2500, refundedPence: 1200, status: "partially_refunded" });
    // Each order confirms exactly once.
    for (const order of permutations(events)) expect(fold(order).actions.filter((action) => action === "confirm")).toHaveLength(1);
  });

  it("keeps the status it had before money or a closing", () => {
    expect(statusOf({ ...pending, status: "unpaid" })).toBe("unpaid");
    expect(statusOf(pending)).toBe("pending");
    expect(statusOf({ ...pending, closedReason: "cancelled" })).toBe("failed");
  });
});
