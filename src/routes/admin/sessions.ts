/**
 * Admin routes for class sessions: list and read with staff and booked seats, one-off sessions,
 * capacity and location changes, deletion, and the staff assignment (PUT /{id}/staff).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, gte, lt, or, sql, type SQL } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { classes, classSessions, SESSION_STATUSES, staff, studios } from "../../db/schema";
import { toLocalIso } from "../../domain/recurrence";
import { assignmentProblem } from "../../domain/staffing";
import { ApiError, notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { invalidReference } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";
import { changeCapacity } from "../../services/availability";
import { notifyInterestAfterStaffing } from "../../services/course-interest";
import { assignStaff, insertSessionWithStaff, staffOfSessions } from "../../services/staff-assignment";
import { sessionObject } from "../../services/session-client";
import { cancelSessionByStudio } from "../../services/session-cancellation";
import { SessionCancellationInput, SessionCancellationReport } from "./session-cancellation-schemas";

const PersonRef = z.object({ id: z.string(), firstName: z.string(), lastName: z.string() }).openapi("StaffRef");

export const AdminSessionSchema = z
  .object({
    id: z.string(),
    classId: z.string(),
    className: z.string(),
    patternId: z.string().nullable().openapi({ description: "The schedule pattern it was generated from; null for a one-off session" }),
    status: z.enum(SESSION_STATUSES),
    startsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
    endsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
    timeZone: z.string().openapi({ description: "The studio's IANA time zone", example: "Europe/London" }),
    localStart: z.string().openapi({ description: "Start in the studio's time zone, ISO 8601 with offset", example: "2026-03-30T18:00:00+01:00" }),
    localEnd: z.string(),
    capacity: z.number().int(),
    location: z.string().nullable(),
    seatsBooked: z.number().int().openapi({ description: "Seats on confirmed bookings" }),
    instructor: PersonRef.nullable(),
    assistants: z.array(PersonRef),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("AdminSession");

const Instant = z.iso.datetime({ offset: true }).openapi({ example: "2026-03-30T17:00:00Z", description: "ISO 8601 instant with Z or an offset" });
const StaffId = z.string().min(1).max(64);

const StaffAssignmentInput = z
  .object({
    instructorId: StaffId.nullable().openapi({ description: "null leaves the session without an instructor" }),
    assistantIds: z.array(StaffId).max(10),
  })
  .superRefine((input, ctx) => {
    const problem = assignmentProblem(input.instructorId, input.assistantIds);
    if (problem) ctx.addIssue({ code: "custom", path: ["assistantIds"], message: problem });
  })
  .openapi("SessionStaffInput");

const SessionInput = z
  .object({
    classId: z.string().min(1).max(64),
    startsAt: Instant,
    durationMinutes: z.number().int().min(5).max(1440).optional().openapi({ description: "The class's duration when omitted" }),
    capacity: z.number().int().min(1).max(10_000).optional().openapi({ description: "The class's default capacity when omitted" }),
    location: z.string().trim().min(1).max(200).nullable().optional(),
    instructorId: StaffId.nullable().optional(),
    assistantIds: z.array(StaffId).max(10).optional(),
  })
  .superRefine((input, ctx) => {
    const problem = assignmentProblem(input.instructorId, input.assistantIds ?? []);
    if (problem) ctx.addIssue({ code: "custom", path: ["assistantIds"], message: problem });
    const year = new Date(input.startsAt).getUTCFullYear();
    if (year < 2000 || year > 2199) ctx.addIssue({ code: "custom", path: ["startsAt"], message: "Expected an instant between 2000 and 2199" });
  })
  .openapi("SessionInput");

const SessionPatch = z
  .object({
    capacity: z.number().int().min(1).max(10_000).optional().openapi({ description: "Not below the seats already booked (409 IN_USE)" }),
    location: z.string().trim().min(1).max(200).nullable().optional(),
  })
  .openapi("SessionPatch");

const ListQuery = PaginationQuery.extend({
  classId: z.string().min(1).max(64).optional(),
  patternId: z.string().min(1).max(64).optional(),
  instructorId: z.string().min(1).max(64).optional(),
  status: z.enum(SESSION_STATUSES).optional(),
  from: Instant.optional().openapi({ description: "Only sessions starting at or after this instant" }),
  to: Instant.optional().openapi({ description: "Only sessions starting before this instant" }),
});

const tags = ["Admin: sessions"];
const Params = IdParam("Session", "ses_yoga_0302");

const seatsBooked = sql<number>`(SELECT COALESCE(SUM(b.seats), 0) FROM booking_sessions b
  WHERE b.session_id = ${classSessions.id} AND b.status = 'confirmed')`;

/** Sessions matching `where`, in start order, as the API shows them (at most `limit`); the console pages read them too. */
export async function sessionViews(db: Db, where: SQL | undefined, limit: number) {
  const rows = await db
    .select({
      session: classSessions,
      className: classes.name,
      timeZone: studios.timeZone,
      instructorFirstName: staff.firstName,
      instructorLastName: staff.lastName,
      seatsBooked,
    })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .leftJoin(staff, eq(staff.id, classSessions.instructorId))
    .where(where)
    .orderBy(classSessions.startsAt, classSessions.id)
    .limit(limit);
  const assistants = await staffOfSessions(db, rows.map((row) => row.session.id));
  return rows.map(({ session, className, timeZone, instructorFirstName, instructorLastName, seatsBooked }) => ({
    ...session,
    className,
    timeZone,
    startsAt: session.startsAt.toISOString(),
    endsAt: session.endsAt.toISOString(),
    localStart: toLocalIso(session.startsAt, timeZone),
    localEnd: toLocalIso(session.endsAt, timeZone),
    seatsBooked: Number(seatsBooked),
    instructor:
      session.instructorId && instructorFirstName != null && instructorLastName != null
        ? { id: session.instructorId, firstName: instructorFirstName, lastName: instructorLastName }
        : null,
    assistants: assistants.get(session.id) ?? [],
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  }));
}

async function sessionView(db: Db, id: string) {
  const [view] = await sessionViews(db, eq(classSessions.id, id), 1);
  if (!view) throw notFound("Session", id);
  return view;
}

/** Seats on confirmed booking lines of one session. */
async function bookedSeats(db: Db, id: string): Promise<number> {
  const [row] = await db.select({ seatsBooked }).from(classSessions).where(eq(classSessions.id, id));
  return Number(row?.seatsBooked ?? 0);
}

export const sessionAdminRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List sessions, in start order",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(AdminSessionSchema), "A page of sessions"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, classId, patternId, instructorId, status, from, to } = c.req.valid("query");
      let after: SQL | undefined;
      if (cursor) {
        const [startsAt, id] = decodeCursor(cursor, 2);
        if (!Number.isSafeInteger(startsAt) || typeof id !== "string") throw badCursor();
        const at = new Date(startsAt as number);
        after = or(gt(classSessions.startsAt, at), and(eq(classSessions.startsAt, at), gt(classSessions.id, id)));
      }
      const views = await sessionViews(
        getDb(c.env.DB),
        and(
          after,
          classId ? eq(classSessions.classId, classId) : undefined,
          patternId ? eq(classSessions.patternId, patternId) : undefined,
          instructorId ? eq(classSessions.instructorId, instructorId) : undefined,
          status ? eq(classSessions.status, status) : undefined,
          from ? gte(classSessions.startsAt, new Date(from)) : undefined,
          to ? lt(classSessions.startsAt, new Date(to)) : undefined,
        ),
        limit + 1,
      );
      const { data, nextCursor } = toPage(views, limit, (view) => [Date.parse(view.startsAt), view.id]);
      return c.json({ data, nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a one-off session (not from a pattern), optionally with staff",
      ...adminOnly,
      request: { body: jsonBody(SessionInput) },
      responses: { 201: jsonResponse(AdminSessionSchema, "The new session"), ...errorResponses(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      const klass = await db.query.classes.findFirst({ where: eq(classes.id, input.classId) });
      if (!klass) throw invalidReference("classId", `no such class: ${input.classId}`, { missing: [input.classId] });
      const startsAt = new Date(input.startsAt);
      const id = newId("session");
      await insertSessionWithStaff(
        db,
        klass.requiredRoleId,
        {
          id,
          classId: klass.id,
          startsAt,
          endsAt: new Date(startsAt.getTime() + (input.durationMinutes ?? klass.durationMinutes) * 60_000),
          capacity: input.capacity ?? klass.defaultCapacity,
          location: input.location ?? null,
        },
        { instructorId: input.instructorId ?? null, assistantIds: input.assistantIds ?? [] },
      );
      if (input.instructorId) c.executionCtx.waitUntil(notifyInterestAfterStaffing(c.env, db, klass.id));
      return c.json(await sessionView(db, id), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a session with its staff and booked seats",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(AdminSessionSchema, "The session"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await sessionView(getDb(c.env.DB), c.req.valid("param").id), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Change a session's capacity or location (capacity below the seats booked or held: 409 IN_USE)",
      ...adminOnly,
      request: { params: Params, body: jsonBody(SessionPatch) },
      responses: { 200: jsonResponse(AdminSessionSchema, "The updated session"), ...errorResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { capacity, location } = c.req.valid("json");
      const db = getDb(c.env.DB);
      const now = new Date();
      // Seats are the session DO's to count (DESIGN invariant 1): it accepts or refuses the new
      // capacity first, and D1 records it with the same version.
      if (capacity !== undefined) await changeCapacity(c.env, db, id, capacity, now);
      const updated = await db
        .update(classSessions)
        .set({ ...(capacity !== undefined && { capacity }), ...(location !== undefined && { location }), updatedAt: now })
        .where(eq(classSessions.id, id))
        .returning({ id: classSessions.id });
      if (updated.length === 0) await sessionView(db, id);
      return c.json(await sessionView(db, id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a session (refused with 409 IN_USE while it has holds, bookings (even cancelled ones) or a waitlist)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      await sessionView(db, id);
      // The session's DO knows about holds and bookings D1 may not have yet: it closes first.
      const retired = await sessionObject(c.env, id).retire();
      if (!retired.ok) {
        throw new ApiError("IN_USE", "This session has holds, bookings or a waitlist; cancel the session instead of deleting it", {
          sessionId: id,
          reservations: retired.reservations,
          pendingDeliveries: retired.pendingOutbox,
          waitlistEntries: retired.waitlistEntries,
        });
      }
      const deleted = await db
        .delete(classSessions)
        .where(and(eq(classSessions.id, id), sql`NOT EXISTS (SELECT 1 FROM booking_sessions b WHERE b.session_id = ${id})`))
        .returning({ id: classSessions.id });
      if (deleted.length === 0) {
        await sessionView(db, id);
        throw new ApiError("IN_USE", "This session has bookings; cancel the session instead of deleting it", {
          sessionId: id,
          seatsBooked: await bookedSeats(db, id),
        });
      }
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags,
      summary: "Cancel a session: every booking line, hold and waitlist entry, with refunds and messages (idempotent)",
      description:
        "A course or drop-in booking loses only this session's line and gets its share back. A repeat answers the first report, " +
        "refunds nothing twice and tells nobody twice. A session that has ended: 409 SESSION_NOT_BOOKABLE (reason ended). " +
        "The bookings changing throughout: 409 SEATS_CHANGED. A refund the provider could not be asked for yet: 503 PAYMENT_UNAVAILABLE " +
        "(the cancellation stands; repeat to finish it).",
      ...adminOnly,
      request: { params: Params, body: jsonBody(SessionCancellationInput) },
      responses: { 200: jsonResponse(SessionCancellationReport, "What was cancelled, refunded and told"), ...errorResponses(400, 401, 403, 404, 409, 413, 503) },
    }),
    async (c) => {
      const report = await cancelSessionByStudio(c.env, getDb(c.env.DB), c.req.valid("param").id, c.req.valid("json"), c.get("principal") ?? null);
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}/staff",
      tags,
      summary: "Set a session's instructor and assistants (qualified staff only; nobody on two overlapping sessions)",
      description:
        "Replaces the whole assignment. 422 STAFF_NOT_QUALIFIED lists anyone unknown, inactive or without the class's required " +
        "teaching role; 409 STAFF_DOUBLE_BOOKED names the overlapping session. Safe under concurrent requests.",
      ...adminOnly,
      request: { params: Params, body: jsonBody(StaffAssignmentInput) },
      responses: { 200: jsonResponse(AdminSessionSchema, "The session with its new staff"), ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      const assignment = c.req.valid("json");
      await assignStaff(db, id, assignment);
      const session = await sessionView(db, id);
      if (assignment.instructorId) c.executionCtx.waitUntil(notifyInterestAfterStaffing(c.env, db, session.classId));
      return c.json(session, 200);
    },
  );

function badCursor(): ApiError {
  return new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
    location: "query",
    issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
  });
}
