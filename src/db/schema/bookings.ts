/** Customers, bookings (the projection of the session objects), promo codes, Idempotency-Key records and the audit trail of attempts. (Conventions: src/db/schema.ts.) */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { BOOKING_KINDS } from "../../domain/booking-kinds";
import { PAYMENT_STATUSES } from "../../domain/payments";
import { createdAt, updatedAt } from "./columns";
import { classSessions } from "./catalog";

/** How a customer wants to hear from the studio (set in the portal, PATCH /api/v1/me); null until they say. */
export const CONTACT_PREFERENCES = ["email", "sms", "none"] as const;

/** What staff record about how a customer likes to be looked after (PATCH /api/v1/admin/customers/{id}). */
export interface CustomerPreferences {
  [key: string]: string | number | boolean | null;
}

export const customers = sqliteTable(
  "customers",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull().unique(),
    firstName: text("first_name").notNull(),
    lastName: text("last_name").notNull(),
    phone: text("phone"),
    preferredContact: text("preferred_contact", { enum: CONTACT_PREFERENCES }),
    /** Staff-only notes about the customer: never in anything the customer sees. */
    staffNotes: text("staff_notes"),
    preferences: text("preferences", { mode: "json" }).$type<CustomerPreferences>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // Staff search is case-insensitive prefix search (email is stored lower-cased, so its unique index serves).
  (t) => [
    index("customers_first_name_idx").on(sql`lower(${t.firstName})`),
    index("customers_last_name_idx").on(sql`lower(${t.lastName})`),
    index("customers_phone_idx").on(t.phone),
  ],
);

export const BOOKING_STATUSES = ["confirmed", "cancelled"] as const;

/** Where a booking came from: a closed list (`website` unless told otherwise). */
export const BOOKING_SOURCES = ["website", "phone", "email", "walk_in", "staff", "waitlist"] as const;
export type BookingSource = (typeof BOOKING_SOURCES)[number];

/**
 * Bookings are a projection of the session Durable Objects: each session's DO delivers the header
 * and its own line through its outbox with idempotent upserts. `version` (epoch ms of the change)
 * orders deliveries, so a late retry never overwrites a newer state.
 */
export const bookings = sqliteTable(
  "bookings",
  {
    id: text("id").primaryKey(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    registrationType: text("registration_type", { enum: BOOKING_KINDS }).notNull(),
    status: text("status", { enum: BOOKING_STATUSES }).notNull(),
    /** Seats per session: the customer plus their guests. */
    guestCount: integer("guest_count").notNull(),
    classId: text("class_id").notNull(),
    patternId: text("pattern_id"),
    subtotalPence: integer("subtotal_pence").notNull(),
    discountPence: integer("discount_pence").notNull(),
    totalAmountPence: integer("total_amount_pence").notNull(),
    currency: text("currency").notNull().default("GBP"),
    promoCodeId: text("promo_code_id"),
    /** Null only on rows older than the closed list (read as `website`); nullable so the column change needs no table rebuild. */
    source: text("source", { enum: BOOKING_SOURCES }),
    referralSource: text("referral_source"),
    notes: text("notes"),
    /** SHA-256 of the manage token; the token itself is only ever in the booking response. */
    manageTokenHash: text("manage_token_hash").notNull(),
    /** Subject of the staff or admin token that booked on the customer's behalf. */
    bookedBy: text("booked_by"),
    duplicateOverride: integer("duplicate_override", { mode: "boolean" }).notNull().default(false),
    holdId: text("hold_id"),
    version: integer("version").notNull(),
    confirmedAt: integer("confirmed_at", { mode: "timestamp_ms" }).notNull(),
    cancelledAt: integer("cancelled_at", { mode: "timestamp_ms" }),
    /**
     * Net price and seats of the booking's confirmed lines. Kept by SQLite triggers on
     * booking_sessions (migration 0008), recomputed from the lines on every change, so a redelivered
     * line leaves them right and no writer has to remember them; read by the reports.
     */
    netPence: integer("net_pence").notNull().default(0),
    netSeats: integer("net_seats").notNull().default(0),
    /**
     * Where the booking's money stands (src/domain/payments.ts PAYMENT_STATUSES). The projection
     * writes the first value (not_required, unpaid at the desk, paid online); SQLite triggers on
     * payments (migration 0011) recompute it from the booking's payments on every change after.
     */
    paymentStatus: text("payment_status", { enum: PAYMENT_STATUSES }).notNull().default("not_required"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("bookings_customer_idx").on(t.customerId),
    index("bookings_class_idx").on(t.classId, t.confirmedAt),
    // By confirmation time, and covering for the reports (src/services/reports) that aggregate a
    // range of bookings per class or source; per customer the reports read the next index, in
    // customer order so per-customer aggregates need no sort. Two indexes, not one per report:
    // at a million bookings every index costs tens of MB.
    index("bookings_confirmed_at_idx").on(t.confirmedAt, t.status, t.classId, t.customerId, t.source, t.totalAmountPence, t.netPence, t.netSeats),
    index("bookings_customer_value_idx").on(t.status, t.customerId, t.confirmedAt, t.netPence, t.classId),
    index("bookings_booked_by_idx").on(t.bookedBy, t.confirmedAt),
    index("bookings_source_idx").on(t.source, t.confirmedAt),
  ],
);

/**
 * Staff revocations of a booking's manage tokens (POST /admin/bookings/{id}/manage-token/revoke):
 * with a row, only the token of its generation opens the booking, whatever `manage_token_hash`
 * says. The latest revocation per booking; no foreign key, since D1 may not have the booking yet.
 */
export const manageTokenRevocations = sqliteTable("manage_token_revocations", {
  bookingId: text("booking_id").primaryKey(),
  generation: integer("generation").notNull(),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }).notNull(),
  /** Subject of the staff or admin token that revoked. */
  revokedBy: text("revoked_by").notNull(),
});

/** One line per session a booking covers. */
export const bookingSessions = sqliteTable(
  "booking_sessions",
  {
    bookingId: text("booking_id")
      .notNull()
      .references(() => bookings.id, { onDelete: "cascade" }),
    sessionId: text("session_id")
      .notNull()
      .references(() => classSessions.id),
    seats: integer("seats").notNull(),
    status: text("status", { enum: BOOKING_STATUSES }).notNull(),
    pricePence: integer("price_pence").notNull().default(0),
    version: integer("version").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.bookingId, t.sessionId] }), index("booking_sessions_session_idx").on(t.sessionId, t.status, t.seats)],
);

/**
 * Commit decisions for bookings that hold seats before confirming (multi-session bookings and
 * checkout holds). The first of `commit` (by the coordinator) and `abort` (by an expiring hold's
 * alarm) to be inserted wins, so a crashed coordinator never leaves a partial booking: every
 * session's DO asks here before it lets an unconfirmed hold go.
 */
export const bookingDecisions = sqliteTable("booking_decisions", {
  reservationId: text("reservation_id").primaryKey(),
  decision: text("decision", { enum: ["commit", "abort"] }).notNull(),
  bookingId: text("booking_id"),
  /** The booking being committed (JSON), so a session's DO can confirm its hold without the coordinator. */
  booking: text("booking"),
  createdAt: createdAt(),
});

export const PROMO_KINDS = ["percent", "fixed"] as const;

export const promoCodes = sqliteTable("promo_codes", {
  id: text("id").primaryKey(),
  /** Upper-cased; matched case-insensitively. */
  code: text("code").notNull().unique(),
  kind: text("kind", { enum: PROMO_KINDS }).notNull(),
  /** Percent off (1–100) or pence off. */
  value: integer("value").notNull(),
  validFrom: integer("valid_from", { mode: "timestamp_ms" }),
  validUntil: integer("valid_until", { mode: "timestamp_ms" }),
  maxUses: integer("max_uses"),
  maxUsesPerEmail: integer("max_uses_per_email"),
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * One row per booking that used a promo code, projected from the code's PromoRedemptionsDO (the
 * one writer that decides them): the usage count is the number of `redeemed` rows. A use given
 * back stays as `released`; `version` (the object's change counter) orders a row's changes.
 */
export const promoRedemptions = sqliteTable(
  "promo_redemptions",
  {
    bookingId: text("booking_id").primaryKey(),
    promoCodeId: text("promo_code_id")
      .notNull()
      .references(() => promoCodes.id),
    email: text("email").notNull(),
    status: text("status", { enum: ["redeemed", "released"] }).notNull().default("redeemed"),
    version: integer("version").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("promo_redemptions_promo_email_idx").on(t.promoCodeId, t.email)],
);

/** Idempotency-Key records: the first response to a (caller, key) pair, replayed for 24 h or more. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    /** Random, per claim: ids of what the request creates derive from it (kept on takeover). */
    seed: text("seed").notNull(),
    status: text("status", { enum: ["in_progress", "completed"] }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    /** The client address of the request that recorded the response: a replay elsewhere withholds its secrets. */
    origin: text("origin"),
    /** An in-progress record whose lease ran out (its request died) may be taken over. */
    leaseUntil: integer("lease_until", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_expires_idx").on(t.expiresAt)],
);

/** The audit trail: every booking or hold attempt, accepted or rejected with its code. */
export const bookingAttempts = sqliteTable(
  "booking_attempts",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["booking", "hold", "cancellation"] }).notNull(),
    outcome: text("outcome", { enum: ["accepted", "rejected"] }).notNull(),
    errorCode: text("error_code"),
    bookingId: text("booking_id"),
    registrationType: text("registration_type"),
    sessionIds: text("session_ids", { mode: "json" }).$type<string[]>().notNull(),
    email: text("email"),
    guestCount: integer("guest_count"),
    amountPence: integer("amount_pence"),
    expectedAmountPence: integer("expected_amount_pence"),
    currency: text("currency"),
    promoCode: text("promo_code"),
    source: text("source"),
    actorRole: text("actor_role"),
    clientKey: text("client_key"),
    idempotencyKey: text("idempotency_key"),
    requestId: text("request_id"),
    durationMs: integer("duration_ms").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("booking_attempts_created_idx").on(t.createdAt),
    index("booking_attempts_outcome_idx").on(t.outcome, t.errorCode, t.createdAt),
    index("booking_attempts_email_idx").on(t.email, t.createdAt),
  ],
);
