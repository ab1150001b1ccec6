/**
 * Running the studio (issue 12): who was at a session, groups booked together, certificates and
 * their renewal offers. All of it is D1 only: none of it is a seat count, so none of it lives in
 * a session's Durable Object. (Conventions: src/db/schema.ts.)
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "./columns";

/**
 * The people on a booking, one row per seat (position 1 is the booker). A booking for several may
 * name each one; an unnamed seat keeps a null name until someone names it.
 */
export const bookingAttendees = sqliteTable(
  "booking_attendees",
  {
    id: text("id").primaryKey(),
    bookingId: text("booking_id").notNull(),
    position: integer("position").notNull(),
    name: text("name"),
    email: text("email"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("booking_attendees_booking_position_uq").on(t.bookingId, t.position), index("booking_attendees_email_idx").on(t.email)],
);

/** What staff recorded about one attendee at one session; no row means still `booked`. */
export const ATTENDANCE_STATUSES = ["checked_in", "no_show"] as const;

export const sessionAttendance = sqliteTable(
  "session_attendance",
  {
    sessionId: text("session_id").notNull(),
    attendeeId: text("attendee_id").notNull(),
    bookingId: text("booking_id").notNull(),
    status: text("status", { enum: ATTENDANCE_STATUSES }).notNull(),
    /** A staff subject, or "system" for the no-show sweep. */
    recordedBy: text("recorded_by").notNull(),
    recordedAt: integer("recorded_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.attendeeId] }),
    index("session_attendance_booking_idx").on(t.bookingId),
    index("session_attendance_status_idx").on(t.status, t.recordedAt),
  ],
);

/**
 * Sessions the no-show sweep has finished (src/jobs/no-show-sweep.ts): each is swept once, so a
 * no-show staff undo afterwards stays undone instead of being marked again by the next run.
 */
export const attendanceSweeps = sqliteTable("attendance_sweeps", {
  sessionId: text("session_id").primaryKey(),
  /** Attendees the sweep marked no_show. */
  marked: integer("marked").notNull(),
  sweptAt: integer("swept_at", { mode: "timestamp_ms" }).notNull(),
});

export const GROUP_STATUSES = ["active", "cancelled"] as const;

/** A group or corporate booking: one organiser and payer, N named participants, one or more bookings. */
export const bookingGroups = sqliteTable(
  "booking_groups",
  {
    id: text("id").primaryKey(),
    /** The studio's or the company's reference (purchase order …), unique. */
    reference: text("reference").notNull().unique(),
    name: text("name").notNull(),
    company: text("company"),
    organiserName: text("organiser_name").notNull(),
    organiserEmail: text("organiser_email").notNull(),
    /** Who pays for every seat of the group (the organiser unless told otherwise). */
    payerName: text("payer_name").notNull(),
    payerEmail: text("payer_email").notNull(),
    classId: text("class_id").notNull(),
    /** The session booked, or null for a whole course. */
    sessionId: text("session_id"),
    status: text("status", { enum: GROUP_STATUSES }).notNull().default("active"),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("booking_groups_class_idx").on(t.classId, t.createdAt), index("booking_groups_created_idx").on(t.createdAt)],
);

/** The bookings a group is made of: the first one for all its participants, then one per participant added. */
export const bookingGroupMembers = sqliteTable(
  "booking_group_members",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => bookingGroups.id, { onDelete: "cascade" }),
    bookingId: text("booking_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.bookingId] }), uniqueIndex("booking_group_members_booking_uq").on(t.bookingId)],
);

export const CERTIFICATE_STATUSES = ["valid", "revoked"] as const;

/** A certificate of completion. Validity (valid, expiring, expired) is derived from `expires_at` and `status`. */
export const certificates = sqliteTable(
  "certificates",
  {
    id: text("id").primaryKey(),
    /** Printed on the certificate, e.g. CERT-2026-000123. */
    number: text("number").notNull().unique(),
    /** Random, in the public verification URL; shows only validity. */
    verificationCode: text("verification_code").notNull().unique(),
    customerId: text("customer_id").notNull(),
    /** The name printed, as the attendee was named when it was issued. */
    holderName: text("holder_name").notNull(),
    classId: text("class_id").notNull(),
    bookingId: text("booking_id").notNull(),
    attendeeId: text("attendee_id").notNull(),
    status: text("status", { enum: CERTIFICATE_STATUSES }).notNull().default("valid"),
    issuedAt: integer("issued_at", { mode: "timestamp_ms" }).notNull(),
    /** Null when the class's certificates never expire. */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    renewalReminderSentAt: integer("renewal_reminder_sent_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("certificates_attendee_class_uq").on(t.attendeeId, t.classId),
    index("certificates_customer_idx").on(t.customerId, t.issuedAt),
    index("certificates_class_expiry_idx").on(t.classId, t.expiresAt),
    index("certificates_expiry_idx").on(t.expiresAt).where(sql`status = 'valid'`),
  ],
);

export const RENEWAL_OFFER_STATUSES = ["offered", "accepted", "declined", "expired"] as const;

/** A seat held in the next suitable session for a certificate holder, for a limited time (like a waitlist offer). */
export const renewalOffers = sqliteTable(
  "renewal_offers",
  {
    id: text("id").primaryKey(),
    certificateId: text("certificate_id")
      .notNull()
      .references(() => certificates.id),
    customerId: text("customer_id").notNull(),
    email: text("email").notNull(),
    sessionId: text("session_id").notNull(),
    /** The hold in the session's Durable Object that keeps the seat. */
    holdId: text("hold_id").notNull(),
    /** SHA-256 of the emailed token. */
    tokenHash: text("token_hash").notNull().unique(),
    status: text("status", { enum: RENEWAL_OFFER_STATUSES }).notNull().default("offered"),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    bookingId: text("booking_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("renewal_offers_certificate_idx").on(t.certificateId), index("renewal_offers_status_expiry_idx").on(t.status, t.expiresAt)],
);

export const WEBHOOK_ENDPOINT_STATUSES = ["enabled", "disabled"] as const;

/** Outgoing webhook subscriptions (Standard Webhooks). The secret is kept to sign with; it is shown once, at creation. */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  events: text("events", { mode: "json" }).$type<string[]>().notNull(),
  description: text("description"),
  /** `whsec_` + base64 of the key bytes. */
  secret: text("secret").notNull(),
  status: text("status", { enum: WEBHOOK_ENDPOINT_STATUSES }).notNull().default("enabled"),
  disabledReason: text("disabled_reason"),
  /** Deliveries that failed every retry since the last success: at the limit the endpoint is disabled. */
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  /** The first failed attempt since the last success (null while healthy): failing for too long also disables. */
  failingSince: integer("failing_since", { mode: "timestamp_ms" }),
  createdBy: text("created_by").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

/** One message to one endpoint; its id is the `webhook-id` header, the same on every retry. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    /** The domain event it came from (or the test send's own id): one delivery per endpoint and event. */
    eventId: text("event_id").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastAttemptAt: integer("last_attempt_at", { mode: "timestamp_ms" }),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    responseStatus: integer("response_status"),
    lastError: text("last_error"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event_uq").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_created_idx").on(t.endpointId, t.createdAt),
    index("webhook_deliveries_status_next_idx").on(t.status, t.nextAttemptAt),
  ],
);
