/**
 * A booking's money as staff handle it (the console and /api/v1/admin/bookings/{id}/…): its
 * payments and refunds, a refund of part or all of what it was paid (never more: the payment
 * layer's reservation decides, src/services/payments/refunds.ts), and money taken at the desk.
 * `bookings.payment_status` follows from the payment rows by D1 triggers (migration 0011); the
 * status answered here is computed from the same rows by the same rule, so it is right even while
 * D1 has not received the booking yet.
 */
import { eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookings, payments, refunds } from "../db/schema";
import type { PaymentStatus } from "../domain/payments";
import { ApiError, notFound } from "../errors";
import { idFromSeed } from "../lib/idempotency-key";
import { ID_PREFIX, newId } from "../lib/ids";
import { type BookingView, currentBooking } from "./booking-views";
import { deskPaymentRef } from "./payments/desk-provider";
import { type PaymentEnv, paymentsOfBooking } from "./payments/payments";
import { type PaymentView, paymentView, type RefundView, refundView } from "./payments/records";
import { type RefundResult, refundablePence, refundPayment } from "./payments/refunds";
import { notifyRefund, type RefundNotificationEnv } from "./refund-notifications";

export type BookingPaymentsEnv = PaymentEnv & RefundNotificationEnv;

export const DESK_METHODS = ["card", "cash", "other"] as const;
export type DeskMethod = (typeof DESK_METHODS)[number];

/** The idempotency key of a booking's one desk payment: marking it paid twice makes one row. */
export const deskPaymentKey = (bookingId: string) => `desk:${bookingId}`;

const MONEY_RECEIVED: ReadonlySet<PaymentStatus> = new Set(["paid", "partially_refunded", "refunded"]);

async function requireBooking(env: BookingPaymentsEnv, db: Db, bookingId: string): Promise<BookingView> {
  // Lines as the session objects hold them: a session cancelled just now is not charged at the desk.
  const booking = await currentBooking(env, db, bookingId);
  if (!booking) throw notFound("Booking", bookingId);
  return booking;
}

/**
 * The booking's payment status from its payments, as the D1 triggers compute it: by the sums once
 * money arrived, pending while a checkout is open, failed once all closed unpaid; with no payment,
 * what the booking itself says (unpaid or not_required).
 */
export function paymentStatusFrom(rows: Pick<PaymentView, "paidPence" | "refundedPence" | "status">[], initial: PaymentStatus): PaymentStatus {
  if (rows.length === 0) return initial;
  const paid = rows.reduce((sum, row) => sum + row.paidPence, 0);
  const refunded = rows.reduce((sum, row) => sum + row.refundedPence, 0);
  if (paid > 0) return refunded >= paid ? "refunded" : refunded > 0 ? "partially_refunded" : "paid";
  return rows.some((row) => row.status === "pending" || row.status === "unpaid") ? "pending" : "failed";
}

/** Where the booking's money stands now: what D1's trigger wrote, or the same rule over the payments when D1 has no row yet. */
async function currentPaymentStatus(db: Db, booking: BookingView, rows?: PaymentView[]): Promise<PaymentStatus> {
  const row = await db.select({ paymentStatus: bookings.paymentStatus }).from(bookings).where(eq(bookings.id, booking.id)).get();
  if (row) return row.paymentStatus;
  return paymentStatusFrom(rows ?? (await paymentsOfBooking(db, booking.id)), booking.paymentStatus);
}

/** A booking's payments and their refunds, oldest first. */
export async function bookingPaymentsAndRefunds(env: BookingPaymentsEnv, db: Db, bookingId: string): Promise<{ payments: PaymentView[]; refunds: RefundView[] }> {
  const found = await paymentsOfBooking(db, bookingId);
  if (found.length === 0) await requireBooking(env, db, bookingId);
  const ids = found.map((payment) => payment.id);
  const rows = ids.length === 0 ? [] : await db.select().from(refunds).where(inArray(refunds.paymentId, ids)).orderBy(refunds.createdAt, refunds.id);
  return { payments: found, refunds: rows.map(refundView) };
}

export interface BookingRefundInput {
  bookingId: string;
  amountPence: number;
  reason: string;
  /** The staff subject who asked. */
  requestedBy: string;
  /** Which payment, when staff choose; otherwise the booking's payments with money left. */
  paymentId?: string | undefined;
  /** The Idempotency-Key's seed: the refund ids derive from it, so a retry that takes over refunds once. */
  seed?: string | undefined;
}

export interface BookingRefundResult {
  /** The refund (the first one, when the amount was split over several payments) and its payment after it. */
  refund: RefundView;
  payment: PaymentView;
  /** Every refund this request made: one, unless the amount was split. */
  refunds: RefundView[];
  booking: { id: string; paymentStatus: PaymentStatus };
}

/**
 * Refunds `amountPence` of a booking and tells the customer. Against `paymentId` when given (404
 * unless it is this booking's); otherwise against the booking's paid payments. How a booking with
 * several paid payments (a move's price difference is a second one) is split: newest payment
 * first, as much as each has left, then the next older — a newer charge is the one a provider
 * still refunds, and the latest change is the first undone. Each part is its own refund, checked
 * and reserved by refundPayment; the whole is checked first (422 REFUND_EXCEEDS_PAID over the sum
 * left), so a split only fails partway if another refund took the money in between. A booking
 * with no money received: 409 NOTHING_TO_REFUND.
 */
export async function refundBooking(env: BookingPaymentsEnv, db: Db, input: BookingRefundInput): Promise<BookingRefundResult> {
  const booking = await requireBooking(env, db, input.bookingId);
  const all = await paymentsOfBooking(db, booking.id);
  let paid = all.filter((payment) => payment.paidPence > 0);
  if (input.paymentId !== undefined) {
    const chosen = all.find((payment) => payment.id === input.paymentId);
    if (!chosen) throw new ApiError("NOT_FOUND", `Payment ${input.paymentId} is not a payment of booking ${booking.id}`, { resource: "Payment", id: input.paymentId });
    paid = chosen.paidPence > 0 ? [chosen] : [];
  }
  if (paid.length === 0) {
    throw new ApiError("NOTHING_TO_REFUND", `Booking ${booking.id} has received no money${input.paymentId ? ` on payment ${input.paymentId}` : ""}: there is nothing to refund`, {
      bookingId: booking.id,
      paymentStatus: paymentStatusFrom(all, booking.paymentStatus),
    });
  }
  const request = { reason: input.reason, requestedBy: input.requestedBy };
  const results: RefundResult[] = [];
  if (paid.length === 1) {
    // One payment: its own check and reservation decide, even between racing requests.
    const refundId = input.seed ? idFromSeed(ID_PREFIX.refund, input.seed) : undefined;
    results.push(await refundPayment(env, { ...request, paymentId: paid[0]!.id, amountPence: input.amountPence, refundId }));
  } else {
    results.push(...(await refundSplit(env, db, paid, input)));
  }
  for (const result of results) await notifyRefund(env, db, { bookingId: booking.id, refund: result.refund });
  const paymentStatus = await currentPaymentStatus(db, booking);
  return { refund: results[0]!.refund, payment: results[0]!.payment, refunds: results.map((result) => result.refund), booking: { id: booking.id, paymentStatus } };
}

/** The parts of a refund over several payments, newest first (see refundBooking). */
async function refundSplit(env: BookingPaymentsEnv, db: Db, paid: PaymentView[], input: BookingRefundInput): Promise<RefundResult[]> {
  const newestFirst = [...paid].reverse();
  // Keyed: a part's id derives from the key's seed and its payment, so a retry finds the parts already made.
  const idFor = (payment: PaymentView) => (input.seed ? `${idFromSeed(ID_PREFIX.refund, input.seed)}_${payment.id.slice(payment.id.indexOf("_") + 1, 13)}` : newId("refund"));
  const ids = new Map(newestFirst.map((payment) => [payment.id, idFor(payment)]));
  const earlier = input.seed ? await db.select().from(refunds).where(inArray(refunds.id, [...ids.values()])) : [];
  const results: RefundResult[] = [];
  let remaining = input.amountPence;
  for (const row of earlier) {
    results.push(await refundPayment(env, { paymentId: row.paymentId, amountPence: row.amountPence, reason: row.reason, requestedBy: row.requestedBy, refundId: row.id }));
    remaining -= row.amountPence;
  }
  const open = newestFirst.filter((payment) => !earlier.some((row) => row.paymentId === payment.id));
  const left = await Promise.all(open.map((payment) => refundablePence(db, payment.id)));
  const total = left.reduce((sum, pence) => sum + pence, 0);
  if (remaining > total) {
    throw new ApiError("REFUND_EXCEEDS_PAID", `At most ${total} pence of booking ${input.bookingId} can be refunded`, {
      bookingId: input.bookingId,
      paidPence: paid.reduce((sum, payment) => sum + payment.paidPence, 0),
      refundablePence: total,
    });
  }
  for (const [index, payment] of open.entries()) {
    const part = Math.min(left[index]!, remaining);
    if (part <= 0) continue;
    try {
      results.push(await refundPayment(env, { paymentId: payment.id, amountPence: part, reason: input.reason, requestedBy: input.requestedBy, refundId: ids.get(payment.id) }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "REFUND_EXCEEDS_PAID" || results.length === 0) throw error;
      // Another refund took this payment's money since it was read: what was refunded stands, and says so.
      throw new ApiError("REFUND_EXCEEDS_PAID", `Only ${input.amountPence - remaining} pence could be refunded: another refund took the rest`, {
        ...error.details,
        refundedNowPence: input.amountPence - remaining,
        refundIds: results.map((result) => result.refund.id),
      });
    }
    remaining -= part;
  }
  return results;
}

export interface DeskPaymentInput {
  bookingId: string;
  method: DeskMethod;
  note?: string | undefined;
  /** The staff subject who took the money. */
  recordedBy: string;
  /** The Idempotency-Key's seed: the payment's id derives from it, so a retry that takes over a failed attempt finds its own row. */
  seed?: string | undefined;
}

/**
 * Records that the customer paid at the studio: a `desk` payment of the booking's confirmed lines
 * (its total net of cancelled lines), paid at once, so the trigger makes the booking `paid`. Only
 * for a booking whose status is `unpaid`: once paid (at the desk or online) 409 ALREADY_PAID;
 * free, cancelled, or paying online (pending, failed) 409 PAYMENT_NOT_DUE. One per booking (its
 * idempotency key `desk:<bookingId>`), so two staff marking it at once make one row.
 */
export async function markPaidAtDesk(env: BookingPaymentsEnv, db: Db, input: DeskPaymentInput, now = Date.now()): Promise<PaymentView> {
  const booking = await requireBooking(env, db, input.bookingId);
  const key = deskPaymentKey(booking.id);
  const id = input.seed ? idFromSeed(ID_PREFIX.payment, input.seed) : newId("payment");
  const desk = await db.select().from(payments).where(eq(payments.idempotencyKey, key)).get();
  if (desk?.id === id) return paymentView(desk);
  if (desk) throw alreadyPaid(booking.id, "paid", desk.id);
  const status = await currentPaymentStatus(db, booking);
  if (MONEY_RECEIVED.has(status)) throw alreadyPaid(booking.id, status);
  const confirmed = booking.lines.filter((line) => line.status === "confirmed");
  const amountPence = booking.lines.length === 0 ? booking.totalAmountPence : confirmed.reduce((sum, line) => sum + line.pricePence, 0);
  if (status !== "unpaid" || booking.status === "cancelled" || amountPence <= 0) {
    const why = booking.status === "cancelled" ? "it is cancelled" : status !== "unpaid" ? `its payment status is ${status}` : "nothing is owed on its confirmed sessions";
    throw new ApiError("PAYMENT_NOT_DUE", `Booking ${booking.id} cannot be marked paid at the desk: ${why}`, { bookingId: booking.id, paymentStatus: status, status: booking.status });
  }
  const description = `Paid at the desk by ${input.method}, recorded by ${input.recordedBy}${input.note ? `: ${input.note}` : ""}`;
  const [row] = await db
    .insert(payments)
    .values({
      id,
      bookingId: booking.id,
      classId: booking.classId,
      source: booking.source,
      amountPence,
      currency: booking.currency,
      description: description.slice(0, 200),
      status: "paid",
      provider: "desk",
      // What a desk refund is made against (refunds.ts asks for a reference, as for a checkout).
      providerRef: deskPaymentRef(id),
      idempotencyKey: key,
      // No hold to outlast: the money is in hand.
      expiresAt: new Date(now),
      paidPence: amountPence,
      paidAt: new Date(now),
      createdAt: new Date(now),
      updatedAt: new Date(now),
    })
    .onConflictDoNothing({ target: payments.idempotencyKey })
    .returning();
  // Another request recorded it between the check and the insert.
  if (!row) throw alreadyPaid(booking.id, "paid", (await db.select({ id: payments.id }).from(payments).where(eq(payments.idempotencyKey, key)).get())?.id);
  return paymentView(row);
}

function alreadyPaid(bookingId: string, paymentStatus: PaymentStatus, paymentId?: string): ApiError {
  return new ApiError("ALREADY_PAID", `Booking ${bookingId} is already paid`, paymentId ? { bookingId, paymentStatus, paymentId } : { bookingId, paymentStatus });
}
