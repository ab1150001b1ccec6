/**
 * Admin routes for schedule patterns: CRUD, a preview of the occurrences, and generating the
 * class sessions (see src/services/session-generation.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { configOf } from "../../config";
import { type Db, getDb } from "../../db/client";
import { classes, RECURRENCE_FREQUENCIES, schedulePatterns, studios, WEEKDAYS } from "../../db/schema";
import { expandOccurrences, toRRuleString } from "../../domain/recurrence";
import { assignmentProblem } from "../../domain/staffing";
import { ApiError, notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery, validationError } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { hasNoDuplicates, invalidReference } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";
import { assertExpanded, generateSessionsForPattern, loadPattern, patternSpec } from "../../services/session-generation";
import { sessionSeatGuard } from "../../services/availability";
import { notifyInterestAfterStaffing } from "../../services/course-interest";
import { assertQualified, batchSql } from "../../services/staff-assignment";

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
function crossFieldIssues(input: CrossFieldInput): { path: string; message: string }[] {
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

const PatternInput = z
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

const PatternPatch = z
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

const PreviewSchema = z
  .object({ patternId: z.string(), timeZone: z.string(), rrule: z.string(), occurrences: z.array(OccurrenceSchema) })
  .openapi("SchedulePreview");

const GenerationReportSchema = z
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

const DeleteReportSchema = z
  .object({
    deletedSessions: z.number().int().openapi({ description: "Future sessions without bookings, deleted" }),
    cancelledSessions: z.number().int().openapi({ description: "Future sessions with only cancelled bookings, set to cancelled" }),
    detachedSessions: z.number().int().openapi({ description: "Sessions kept (past, or cancelled) and no longer linked to the pattern" }),
  })
  .openapi("SchedulePatternDeleteReport");

const ListQuery = PaginationQuery.extend({
  classId: z.string().min(1).max(64).optional().openapi({ description: "Only patterns of this class" }),
});

const tags = ["Admin: schedule patterns"];
const Params = IdParam("Schedule pattern", "pat_yoga_mondays");

type PatternRow = typeof schedulePatterns.$inferSelect;
const toPattern = (row: PatternRow, timeZone: string) => ({
  ...row,
  rrule: toRRuleString(row),
  timeZone,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** 422 unless the pattern expands to between 1 and `limit` occurrences. */
function assertExpandable(row: Omit<PatternRow, "id" | "createdAt" | "updatedAt">, timeZone: string, limit: number) {
  const expansion = expandOccurrences(patternSpec(row as PatternRow, timeZone), limit);
  assertExpanded(expansion);
  if (expansion.occurrences.length === 0) {
    throw new ApiError("INVALID_SCHEDULE", "The pattern has no occurrences: check startDate, untilDate, byWeekday and exceptionDates", {});
  }
}

/** The class a pattern is for, with its studio's time zone; 422 INVALID_REFERENCE when it does not exist. */
async function classForPattern(db: Db, classId: string) {
  const [row] = await db
    .select({ class: classes, timeZone: studios.timeZone })
    .from(classes)
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(classes.id, classId));
  if (!row) throw invalidReference("classId", `no such class: ${classId}`, { missing: [classId] });
  return row;
}

/** Sessions of the pattern with confirmed booking lines. */
const bookedSessionsOf = (patternId: string) =>
  sql`SELECT s.id FROM class_sessions s JOIN booking_sessions b ON b.session_id = s.id
      WHERE s.pattern_id = ${patternId} AND b.status = 'confirmed'`;

export const schedulePatternRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List schedule patterns",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(SchedulePatternSchema), "A page of schedule patterns"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, classId } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select({ pattern: schedulePatterns, timeZone: studios.timeZone })
        .from(schedulePatterns)
        .innerJoin(classes, eq(classes.id, schedulePatterns.classId))
        .innerJoin(studios, eq(studios.id, classes.studioId))
        .where(and(after ? gt(schedulePatterns.id, after) : undefined, classId ? eq(schedulePatterns.classId, classId) : undefined))
        .orderBy(schedulePatterns.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.pattern.id]);
      return c.json({ data: data.map((row) => toPattern(row.pattern, row.timeZone)), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a schedule pattern (refused with 422 OCCURRENCE_LIMIT_EXCEEDED when it would have too many occurrences)",
      description:
        "Give count or untilDate, not both; a pattern with neither repeats forever and is refused. durationMinutes and maxStudents " +
        "default to the class's duration and default capacity. Sessions are created by POST /{id}/generate-sessions.",
      ...adminOnly,
      request: { body: jsonBody(PatternInput) },
      responses: { 201: jsonResponse(SchedulePatternSchema, "The new schedule pattern"), ...errorResponses(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      const { class: klass, timeZone } = await classForPattern(db, input.classId);
      const row = {
        classId: input.classId,
        frequency: input.frequency,
        interval: input.interval ?? 1,
        byWeekday: input.byWeekday ?? [],
        count: input.count ?? null,
        untilDate: input.untilDate ?? null,
        startDate: input.startDate,
        startTime: input.startTime,
        durationMinutes: input.durationMinutes ?? klass.durationMinutes,
        maxStudents: input.maxStudents ?? klass.defaultCapacity,
        location: input.location ?? null,
        exceptionDates: input.exceptionDates ?? [],
        defaultInstructorId: input.defaultInstructorId ?? null,
        defaultAssistantIds: input.defaultAssistantIds ?? [],
      };
      await assertQualified(db, klass.requiredRoleId, [...(row.defaultInstructorId ? [row.defaultInstructorId] : []), ...row.defaultAssistantIds]);
      assertExpandable(row, timeZone, configOf(c.env).maxOccurrencesPerPattern);
      const [created] = await db
        .insert(schedulePatterns)
        .values({ id: newId("pattern"), ...row })
        .returning();
      return c.json(toPattern(created!, timeZone), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a schedule pattern",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(SchedulePatternSchema, "The schedule pattern"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { pattern, timeZone } = await loadPattern(getDb(c.env.DB), c.req.valid("param").id);
      return c.json(toPattern(pattern, timeZone), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a schedule pattern (its sessions follow when generate-sessions runs again)",
      description: "Giving count clears untilDate and giving untilDate clears count. The changed pattern is checked like a new one.",
      ...adminOnly,
      request: { params: Params, body: jsonBody(PatternPatch) },
      responses: { 200: jsonResponse(SchedulePatternSchema, "The updated schedule pattern"), ...errorResponses(400, 401, 403, 404, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const patch = c.req.valid("json");
      const db = getDb(c.env.DB);
      const { pattern, class: klass, timeZone } = await loadPattern(db, id);
      const both = patch.count != null && patch.untilDate != null;
      const merged = {
        ...pattern,
        ...patch,
        ...(!both && patch.count != null && { untilDate: null }),
        ...(!both && patch.untilDate != null && { count: null }),
      };
      const issues = crossFieldIssues(merged);
      if (issues.length > 0) {
        throw validationError(
          new z.ZodError(issues.map((issue) => ({ code: "custom" as const, path: [issue.path], message: issue.message, input: undefined }))),
          "json",
        );
      }
      const changedStaff = [
        ...(patch.defaultInstructorId ? [patch.defaultInstructorId] : []),
        ...(patch.defaultAssistantIds ?? []),
      ];
      await assertQualified(db, klass.requiredRoleId, changedStaff);
      assertExpandable(merged, timeZone, configOf(c.env).maxOccurrencesPerPattern);
      const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, classId: _classId, ...fields } = merged;
      const [updated] = await db
        .update(schedulePatterns)
        .set({ ...fields, updatedAt: new Date() })
        .where(eq(schedulePatterns.id, id))
        .returning();
      if (!updated) throw notFound("Schedule pattern", id);
      return c.json(toPattern(updated, timeZone), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary:
        "Delete a schedule pattern and its future unbooked sessions (refused with 409 IN_USE while any of its sessions has confirmed bookings)",
      description:
        "Future sessions without bookings or a waitlist are deleted; future sessions with only cancelled bookings, or with a waitlist, are set to cancelled; " +
        "past sessions are kept. Sessions that remain are no longer linked to the pattern.",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(DeleteReportSchema, "What happened to the pattern's sessions"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      await loadPattern(db, id);
      const booked = await db.all<{ id: string }>(sql`${bookedSessionsOf(id)} LIMIT 10`);
      if (booked.length > 0) throw patternInUse(id, booked);

      // Every statement repeats "no confirmed bookings", so a booking that lands meanwhile stops them all.
      const unbooked = sql`NOT EXISTS (${bookedSessionsOf(id)})`;
      const now = Date.now();
      const [deleted, cancelled, detached, removed] = await batchSql(db, [
        sql`DELETE FROM class_sessions WHERE pattern_id = ${id} AND starts_at > ${now}
          AND NOT EXISTS (SELECT 1 FROM booking_sessions b WHERE b.session_id = class_sessions.id)
          AND NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.session_id = class_sessions.id) AND ${unbooked}`,
        sql`UPDATE class_sessions SET status = 'cancelled', updated_at = ${now}
          WHERE pattern_id = ${id} AND starts_at > ${now} AND status <> 'cancelled' AND ${unbooked}`,
        sql`UPDATE class_sessions SET pattern_id = NULL, updated_at = ${now} WHERE pattern_id = ${id} AND ${unbooked}`,
        sql`DELETE FROM schedule_patterns WHERE id = ${id} AND ${unbooked}`,
      ]);
      if (!removed?.meta.changes) {
        await loadPattern(db, id);
        throw patternInUse(id, await db.all<{ id: string }>(sql`${bookedSessionsOf(id)} LIMIT 10`));
      }
      return c.json(
        { deletedSessions: deleted!.meta.changes, cancelledSessions: cancelled!.meta.changes, detachedSessions: detached!.meta.changes },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/preview",
      tags,
      summary: "Preview a pattern's occurrences (writes nothing)",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(PreviewSchema, "Every occurrence, in UTC and studio-local time"), ...errorResponses(401, 403, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { pattern, timeZone } = await loadPattern(getDb(c.env.DB), id);
      const expansion = expandOccurrences(patternSpec(pattern, timeZone), configOf(c.env).maxOccurrencesPerPattern);
      assertExpanded(expansion);
      const occurrences = expansion.occurrences.map((o) => ({ ...o, startsAt: o.startsAt.toISOString(), endsAt: o.endsAt.toISOString() }));
      return c.json({ patternId: id, timeZone, rrule: toRRuleString(pattern), occurrences }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/generate-sessions",
      tags,
      summary: "Create or update the pattern's future sessions (idempotent; booked sessions are never changed)",
      description:
        "Creates a session for each future occurrence with the default instructor and assistants. After the pattern changed, " +
        "unbooked future sessions are updated in place or removed; sessions with confirmed bookings, or with seats held in " +
        "checkout, are left alone and reported. " +
        "A default staff member who already teaches an overlapping session is left off that session and reported.",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(GenerationReportSchema, "What the run did"), ...errorResponses(401, 403, 404, 422) },
    }),
    async (c) => {
      const db = getDb(c.env.DB);
      const report = await generateSessionsForPattern(db, c.req.valid("param").id, {
        now: new Date(),
        maxOccurrences: configOf(c.env).maxOccurrencesPerPattern,
        seats: sessionSeatGuard(c.env, db),
      });
      c.executionCtx.waitUntil(notifyInterestAfterStaffing(c.env, db, report.classId));
      return c.json(report, 200);
    },
  );

function patternInUse(patternId: string, booked: { id: string }[]): ApiError {
  return new ApiError("IN_USE", "Sessions of this pattern have confirmed bookings; cancel those bookings before deleting the pattern", {
    patternId,
    bookedSessionIds: [...new Set(booked.map((row) => row.id))],
  });
}
