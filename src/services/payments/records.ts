/**
 * Payment and refund rows: reading them, their facts for src/domain/payments.ts, the views the API
 * and pages show, and the one way a payment row changes — a write guarded by the version it read,
 * redone from a fresh read when another write got there first.
 */
import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { payments, refunds } from "../../db/schema";
import type { PaymentFacts } from "../../domain/payments";
import { ApiError, notFound } from "../../errors";

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;

/** Two writers racing on one payment each get a turn well within this. */
export const MAX_WRITE_ATTEMPTS = 8;

export interface PaymentView {
  id: string;
  bookingId: string;
  provider: PaymentRow["provider"];
  status: PaymentRow["status"];
  amountPence: number;
  currency: string;
  description: string;
  paidPence: number;
  refundedPence: number;
  checkoutUrl: string | null;
  expiresAt: string;
  paidAt: string | null;
  closedReason: PaymentRow["closedReason"];
  createdAt: string;
}

export interface RefundView {
  id: string;
  paymentId: string;
  amountPence: number;
  reason: string;
  requestedBy: string;
  status: RefundRow["status"];
  providerRef: string | null;
  failure: string | null;
  createdAt: string;
}

export function paymentView(row: PaymentRow): PaymentView {
  return {
    id: row.id,
    bookingId: row.bookingId,
    provider: row.provider,
    status: row.status,
    amountPence: row.amountPence,
    currency: row.currency,
    description: row.description,
    paidPence: row.paidPence,
    refundedPence: row.refundedPence,
    checkoutUrl: row.checkoutUrl,
    expiresAt: row.expiresAt.toISOString(),
    paidAt: row.paidAt?.toISOString() ?? null,
    closedReason: row.closedReason,
    createdAt: row.createdAt.toISOString(),
  };
}

export function refundView(row: RefundRow): RefundView {
  return {
    id: row.id,
    paymentId: row.paymentId,
    amountPence: row.amountPence,
    reason: row.reason,
    requestedBy: row.requestedBy,
    status: row.status,
    providerRef: row.providerRef,
    failure: row.failure,
    createdAt: row.createdAt.toISOString(),
  };
}

export function factsOf(row: PaymentRow): PaymentFacts {
  return {
    status: row.status,
    amountPence: row.amountPence,
    currency: row.currency,
    expiresAt: row.expiresAt.getTime(),
    paidPence: row.paidPence,
    paidAt: row.paidAt?.getTime() ?? null,
    refundedPence: row.refundedPence,
    closedReason: row.closedReason,
  };
}

/** The columns a change of facts writes (amount, currency and expiry never change). */
export function columnsOf(facts: PaymentFacts) {
  return {
    status: facts.status,
    paidPence: facts.paidPence,
    paidAt: facts.paidAt === null ? null : new Date(facts.paidAt),
    refundedPence: facts.refundedPence,
    closedReason: facts.closedReason,
  };
}

export async function paymentRow(db: Db, id: string): Promise<PaymentRow | undefined> {
  return db.select().from(payments).where(eq(payments.id, id)).get();
}

export async function requirePayment(db: Db, id: string): Promise<PaymentRow> {
  const row = await paymentRow(db, id);
  if (!row) throw notFound("Payment", id);
  return row;
}

/** The update that moves `row` on, only if nobody else did since it was read. */
export function guardedUpdate(db: Db, row: PaymentRow, changes: Partial<PaymentRow>, now: number, extraCondition?: SQL) {
  const where = and(eq(payments.id, row.id), eq(payments.version, row.version), extraCondition);
  return db
    .update(payments)
    .set({ ...changes, version: row.version + 1, updatedAt: new Date(now) })
    .where(where)
    .returning();
}

/** Applies `change` to the freshest row until its guarded write lands; `change` returns null when there is nothing to write. */
export async function changePayment(db: Db, id: string, change: (row: PaymentRow) => Partial<PaymentRow> | null, now = Date.now()): Promise<PaymentRow> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const row = await requirePayment(db, id);
    const changes = change(row);
    if (changes === null) return row;
    const [updated] = await guardedUpdate(db, row, changes, now);
    if (updated) return updated;
  }
  throw busy();
}

export function busy(): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", "The payment is changing too often right now; try again");
}
