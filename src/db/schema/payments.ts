/**
 * Payments, refunds and the provider events already applied (src/services/payments). D1 only: a
 * payment never counts seats; the booking's hold in its session's Durable Object does, and the
 * booking side confirms or releases it from what these rows say. (Conventions: src/db/schema.ts.)
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { CLOSED_REASONS, PAYMENT_EVENT_KINDS, PAYMENT_PROVIDER_NAMES, PAYMENT_STATUSES, REFUND_STATUSES } from "../../domain/payments";
import { createdAt, updatedAt } from "./columns";

/**
 * One checkout for one booking's money (a booking may have more: a move's price difference). The
 * money columns are the facts of src/domain/payments.ts; `status` is what they add up to, stored
 * so lists and reports need not recompute it. `version` grows with every write: a write that read
 * an older version is refused and redone, so two events for one payment never lose each other.
 */
export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    bookingId: text("booking_id").notNull(),
    /**
     * The booking's class and source when the payment was made, so the money reports group a
     * period's payments by them from one index, without looking up each booking (null: unknown).
     */
    classId: text("class_id"),
    source: text("source"),
    amountPence: integer("amount_pence").notNull(),
    currency: text("currency").notNull().default("GBP"),
    /** What the customer was shown on the provider's page ("Wheel basics, 2 seats"). */
    description: text("description").notNull(),
    status: text("status", { enum: PAYMENT_STATUSES }).notNull(),
    provider: text("provider", { enum: PAYMENT_PROVIDER_NAMES }).notNull(),
    /** The provider's checkout (a Stripe Checkout Session `cs_…`); null until it exists. */
    providerRef: text("provider_ref"),
    /** What the provider refunds against (a Stripe PaymentIntent `pi_…`), learnt when the payment succeeds. */
    providerPaymentRef: text("provider_payment_ref"),
    checkoutUrl: text("checkout_url"),
    /** Sent to the provider as its idempotency key, and unique here: starting the same payment twice makes one. */
    idempotencyKey: text("idempotency_key").notNull().unique(),
    /** When the seats' hold ends: our hold decides, not the provider's page (Stripe's lasts at least 30 minutes). */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    paidPence: integer("paid_pence").notNull().default(0),
    paidAt: integer("paid_at", { mode: "timestamp_ms" }),
    refundedPence: integer("refunded_pence").notNull().default(0),
    closedReason: text("closed_reason", { enum: CLOSED_REASONS }),
    version: integer("version").notNull().default(0),
    /**
     * What confirming the booking needs once this is paid (src/services/online-bookings.ts): the
     * booking as committed, its seats and, across sessions, its coordinator. Null for payments
     * that confirm nothing (a desk payment, a move's difference).
     */
    bookingSnapshot: text("booking_snapshot"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("payments_booking_idx").on(t.bookingId),
    uniqueIndex("payments_provider_ref_uq").on(t.provider, t.providerRef),
    index("payments_provider_payment_ref_idx").on(t.provider, t.providerPaymentRef),
    // The sweep of checkouts whose hold ended unpaid (src/jobs/payment-sweeps.ts).
    index("payments_open_expiry_idx").on(t.status, t.expiresAt),
    // Money received in a period (src/db/revenue.ts), covering what the reports sum.
    index("payments_paid_at_idx").on(t.paidAt, t.classId, t.source, t.paidPence),
    // Refunds the provider reported beyond our own rows, by when they were folded in.
    index("payments_refunded_idx").on(t.updatedAt).where(sql`${t.refundedPence} > 0`),
  ],
);

/** Money given back: reserved as `pending` before the provider is asked, so concurrent refunds never exceed what was paid. */
export const refunds = sqliteTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id")
      .notNull()
      .references(() => payments.id),
    amountPence: integer("amount_pence").notNull(),
    reason: text("reason").notNull(),
    /** A staff subject, or "system" (a late payment given back) or "customer" (their own cancellation). */
    requestedBy: text("requested_by").notNull(),
    status: text("status", { enum: REFUND_STATUSES }).notNull(),
    providerRef: text("provider_ref"),
    /** Why the provider refused it (a failed refund reserves nothing). */
    failure: text("failure"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("refunds_payment_idx").on(t.paymentId, t.status),
    // Refunds that succeeded in a period (src/db/revenue.ts), covering what the reports sum. Time
    // first: with status first the planner took it for a payment's refunds too, scanning them all.
    index("refunds_settled_idx").on(t.updatedAt, t.status, t.paymentId, t.amountPence),
  ],
);

/** Provider events already applied, by the provider's own event id: a redelivery finds its row and changes nothing. */
export const paymentEvents = sqliteTable(
  "payment_events",
  {
    provider: text("provider", { enum: PAYMENT_PROVIDER_NAMES }).notNull(),
    eventId: text("event_id").notNull(),
    kind: text("kind", { enum: PAYMENT_EVENT_KINDS }).notNull(),
    paymentId: text("payment_id"),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] })],
);
