/** The catalog: cities, studios, staff and their teaching roles, classes, resources, schedule patterns and sessions. (Conventions: src/db/schema.ts.) */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { BookingKind } from "../../domain/booking-kinds";
import { PAYMENT_MODES } from "../../domain/booking-terms";
import { createdAt, updatedAt } from "./columns";

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
    /** Hours before each session its reminder goes out: null is the default (src/domain/reminders.ts), 0 none. */
    reminderHoursBefore: integer("reminder_hours_before"),
    /** Hours after each session ends its follow-up goes out: null is the default, 0 none. */
    followUpHoursAfter: integer("follow_up_hours_after"),
    /** Days a certificate of completion stays valid; null: the class gives no certificate, 0: it never expires. */
    certificateValidityDays: integer("certificate_validity_days"),
    /** Share of the booked sessions (percent) a customer must attend to complete the class; null is the default (config). */
    completionAttendancePercent: integer("completion_attendance_percent"),
    /** `online`: paid when booking (seats held until paid); `at_studio`: confirmed now, paid at the desk. */
    paymentMode: text("payment_mode", { enum: PAYMENT_MODES }).notNull().default("at_studio"),
    /** Free cancellation until this many hours before the first session; null: free until it starts. */
    freeCancellationHours: integer("free_cancellation_hours"),
    /** Percent of the price kept when a customer cancels after the free window (0: none). */
    lateCancellationFeePercent: integer("late_cancellation_fee_percent").notNull().default(0),
    /** No self-cancellation within this many hours of the first session; null: until it starts. */
    selfCancelCutoffHours: integer("self_cancel_cutoff_hours"),
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
    index("class_sessions_ends_at_idx").on(t.endsAt),
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
