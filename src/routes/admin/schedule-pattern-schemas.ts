/**
 * The request and response shapes of the schedule-pattern routes (src/routes/admin/schedule-patterns.ts),
 * with the cross-field rules zod checks: count or untilDate, dates in order, staff lists.
 */
import { z } from "@hono/zod-openapi";
import { DateTime } from "luxon";
import { RECURRENCE_FREQUENCIES, WEEKDAYS } from "../../db/schema";
import { assignmentProblem } from "../../domain/staffing";
import { PaginationQuery } from "../../lib/openapi";
import { hasNoDuplicates } from "../../lib/references";

const MIN_YEAR = 2000;
const MAX_YEAR = 2199;

/** True for a real calendar date YYYY-MM-DD (2026-02-30 is not) within the years patterns may use. */
function isLocalDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = DateTime.fromISO(value, { zone: "utc" });
  return date.isValid && date.year >= MIN_YEAR && date.year <= MAX_YEAR;
}

const LocalDate = z
  .string()
  .refine(isLocalDate, `Expected a calendar date YYYY-MM-DD between ${MIN_YEAR} and ${MAX_YEAR}`)
  .openapi({ example: "2026-03-02", description: "Studio-local calendar date, YYYY-MM-DD" });

const LocalTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Expected a 24-hour time HH:MM")
  .openapi({ example: "18:00", description: "Studio-local wall-clock time, 24-hour HH:MM" });

const StaffId = z.string().min(1).max(64);

/** The recurrence and defaults of a pattern, every field optional (create and PATCH add their own rules). */
const patternFields = {
  frequency: z.enum(RECURRENCE_FREQUENCIES),
  interval: z.number().int().min(1).max(52).openapi({ description: "Every n-th day, week or month; 1 when omitted on create" }),
  byWeekday: z
    .array(z.enum(WEEKDAYS))
    .max(7)
    .refine((days) => hasNoDuplicates(days), "Each weekday may appear only once")
    .openapi({ description: "Weekdays it runs on; empty or omitted: the weekday (weekly) or day of month (monthly) of startDate" }),
  count: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .nullable()
    .openapi({
      description: "Number of occurrences, exception dates included (as RFC 5545 counts EXDATEs). Give count or untilDate, not both (400); on PATCH, giving one clears the other",
    }),
  untilDate: LocalDate.nullable().openapi({ description: "Last studio-local date it may run on, inclusive. Give count or untilDate, not both" }),
  startDate: LocalDate.openapi({ description: "Studio-local date the pattern starts from" }),
  startTime: LocalTime,
  durationMinutes: z.number().int().min(5).max(1440).openapi({ description: "The class's duration when omitted on create" }),
  maxStudents: z.number().int().min(1).max(10_000).openapi({ description: "Capacity of each session; the class's default capacity when omitted on create" }),
  location: z.string().trim().min(1).max(200).nullable(),
  exceptionDates: z
    .array(LocalDate)
    .max(500)
    .openapi({ description: "Studio-local dates on which it does not run" }),
  defaultInstructorId: StaffId.nullable().openapi({ description: "Assigned to generated sessions; active staff holding the class's required role" }),
  defaultAssistantIds: z.array(StaffId).max(10).openapi({ description: "Assigned to generated sessions; active staff holding the class's required role" }),
};

interface CrossFieldInput {
  count?: number | null;
  untilDate?: string | null;
  startDate?: string;
  defaultInstructorId?: string | null;
  defaultAssistantIds?: string[];
}

/** Rules that span fields, as field paths and messages (shared by create and the merged PATCH). */
export function crossFieldIssues(input: CrossFieldInput): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (input.count && input.untilDate) {
    issues.push({ path: "untilDate", message: "Give either count or untilDate, not both (RFC 5545 allows only one)" });
  }
  if (input.untilDate && input.startDate && input.untilDate < input.startDate) {
    issues.push({ path: "untilDate", message: "untilDate is before startDate" });
  }
  const staffProblem = assignmentProblem(input.defaultInstructorId, input.defaultAssistantIds ?? []);
  if (staffProblem) issues.push({ path: "defaultAssistantIds", message: staffProblem });
  return issues;
}

export const PatternInput = z
  .object({
    classId: z.string().min(1).max(64),
    frequency: patternFields.frequency,
    interval: patternFields.interval.optional(),
    byWeekday: patternFields.byWeekday.optional(),
    count: patternFields.count.optional(),
    untilDate: patternFields.untilDate.optional(),
    startDate: patternFields.startDate,
    startTime: patternFields.startTime,
    durationMinutes: patternFields.durationMinutes.optional(),
    maxStudents: patternFields.maxStudents.optional(),
    location: patternFields.location.optional(),
    exceptionDates: patternFields.exceptionDates.optional(),
    defaultInstructorId: patternFields.defaultInstructorId.optional(),
    defaultAssistantIds: patternFields.defaultAssistantIds.optional(),
  })
  .superRefine((input, ctx) => {
    for (const issue of crossFieldIssues(input)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  })
  .openapi("SchedulePatternInput");

export const PatternPatch = z
  .object(Object.fromEntries(Object.entries(patternFields).map(([key, schema]) => [key, schema.optional()])) as {
    [K in keyof typeof patternFields]: z.ZodOptional<(typeof patternFields)[K]>;
  })
  .openapi("SchedulePatternPatch", { description: "Fields to change; classId cannot be changed. Sessions change only when generate-sessions runs again." });

export const SchedulePatternSchema = z
  .object({
    id: z.string(),
    classId: z.string(),
    frequency: z.enum(RECURRENCE_FREQUENCIES),
    interval: z.number().int(),
    byWeekday: z.array(z.enum(WEEKDAYS)),
    count: z.number().int().nullable(),
    untilDate: z.string().nullable(),
    startDate: z.string(),
    startTime: z.string(),
    durationMinutes: z.number().int(),
    maxStudents: z.number().int(),
    location: z.string().nullable(),
    exceptionDates: z.array(z.string()),
    defaultInstructorId: z.string().nullable(),
    defaultAssistantIds: z.array(z.string()),
    rrule: z.string().openapi({ description: "RFC 5545 RRULE, expanded on the studio's wall clock", example: "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=10" }),
    timeZone: z.string().openapi({ description: "The studio's IANA time zone", example: "Europe/London" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("SchedulePattern");

const OccurrenceSchema = z
  .object({
    startsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
    endsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
    localStart: z.string().openapi({ description: "Studio-local start, ISO 8601 with the offset in force", example: "2026-03-30T18:00:00+01:00" }),
    localEnd: z.string(),
    localDate: z.string().openapi({ example: "2026-03-30" }),
  })
  .openapi("Occurrence");

export const PreviewSchema = z
  .object({ patternId: z.string(), timeZone: z.string(), rrule: z.string(), occurrences: z.array(OccurrenceSchema) })
  .openapi("SchedulePreview");

export const GenerationReportSchema = z
  .object({
    patternId: z.string(),
    classId: z.string(),
    timeZone: z.string(),
    occurrences: z.number().int().openapi({ description: "Occurrences the pattern expands to, past ones included" }),
    created: z.number().int(),
    updated: z.number().int().openapi({ description: "Unbooked sessions changed in place to follow the pattern (ids kept)" }),
    unchanged: z.number().int(),
    removed: z.number().int().openapi({ description: "Unbooked sessions deleted because the pattern no longer has them" }),
    cancelled: z.number().int().openapi({ description: "Sessions no longer wanted that carry cancelled bookings: set to cancelled" }),
    skippedPast: z.number().int().openapi({ description: "Occurrences starting before now, not generated" }),
    bookedLeftAlone: z
      .array(
        z.object({
          id: z.string(),
          startsAt: z.iso.datetime(),
          reason: z.enum(["NOT_IN_PATTERN", "DIFFERS_FROM_PATTERN"]),
          seatsBooked: z.number().int(),
        }),
      )
      .openapi({ description: "Sessions with confirmed bookings that no longer match the pattern; not touched" }),
    cancelledLeftAlone: z
      .array(z.object({ id: z.string(), startsAt: z.iso.datetime() }))
      .openapi({ description: "Cancelled sessions at a start the pattern has; not revived" }),
    heldLeftAlone: z
      .array(z.string())
      .openapi({ description: "Sessions the pattern would remove or change whose Durable Object holds seats in checkout; not touched" }),
    staffConflicts: z
      .array(
        z.object({
          sessionId: z.string().nullable(),
          startsAt: z.iso.datetime().nullable(),
          staffId: z.string(),
          role: z.enum(["instructor", "assistant"]),
          reason: z.enum(["DOUBLE_BOOKED", "NOT_QUALIFIED"]),
          clashingSessionId: z.string().nullable(),
        }),
      )
      .openapi({ description: "Default staff left off a session rather than double-booked (or left off everywhere when no longer qualified)" }),
    sessions: z.array(
      z.object({
        id: z.string(),
        startsAt: z.iso.datetime(),
        endsAt: z.iso.datetime(),
        localStart: z.string(),
        capacity: z.number().int(),
        location: z.string().nullable(),
        instructorId: z.string().nullable(),
        status: z.enum(["scheduled", "cancelled"]),
      }),
    ),
  })
  .openapi("SessionGenerationReport");

export const DeleteReportSchema = z
  .object({
    deletedSessions: z.number().int().openapi({ description: "Future sessions without bookings, deleted" }),
    cancelledSessions: z.number().int().openapi({ description: "Future sessions with only cancelled bookings, set to cancelled" }),
    detachedSessions: z.number().int().openapi({ description: "Sessions kept (past, or cancelled) and no longer linked to the pattern" }),
  })
  .openapi("SchedulePatternDeleteReport");

export const ListQuery = PaginationQuery.extend({
  classId: z.string().min(1).max(64).optional().openapi({ description: "Only patterns of this class" }),
});
