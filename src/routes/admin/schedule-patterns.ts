/**
 * Admin routes for schedule patterns: CRUD, a preview of the occurrences, and generating the
 * class sessions (see src/services/session-generation.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, sql } from "drizzle-orm";
import { configOf } from "../../config";
import { type Db, getDb } from "../../db/client";
import { classes, schedulePatterns, studios } from "../../db/schema";
import { expandOccurrences, toRRuleString } from "../../domain/recurrence";
import { ApiError, notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, validationError } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { invalidReference } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";
import { crossFieldIssues, DeleteReportSchema, GenerationReportSchema, ListQuery, PatternInput, PatternPatch, PreviewSchema, SchedulePatternSchema } from "./schedule-pattern-schemas";
import { assertExpanded, generateSessionsForPattern, loadPattern, patternSpec } from "../../services/session-generation";
import { sessionSeatGuard } from "../../services/availability";
import { notifyInterestAfterStaffing } from "../../services/course-interest";
import { assertQualified, batchSql } from "../../services/staff-assignment";

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
