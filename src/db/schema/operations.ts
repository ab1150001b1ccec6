/** What the platform learns and tells: demand signals, events, metrics, alerts, communications and dead letters. (Conventions: src/db/schema.ts.) */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { DEMAND_SIGNAL_TYPES } from "../../domain/demand-signals";
import { createdAt, updatedAt } from "./columns";

/** What customers wanted: views, checkouts, purchases blocked (and why), waitlist sign-ups. */
export const demandSignals = sqliteTable(
  "demand_signals",
  {
    id: text("id").primaryKey(),
    courseId: text("course_id").notNull(),
    userId: text("user_id"),
    cityId: text("city_id"),
    signalType: text("signal_type", { enum: DEMAND_SIGNAL_TYPES }).notNull(),
    reason: text("reason"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One course's signals, by date (demand analytics filtered by course): covers every count too,
    // the reason included (hiring demand and sold-out demand are told apart by it).
    index("demand_signals_course_analytics_idx").on(t.courseId, t.createdAt, t.cityId, t.signalType, t.reason),
    index("demand_signals_city_idx").on(t.cityId),
    index("demand_signals_type_idx").on(t.signalType),
    index("demand_signals_created_idx").on(t.createdAt),
    index("demand_signals_analytics_idx").on(t.createdAt, t.courseId, t.cityId, t.signalType, t.reason),
  ],
);

export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;

/** Alerts for admins. At most one unresolved alert per (type, subject): repeats update it, never add. */
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    severity: text("severity", { enum: ALERT_SEVERITIES }).notNull(),
    status: text("status", { enum: ALERT_STATUSES }).notNull().default("open"),
    subjectKey: text("subject_key").notNull(),
    title: text("title").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    occurrences: integer("occurrences").notNull().default(1),
    acknowledgedAt: integer("acknowledged_at", { mode: "timestamp_ms" }),
    acknowledgedBy: text("acknowledged_by"),
    resolvedAt: integer("resolved_at", { mode: "timestamp_ms" }),
    /** Who resolved it: an admin's token subject, or "system" when its condition cleared. */
    resolvedBy: text("resolved_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("alerts_unresolved_subject_uq").on(t.type, t.subjectKey).where(sql`status <> 'resolved'`),
    index("alerts_status_idx").on(t.status, t.severity, t.createdAt),
  ],
);

/**
 * Domain events from the events Queue (src/domain/events.ts): the one source of metrics. The id
 * comes with the event, so a redelivered batch inserts nothing twice.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    occurredAt: integer("occurred_at", { mode: "timestamp_ms" }).notNull(),
    sessionId: text("session_id"),
    classId: text("class_id"),
    studioId: text("studio_id"),
    cityId: text("city_id"),
    bookingId: text("booking_id"),
    customerId: text("customer_id"),
    email: text("email"),
    clientKey: text("client_key"),
    code: text("code"),
    seats: integer("seats"),
    amountPence: integer("amount_pence"),
    source: text("source"),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>(),
    recordedAt: createdAt(),
  },
  (t) => [
    index("events_occurred_idx").on(t.occurredAt),
    index("events_type_occurred_idx").on(t.type, t.occurredAt),
    index("events_studio_occurred_idx").on(t.studioId, t.occurredAt),
    index("events_email_occurred_idx").on(t.email, t.occurredAt),
    // The booking funnel finds the booking that confirmed a hold by the hold's id (src/db/funnel.ts).
    index("events_hold_booking_idx").on(sql`data ->> '$.holdId'`, t.occurredAt).where(sql`type = 'BOOKING_CONFIRMED'`),
  ],
);

export const COMMUNICATION_STATUSES = ["pending", "sent", "failed"] as const;

export const COMMUNICATION_CHANNELS = ["email", "sms"] as const;

/**
 * Every notification sent (or attempted) about a booking or a waitlist entry, written by the
 * notifications consumer (src/jobs/notifications-consumer.ts). The id is the notification
 * request's id, so a redelivered request finds its row and sends nothing twice. `pending` rows are
 * claimed for sending until `claimed_until`; `failed` is final (dead-lettered). Link tokens in
 * `content` are masked. No foreign keys: a message may be recorded before the booking's
 * projection reaches D1.
 */
export const bookingCommunications = sqliteTable(
  "booking_communications",
  {
    id: text("id").primaryKey(),
    bookingId: text("booking_id"),
    waitlistEntryId: text("waitlist_entry_id"),
    sessionId: text("session_id"),
    classId: text("class_id"),
    recipientEmail: text("recipient_email").notNull(),
    /** The notification kind (OFFER_MADE, BOOKING_CONFIRMED …). */
    type: text("type").notNull(),
    channel: text("channel", { enum: COMMUNICATION_CHANNELS }).notNull(),
    status: text("status", { enum: COMMUNICATION_STATUSES }).notNull(),
    /** Null only when the request could not be rendered (its data was invalid). */
    subject: text("subject"),
    content: text("content"),
    template: text("template"),
    templateVersion: integer("template_version"),
    provider: text("provider"),
    providerMessageId: text("provider_message_id"),
    /** Send attempts so far (claims), including the one in progress. */
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** While in the future, one delivery is sending this message and others keep off. */
    claimedUntil: integer("claimed_until", { mode: "timestamp_ms" }),
    /** When the producer asked for the message. */
    requestedAt: integer("requested_at", { mode: "timestamp_ms" }).notNull(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
    failedAt: integer("failed_at", { mode: "timestamp_ms" }),
    /** What the provider's delivery webhooks reported (src/services/delivery-events.ts). */
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
    openedAt: integer("opened_at", { mode: "timestamp_ms" }),
    clickedAt: integer("clicked_at", { mode: "timestamp_ms" }),
    /** Why the provider could not deliver it (a bounce, a complaint), as the provider said. */
    failedReason: text("failed_reason"),
    /** Who on the staff had it sent (their email, else their subject); null for what the system sends. */
    sentBy: text("sent_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("booking_communications_booking_idx").on(t.bookingId, t.requestedAt),
    index("booking_communications_waitlist_entry_idx").on(t.waitlistEntryId),
    index("booking_communications_provider_message_idx").on(t.provider, t.providerMessageId),
    index("booking_communications_recipient_idx").on(t.recipientEmail, t.requestedAt),
  ],
);

/**
 * Messages a queue consumer gave up on (from the dead-letter queues), kept so an admin can see and
 * replay them. One row per queue and message id, so a redelivered dead letter is stored once.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    /** The message body as JSON (what the consumer could not process). */
    body: text("body").notNull(),
    /** Deliveries of the dead letter itself, as the dead-letter queue counts them. */
    attempts: integer("attempts").notNull(),
    /** When the message was first sent. */
    sentAt: integer("sent_at", { mode: "timestamp_ms" }).notNull(),
    firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" })
      .notNull()
      .default(sql`(cast(unixepoch('subsec') * 1000 as integer))`),
  },
  (t) => [primaryKey({ columns: [t.queue, t.messageId] }), index("dead_letters_first_seen_idx").on(t.firstSeenAt)],
);

export const METRIC_GRANULARITIES = ["daily", "weekly"] as const;

export const METRIC_SCOPES = ["all", "studio", "class", "city"] as const;

/**
 * Metrics rolled up from `events` (and, for capacity, the sessions that ran): one row per
 * (granularity, period, scope, metric, dimension), so running a period again replaces its rows.
 * Counts and money (pence) are integers in `value`; a rate keeps its numerator in `value` and its
 * denominator in `denominator`, so weeks sum honestly from days (src/domain/metrics.ts names them).
 */
export const metrics = sqliteTable(
  "metrics",
  {
    granularity: text("granularity", { enum: METRIC_GRANULARITIES }).notNull(),
    /** UTC date (YYYY-MM-DD): the day, or the Monday that starts the ISO week. */
    periodStart: text("period_start").notNull(),
    scope: text("scope", { enum: METRIC_SCOPES }).notNull(),
    /** The studio, class or city id; '' for scope "all". */
    scopeId: text("scope_id").notNull().default(""),
    metric: text("metric").notNull(),
    /** What the metric is broken down by (an error code, a booking source, a city id); '' when none. */
    dimension: text("dimension").notNull().default(""),
    value: integer("value").notNull(),
    /** Set for rates only: the rate is value / denominator. */
    denominator: integer("denominator"),
    computedAt: integer("computed_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.granularity, t.periodStart, t.scope, t.scopeId, t.metric, t.dimension] }),
    index("metrics_scope_period_idx").on(t.granularity, t.scope, t.scopeId, t.periodStart, t.metric, t.dimension),
  ],
);
