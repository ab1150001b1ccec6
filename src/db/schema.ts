/**
 * The D1 schema: the one place tables are described. SQL migrations in migrations/ are generated
 * from this file with `npm run db:generate`; a test fails when the two disagree.
 *
 * Conventions: ids are prefixed text (`cls_…`), instants are UTC epoch milliseconds
 * (`timestamp_ms`), money is integer pence, emails are stored lower-cased.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { BOOKING_KINDS, type BookingKind } from "../domain/booking-kinds";
import { DEMAND_SIGNAL_TYPES } from "../domain/demand-signals";

// Defined with the rules that use them (src/domain), stored here.
export { BOOKING_KINDS, type BookingKind, DEMAND_SIGNAL_TYPES };

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);
const updatedAt = () =>
  integer("updated_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);

export const cities = sqliteTable("cities", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  countryCode: text("country_code").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const studios = sqliteTable(
  "studios",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    cityId: text("city_id")
      .notNull()
      .references(() => cities.id),
    timeZone: text("time_zone").notNull(),
    currency: text("currency").notNull().default("GBP"),
    address: text("address"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("studios_city_idx").on(t.cityId)],
);

export const teachingRoles = sqliteTable("teaching_roles", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  description: text("description"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** People who teach or assist; their bearer tokens carry the `staff` role and this email. */
export const staff = sqliteTable("staff", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name").notNull(),
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const staffTeachingRoles = sqliteTable(
  "staff_teaching_roles",
  {
    staffId: text("staff_id")
      .notNull()
      .references(() => staff.id, { onDelete: "cascade" }),
    roleId: text("role_id")
      .notNull()
      .references(() => teachingRoles.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.staffId, t.roleId] }), index("staff_teaching_roles_role_idx").on(t.roleId)],
);

export const classes = sqliteTable(
  "classes",
  {
    id: text("id").primaryKey(),
    studioId: text("studio_id")
      .notNull()
      .references(() => studios.id),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    pricePence: integer("price_pence").notNull(),
    fullSchedulePricePence: integer("full_schedule_price_pence"),
    durationMinutes: integer("duration_minutes").notNull(),
    defaultCapacity: integer("default_capacity").notNull(),
    requiredRoleId: text("required_role_id")
      .notNull()
      .references(() => teachingRoles.id),
    bookingKinds: text("booking_kinds", { mode: "json" }).$type<BookingKind[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("classes_studio_idx").on(t.studioId)],
);

/** Things a studio has a fixed number of, such as potter's wheels. */
export const resources = sqliteTable(
  "resources",
  {
    id: text("id").primaryKey(),
    studioId: text("studio_id")
      .notNull()
      .references(() => studios.id),
    name: text("name").notNull(),
    quantity: integer("quantity").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("resources_studio_name_uq").on(t.studioId, t.name)],
);

/** How many units of a resource each student of a class uses. */
export const classResourceRequirements = sqliteTable(
  "class_resource_requirements",
  {
    classId: text("class_id")
      .notNull()
      .references(() => classes.id, { onDelete: "cascade" }),
    resourceId: text("resource_id")
      .notNull()
      .references(() => resources.id, { onDelete: "cascade" }),
    quantityPerStudent: integer("quantity_per_student").notNull(),
  },
  (t) => [primaryKey({ columns: [t.classId, t.resourceId] })],
);

export const RECURRENCE_FREQUENCIES = ["DAILY", "WEEKLY", "MONTHLY"] as const;
export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A recurring schedule: an RRULE (frequency, interval, weekdays, count or until, exception dates)
 * anchored at a studio-local date and time. Sessions are generated from it in the studio's zone.
 */
export const schedulePatterns = sqliteTable(
  "schedule_patterns",
  {
    id: text("id").primaryKey(),
    classId: text("class_id")
      .notNull()
      .references(() => classes.id),
    frequency: text("frequency", { enum: RECURRENCE_FREQUENCIES }).notNull(),
    interval: integer("interval").notNull().default(1),
    byWeekday: text("by_weekday", { mode: "json" }).$type<Weekday[]>().notNull(),
    count: integer("count"),
    /** Studio-local date (YYYY-MM-DD), inclusive. */
    untilDate: text("until_date"),
    /** Studio-local date (YYYY-MM-DD) of the first occurrence. */
    startDate: text("start_date").notNull(),
    /** Studio-local wall-clock time (HH:MM). */
    startTime: text("start_time").notNull(),
    durationMinutes: integer("duration_minutes").notNull(),
    maxStudents: integer("max_students").notNull(),
    location: text("location"),
    exceptionDates: text("exception_dates", { mode: "json" }).$type<string[]>().notNull(),
    defaultInstructorId: text("default_instructor_id").references(() => staff.id),
    defaultAssistantIds: text("default_assistant_ids", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("schedule_patterns_class_idx").on(t.classId)],
);

export const SESSION_STATUSES = ["scheduled", "cancelled"] as const;

/** One dated occurrence of a class. Its seats are owned by the session's Durable Object. */
export const classSessions = sqliteTable(
  "class_sessions",
  {
    id: text("id").primaryKey(),
    classId: text("class_id")
      .notNull()
      .references(() => classes.id),
    patternId: text("pattern_id").references(() => schedulePatterns.id),
    startsAt: integer("starts_at", { mode: "timestamp_ms" }).notNull(),
    endsAt: integer("ends_at", { mode: "timestamp_ms" }).notNull(),
    capacity: integer("capacity").notNull(),
    location: text("location"),
    instructorId: text("instructor_id").references(() => staff.id),
    status: text("status", { enum: SESSION_STATUSES }).notNull().default("scheduled"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("class_sessions_pattern_start_uq").on(t.patternId, t.startsAt),
    index("class_sessions_class_start_idx").on(t.classId, t.startsAt),
    index("class_sessions_instructor_start_idx").on(t.instructorId, t.startsAt),
    index("class_sessions_starts_at_idx").on(t.startsAt),
  ],
);

export const sessionAssistants = sqliteTable(
  "session_assistants",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => classSessions.id, { onDelete: "cascade" }),
    staffId: text("staff_id")
      .notNull()
      .references(() => staff.id),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.staffId] }), index("session_assistants_staff_idx").on(t.staffId)],
);

export const customers = sqliteTable("customers", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name").notNull(),
  phone: text("phone"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const BOOKING_STATUSES = ["confirmed", "cancelled"] as const;

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
    source: text("source"),
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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("bookings_customer_idx").on(t.customerId),
    index("bookings_class_idx").on(t.classId, t.confirmedAt),
    index("bookings_confirmed_at_idx").on(t.confirmedAt),
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
  (t) => [primaryKey({ columns: [t.bookingId, t.sessionId] }), index("booking_sessions_session_idx").on(t.sessionId, t.status)],
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

/** One row per booking that used a promo code: the usage count is derived from these rows. */
export const promoRedemptions = sqliteTable(
  "promo_redemptions",
  {
    bookingId: text("booking_id").primaryKey(),
    promoCodeId: text("promo_code_id")
      .notNull()
      .references(() => promoCodes.id),
    email: text("email").notNull(),
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
    // One course's signals, by date (demand analytics filtered by course): covers every count too.
    index("demand_signals_course_analytics_idx").on(t.courseId, t.createdAt, t.cityId, t.signalType),
    index("demand_signals_city_idx").on(t.cityId),
    index("demand_signals_type_idx").on(t.signalType),
    index("demand_signals_created_idx").on(t.createdAt),
    index("demand_signals_analytics_idx").on(t.createdAt, t.courseId, t.cityId, t.signalType),
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

export const WAITLIST_STATUSES = ["waiting", "offered", "expired", "booked", "removed", "declined"] as const;
export const WAITLIST_PRIORITIES = ["high", "normal", "low"] as const;

/**
 * Session waitlist entries: a projection of each session's Durable Object, which alone orders the
 * line and makes offers. Delivered through the DO's outbox; `version` (the DO's change counter)
 * orders deliveries so a late retry never overwrites a newer state. Positions are the DO's to say.
 */
export const waitlistEntries = sqliteTable(
  "waitlist_entries",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => classSessions.id),
    classId: text("class_id").notNull(),
    customerId: text("customer_id").references(() => customers.id),
    email: text("email").notNull(),
    firstName: text("first_name").notNull(),
    lastName: text("last_name").notNull(),
    guestCount: integer("guest_count").notNull(),
    priority: text("priority", { enum: WAITLIST_PRIORITIES }).notNull(),
    status: text("status", { enum: WAITLIST_STATUSES }).notNull(),
    preferredContact: text("preferred_contact"),
    alternativeDates: text("alternative_dates", { mode: "json" }).$type<string[]>(),
    notes: text("notes"),
    /** Subject of the staff token that added the entry, if staff did. */
    addedBy: text("added_by"),
    offerExpiresAt: integer("offer_expires_at", { mode: "timestamp_ms" }),
    offersMade: integer("offers_made").notNull().default(0),
    bookingId: text("booking_id"),
    version: integer("version").notNull(),
    joinedAt: integer("joined_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("waitlist_entries_session_idx").on(t.sessionId, t.status), index("waitlist_entries_email_idx").on(t.email)],
);

/**
 * Course-level "notify me": customers who asked to hear when a course they could not buy (no
 * trainer) becomes bookable. One row per course, city and email; `notifiedAt` makes the
 * notification happen once.
 */
export const courseInterest = sqliteTable(
  "course_interest",
  {
    id: text("id").primaryKey(),
    courseId: text("course_id")
      .notNull()
      .references(() => classes.id, { onDelete: "cascade" }),
    /** The city asked about, or '' for any city (so the unique index treats it as a value). */
    cityKey: text("city_key").notNull().default(""),
    email: text("email").notNull(),
    customerId: text("customer_id").references(() => customers.id),
    notifiedAt: integer("notified_at", { mode: "timestamp_ms" }),
    notifiedSessionId: text("notified_session_id"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("course_interest_uq").on(t.courseId, t.cityKey, t.email), index("course_interest_pending_idx").on(t.courseId, t.notifiedAt)],
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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("booking_communications_booking_idx").on(t.bookingId, t.requestedAt),
    index("booking_communications_waitlist_entry_idx").on(t.waitlistEntryId),
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
