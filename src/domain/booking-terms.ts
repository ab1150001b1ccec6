/**
 * The terms a class is booked on: how it is paid for, and its cancellation policy — free until N
 * hours before the first session, a fee (percent of what was paid) after that, and no
 * self-cancellation within M hours of the start. The quote and the confirmation show these terms;
 * a customer's own cancellation is held to them, a studio's never is. Pure.
 */

/** `online`: paid when booking, the seats held until the payment succeeds; `at_studio`: confirmed now, paid at the desk. */
export const PAYMENT_MODES = ["online", "at_studio"] as const;
export type PaymentMode = (typeof PAYMENT_MODES)[number];

export interface CancellationPolicy {
  /** Free cancellation until this many hours before the first session; null: free until it starts. */
  freeCancellationHours: number | null;
  /** Percent of the amount paid kept when a customer cancels after the free window. */
  lateCancellationFeePercent: number;
  /** No self-cancellation within this many hours of the first session; null: until it starts. */
  selfCancelCutoffHours: number | null;
}

export const MAX_POLICY_HOURS = 24 * 60;

/** Where a customer's cancellation falls: free, with the late fee, closed to self-service, or too late. */
export type CancellationWindow = "free" | "late" | "closed" | "started";

export interface CancellationTerms {
  window: CancellationWindow;
  /** Whether the customer may cancel themselves (staff always may). */
  selfCancellable: boolean;
  /** The fee in percent that applies to a cancellation now (0 in the free window). */
  feePercent: number;
}

const HOUR_MS = 3_600_000;

/** The instants the policy turns on for a booking whose first session starts at `firstStartsAt`. */
export function policyDeadlines(policy: CancellationPolicy, firstStartsAt: number): { freeUntil: number; selfCancelUntil: number } {
  const selfCancelUntil = policy.selfCancelCutoffHours === null ? firstStartsAt : firstStartsAt - policy.selfCancelCutoffHours * HOUR_MS;
  const freeUntil = policy.freeCancellationHours === null ? firstStartsAt : firstStartsAt - policy.freeCancellationHours * HOUR_MS;
  // The free window never outlasts self-service: past the cutoff nobody can cancel online anyway.
  return { freeUntil: Math.min(freeUntil, selfCancelUntil), selfCancelUntil };
}

/**
 * The terms at `now`. Deadlines are inclusive: at exactly N hours before the start the free window
 * is still open, and at exactly M hours before it a customer may still cancel.
 */
export function cancellationTermsAt(policy: CancellationPolicy, firstStartsAt: number, now: number): CancellationTerms {
  if (now >= firstStartsAt) return { window: "started", selfCancellable: false, feePercent: policy.lateCancellationFeePercent };
  const { freeUntil, selfCancelUntil } = policyDeadlines(policy, firstStartsAt);
  if (now > selfCancelUntil) return { window: "closed", selfCancellable: false, feePercent: policy.lateCancellationFeePercent };
  if (now <= freeUntil || policy.lateCancellationFeePercent === 0) return { window: "free", selfCancellable: true, feePercent: 0 };
  return { window: "late", selfCancellable: true, feePercent: policy.lateCancellationFeePercent };
}

/** What a cancellation under `terms` keeps and gives back of `paidPence`; the fee rounds down, in the customer's favour. */
export function cancellationCharge(feePercent: number, paidPence: number): { feePence: number; refundPence: number } {
  const feePence = Math.floor((paidPence * feePercent) / 100);
  return { feePence, refundPence: paidPence - feePence };
}

/** The policy in one sentence, for the quote, the confirmation and the class page. */
export function describeCancellationPolicy(policy: CancellationPolicy): string {
  const hours = (count: number) => `${count} hour${count === 1 ? "" : "s"}`;
  const free =
    policy.freeCancellationHours === null || policy.lateCancellationFeePercent === 0
      ? "Free cancellation"
      : `Free cancellation until ${hours(policy.freeCancellationHours)} before the start; after that ${policy.lateCancellationFeePercent}% of the price is kept`;
  const cutoff = policy.selfCancelCutoffHours === null ? "until the class starts" : `until ${hours(policy.selfCancelCutoffHours)} before the start (after that, ask the studio)`;
  return policy.freeCancellationHours === null || policy.lateCancellationFeePercent === 0 ? `${free} ${cutoff}.` : `${free}; you can cancel online ${cutoff}.`;
}

/** The policy a class has when nothing is set: free until the start. */
export const OPEN_POLICY: CancellationPolicy = { freeCancellationHours: null, lateCancellationFeePercent: 0, selfCancelCutoffHours: null };

/** The policy fields of a class row. */
export function policyOf(row: CancellationPolicy): CancellationPolicy {
  return { freeCancellationHours: row.freeCancellationHours, lateCancellationFeePercent: row.lateCancellationFeePercent, selfCancelCutoffHours: row.selfCancelCutoffHours };
}

/** The policy as a quote or a confirmation shows it, for a booking whose first session starts at `firstStartsAt`. */
export interface CancellationTermsView {
  summary: string;
  /** Until when a customer's cancellation is free (ISO instant). */
  freeCancellationUntil: string;
  /** Until when a customer may cancel online at all (ISO instant). */
  selfCancellationUntil: string;
  lateCancellationFeePercent: number;
}

export function cancellationTermsView(policy: CancellationPolicy, firstStartsAt: number): CancellationTermsView {
  const { freeUntil, selfCancelUntil } = policyDeadlines(policy, firstStartsAt);
  const feeApplies = policy.lateCancellationFeePercent > 0;
  return {
    summary: describeCancellationPolicy(policy),
    freeCancellationUntil: new Date(feeApplies ? freeUntil : selfCancelUntil).toISOString(),
    selfCancellationUntil: new Date(selfCancelUntil).toISOString(),
    lateCancellationFeePercent: policy.lateCancellationFeePercent,
  };
}
