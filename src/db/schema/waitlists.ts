/** Waitlist entries (the projection of the session objects' lines) and notify-me registrations. (Conventions: src/db/schema.ts.) */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "./columns";
import { classes, classSessions } from "./catalog";
import { customers } from "./bookings";

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
  (t) => [
    uniqueIndex("course_interest_uq").on(t.courseId, t.cityKey, t.email),
    index("course_interest_pending_idx").on(t.courseId, t.notifiedAt),
    // A signed-in customer's own registrations (GET /api/v1/me/interests).
    index("course_interest_email_idx").on(t.email, t.createdAt),
  ],
);
