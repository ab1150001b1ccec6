/**
 * Giving money back, never more than was paid. A refund is first reserved as a `pending` row in
 * the same D1 batch as a version-guarded touch of its payment, so two refunds racing for the last
 * pounds cannot both pass the check; then the provider is asked with the refund's id as the
 * idempotency key, so asking again after a lost answer refunds nothing twice. A definite refusal
 * releases the reservation (REFUND_REFUSED); an unknown outcome keeps it, and `resumeRefund` asks
 * again with the same key. What succeeded folds into the payment like the provider's own refund
 * events: as a running total (src/domain/payments.ts).
 */
import { and, eq, sql } from "drizzle-orm";
import { getDb, type Db } from "../../db/client";
import { refunds } from "../../db/schema";
import { applyPaymentEvent, mustRefundInFull, refundableAmount } from "../../domain/payments";
import { ApiError, notFound } from "../../errors";
import { ID_PREFIX, newId } from "../../lib/ids";
import { paymentProviderNamed } from "./factory";
import type { PaymentEnv } from "./payments";
import { type PaymentProvider, PaymentProviderError } from "./provider";
import { busy, changePayment, columnsOf, factsOf, guardedUpdate, MAX_WRITE_ATTEMPTS, type PaymentRow, paymentView, type PaymentView, type RefundRow, refundView, type RefundView, requirePayment } from "./records";

export type { RefundView } from "./records";

export interface RefundInput {
  paymentId: string;
  amountPence: number;
  reason: string;
  /** A staff subject, "system" or "customer". */
  requestedBy: string;
  /** A fixed id makes the refund itself idempotent (a system refund derived from its payment); a new one otherwise. */
  refundId?: string;
}

export interface RefundResult {
  refund: RefundView;
  payment: PaymentView;
}

async function refundRow(db: Db, id: string): Promise<RefundRow | undefined> {
  return db.select().from(refunds).where(eq(refunds.id, id)).get();
}

/**
 * What is left to refund of a payment, read in one statement: paid, less the larger of what the
 * payment records as refunded and what our succeeded refunds add up to (one may not have folded
 * into the other yet), less what pending refunds reserve. A refund moving from pending to
 * succeeded keeps the sum, so a reader never sees money twice free.
 */
async function leftToRefund(db: Db, payment: PaymentRow): Promise<{ refundable: number; pendingPence: number }> {
  const row = await db
    .select({
      pending: sql<number>`coalesce(sum(case when ${refunds.status} = 'pending' then ${refunds.amountPence} end), 0)`,
      succeeded: sql<number>`coalesce(sum(case when ${refunds.status} = 'succeeded' then ${refunds.amountPence} end), 0)`,
    })
    .from(refunds)
    .where(eq(refunds.paymentId, payment.id))
    .get();
  const pendingPence = row?.pending ?? 0;
  const refundedPence = Math.max(payment.refundedPence, row?.succeeded ?? 0);
  return { refundable: refundableAmount({ paidPence: payment.paidPence, refundedPence }, pendingPence), pendingPence };
}

/** What can still be refunded of a payment now: paid, less what was refunded and what refunds in flight reserve. */
export async function refundablePence(db: Db, paymentId: string): Promise<number> {
  return (await leftToRefund(db, await requirePayment(db, paymentId))).refundable;
}

/** Refunds `amountPence` of a payment (REFUND_EXCEEDS_PAID, 422, beyond what is left), through the provider it was paid with. */
export async function refundPayment(env: PaymentEnv, input: RefundInput, provider?: PaymentProvider, now = Date.now()): Promise<RefundResult> {
  if (!Number.isInteger(input.amountPence) || input.amountPence <= 0) throw new ApiError("INVALID_AMOUNT", "A refund is a whole, positive number of pence", { amountPence: input.amountPence });
  const db = getDb(env.DB);
  const id = input.refundId ?? newId("refund");
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const existing = await refundRow(db, id);
    if (existing) return resume(env, db, existing, provider, now);
    const payment = await requirePayment(db, input.paymentId);
    const { refundable, pendingPence } = await leftToRefund(db, payment);
    if (input.amountPence > refundable) {
      throw new ApiError("REFUND_EXCEEDS_PAID", `At most ${refundable} pence of this payment can be refunded`, {
        paymentId: payment.id,
        paidPence: payment.paidPence,
        refundedPence: payment.refundedPence,
        pendingPence,
        refundablePence: refundable,
      });
    }
    // The payment's version moves with the reservation: a racing refund that read the old version redoes its check.
    await db.batch([
      guardedUpdate(db, payment, {}, now),
      // Columns in the table's order: id, payment_id, amount_pence, reason, requested_by, status, provider_ref, failure, created_at, updated_at.
      db
        .insert(refunds)
        .select(
          sql`SELECT ${id}, ${payment.id}, ${input.amountPence}, ${input.reason.slice(0, 500)}, ${input.requestedBy.slice(0, 200)}, 'pending', NULL, NULL, ${now}, ${now} WHERE changes() = 1`,
        )
        .onConflictDoNothing(),
    ]);
  }
  throw busy();
}

/** Asks the provider again for a refund whose outcome is unknown (same idempotency key); a settled refund is returned as it is. */
export async function resumeRefund(env: PaymentEnv, refundId: string, provider?: PaymentProvider, now = Date.now()): Promise<RefundResult> {
  const db = getDb(env.DB);
  const row = await refundRow(db, refundId);
  if (!row) throw notFound("Refund", refundId);
  return resume(env, db, row, provider, now);
}

/** The one full refund the system makes of a payment (paid late, or not what was asked): its id derives from the payment's, so it happens once. */
export function systemRefundId(paymentId: string): string {
  return `${ID_PREFIX.refund}_${paymentId.slice(paymentId.indexOf("_") + 1)}`;
}

/**
 * Gives back everything still refundable of a payment, once, as "system" (or resumes that refund
 * if its outcome was unknown). Null when nothing is left to give back.
 */
export async function refundInFull(env: PaymentEnv, paymentId: string, reason: string, provider?: PaymentProvider, now = Date.now()): Promise<RefundResult | null> {
  const db = getDb(env.DB);
  const id = systemRefundId(paymentId);
  const existing = await refundRow(db, id);
  if (existing) return resume(env, db, existing, provider, now);
  const { refundable } = await leftToRefund(db, await requirePayment(db, paymentId));
  if (refundable === 0) return null;
  return refundPayment(env, { paymentId, amountPence: refundable, reason, requestedBy: "system", refundId: id }, provider, now);
}

/** Whether a payment still owes a full refund the system has not asked for (a redelivered late payment's event finds it so). */
export async function owesSystemRefund(db: Db, payment: PaymentView): Promise<boolean> {
  if (!mustRefundInFull(payment) || payment.refundedPence >= payment.paidPence) return false;
  const existing = await refundRow(db, systemRefundId(payment.id));
  return existing === undefined || existing.status === "pending";
}

async function resume(env: PaymentEnv, db: Db, row: RefundRow, given: PaymentProvider | undefined, now: number): Promise<RefundResult> {
  const payment = await requirePayment(db, row.paymentId);
  if (row.status !== "pending") return { refund: refundView(row), payment: paymentView(payment) };
  const provider = given ?? paymentProviderNamed(env, payment.provider);
  if (!provider || !payment.providerRef) throw pendingError(row, "the payment's provider is not configured here");
  let refundRef: string;
  try {
    ({ refundRef } = await provider.refund({
      providerRef: payment.providerRef,
      providerPaymentRef: payment.providerPaymentRef,
      paymentId: payment.id,
      amountPence: row.amountPence,
      idempotencyKey: row.id,
      reason: row.reason,
    }));
  } catch (error) {
    if (error instanceof PaymentProviderError && error.definite) {
      await db.update(refunds).set({ status: "failed", failure: error.message.slice(0, 500), updatedAt: new Date(now) }).where(and(eq(refunds.id, row.id), eq(refunds.status, "pending")));
      throw new ApiError("REFUND_REFUSED", `The provider refused the refund: ${error.message}`, { refundId: row.id });
    }
    console.error(JSON.stringify({ level: "error", msg: "refund outcome unknown", refundId: row.id, error: String(error) }));
    throw pendingError(row, "the provider could not be reached");
  }
  await db.update(refunds).set({ status: "succeeded", providerRef: refundRef, updatedAt: new Date(now) }).where(and(eq(refunds.id, row.id), eq(refunds.status, "pending")));
  const settled = await foldSucceededRefunds(db, payment.id, now);
  return { refund: refundView((await refundRow(db, row.id))!), payment: paymentView(settled) };
}

function pendingError(row: RefundRow, why: string): ApiError {
  return new ApiError("PAYMENT_UNAVAILABLE", `The refund is recorded but not made yet: ${why}. Try again.`, { refundId: row.id });
}

/** Our succeeded refunds as a running total, folded like a provider's refund event (the larger total wins). */
async function foldSucceededRefunds(db: Db, paymentId: string, now: number): Promise<PaymentRow> {
  const row = await db
    .select({ total: sql<number>`coalesce(sum(${refunds.amountPence}), 0)` })
    .from(refunds)
    .where(and(eq(refunds.paymentId, paymentId), eq(refunds.status, "succeeded")))
    .get();
  const total = row?.total ?? 0;
  return changePayment(
    db,
    paymentId,
    (payment) => {
      const transition = applyPaymentEvent(factsOf(payment), { kind: "refund_succeeded", amountPence: total }, now);
      return transition.changed ? columnsOf(transition.next) : null;
    },
    now,
  );
}
