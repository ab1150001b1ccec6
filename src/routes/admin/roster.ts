/**
 * A session's roster for staff at the door: every seat of every confirmed booking line, check-in,
 * no-show and undo (one attendee or many), and the roster as CSV. Staff and admins alike: taking
 * attendance is front-desk work. Rules and events: src/services/attendance.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { configOf } from "../../config";
import { parseAttendeeId } from "../../domain/attendees";
import { ROSTER_STATUSES } from "../../domain/attendance";
import type { AppEnv } from "../../env";
import { csvHeaders, openCsvStream } from "../../lib/csv";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/openapi";
import { type AttendanceStatus, recordAttendance, type RosterEntry, sessionRoster } from "../../services/attendance";
import { staffOrAdmin } from "./access";

const tags = ["Admin: attendance"];

const RosterEntrySchema = z
  .object({
    attendeeId: z.string().openapi({ example: "atd_0123abcd-ses_42.1" }),
    bookingId: z.string(),
    position: z.number().int().openapi({ description: "Seat on the booking; 1 is the booker" }),
    name: z.string().nullable().openapi({ description: "null while the seat is unnamed" }),
    email: z.string().nullable(),
    status: z.enum(ROSTER_STATUSES),
    recordedBy: z.string().nullable().openapi({ description: 'Who recorded the status: a staff subject, or "system" for the no-show sweep; null while booked' }),
    recordedAt: z.iso.datetime().nullable(),
  })
  .openapi("RosterEntry");

const RosterSchema = z
  .object({
    session: z.object({
      id: z.string(),
      classId: z.string(),
      className: z.string(),
      startsAt: z.iso.datetime(),
      timeZone: z.string(),
      checkInOpensAt: z.iso.datetime().openapi({ description: "Check-in before this instant is 409 ATTENDANCE_NOT_OPEN" }),
    }),
    data: z.array(RosterEntrySchema),
  })
  .openapi("Roster");

const SessionParam = IdParam("Session", "ses_0123");
const AttendeeParams = SessionParam.extend({
  attendeeId: z.string().min(1).max(160).openapi({ param: { name: "attendeeId", in: "path" }, example: "atd_0123abcd-ses_42.2" }),
});

const AttendeeIds = z
  .array(
    z
      .string()
      .max(160)
      .refine((id) => parseAttendeeId(id) !== null, "not an attendee id (atd_…)"),
  )
  .min(1)
  .max(500);

const BulkBody = z.object({ attendeeIds: AttendeeIds }).openapi("BulkCheckIn", { description: "Every attendee must be on the session's roster (404 otherwise, and nothing is recorded)" });

const toEntry = ({ customerId: _customerId, recordedAt, ...entry }: RosterEntry) => ({ ...entry, recordedAt: recordedAt === null ? null : new Date(recordedAt).toISOString() });

const changeRoute = (path: string, summary: string, description: string) =>
  createRoute({
    method: "post",
    path,
    tags,
    summary,
    description,
    ...staffOrAdmin,
    request: { params: AttendeeParams },
    responses: { 200: jsonResponse(RosterEntrySchema, "The attendee afterwards"), ...errorResponses(401, 403, 404, 409) },
  });

/** Records `to` for one attendee of the session in the path. */
async function changeOne(c: Context<AppEnv>, params: { id: string; attendeeId: string }, to: AttendanceStatus) {
  const [entry] = await recordAttendance(c.env, { sessionId: params.id, attendeeIds: [params.attendeeId], to, recordedBy: c.get("principal")!.subject });
  return toEntry(entry!);
}

const CSV_HEADER = ["attendeeId", "bookingId", "position", "name", "email", "status", "recordedBy", "recordedAt"] as const;

async function* csvRows(entries: RosterEntry[]) {
  for (const entry of entries) {
    yield [entry.attendeeId, entry.bookingId, entry.position, entry.name, entry.email, entry.status, entry.recordedBy, entry.recordedAt === null ? null : new Date(entry.recordedAt)];
  }
}

export const rosterRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/roster",
      tags,
      summary: "Who is booked on a session, and who came",
      description: "Every seat of every confirmed booking line, in booking order: status booked (nothing recorded), checked_in or no_show.",
      ...staffOrAdmin,
      request: { params: SessionParam },
      responses: { 200: jsonResponse(RosterSchema, "The roster"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { session, entries } = await sessionRoster(c.env.DB, c.req.valid("param").id);
      return c.json(
        {
          session: {
            id: session.id,
            classId: session.classId,
            className: session.className,
            startsAt: new Date(session.startsAt).toISOString(),
            timeZone: session.timeZone,
            checkInOpensAt: new Date(session.startsAt - configOf(c.env).checkInOpensMs).toISOString(),
          },
          data: entries.map(toEntry),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/roster.csv",
      tags,
      summary: "The roster as CSV (RFC 4180; cells that would start a spreadsheet formula are neutralised)",
      ...staffOrAdmin,
      request: { params: SessionParam },
      responses: {
        200: { description: "CSV with a header row", content: { "text/csv": { schema: z.string().openapi({ description: CSV_HEADER.join(",") }) } } },
        ...errorResponses(401, 403, 404, 503),
      },
    }),
    async (c) => {
      const { session, entries } = await sessionRoster(c.env.DB, c.req.valid("param").id);
      const file = `roster-${session.id}.csv`;
      return c.body(await openCsvStream(CSV_HEADER, csvRows(entries), file), 200, csvHeaders(file));
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/roster/check-in",
      tags,
      summary: "Check several attendees in at once",
      description: "All or nothing: every id must be on the session's roster (404 otherwise). Attendees already checked in are left as they are.",
      ...staffOrAdmin,
      request: { params: SessionParam, body: jsonBody(BulkBody) },
      responses: { 200: jsonResponse(z.object({ data: z.array(RosterEntrySchema) }), "The attendees afterwards"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const entries = await recordAttendance(c.env, {
        sessionId: c.req.valid("param").id,
        attendeeIds: c.req.valid("json").attendeeIds,
        to: "checked_in",
        recordedBy: c.get("principal")!.subject,
      });
      return c.json({ data: entries.map(toEntry) }, 200);
    },
  )
  .openapi(
    changeRoute("/{id}/roster/{attendeeId}/check-in", "Check an attendee in", "Opens CHECK_IN_OPENS_MINUTES before the start (409 ATTENDANCE_NOT_OPEN before). Idempotent."),
    async (c) => c.json(await changeOne(c, c.req.valid("param"), "checked_in"), 200),
  )
  .openapi(
    changeRoute("/{id}/roster/{attendeeId}/no-show", "Record an attendee as a no-show", "From the session's start (409 ATTENDANCE_NOT_OPEN before). Idempotent."),
    async (c) => c.json(await changeOne(c, c.req.valid("param"), "no_show"), 200),
  )
  .openapi(
    changeRoute(
      "/{id}/roster/{attendeeId}/undo",
      "Take back a check-in or no-show",
      "The attendee is booked again. After the no-show sweep has run for the session it stays booked (the sweep marks a session once). Idempotent.",
    ),
    async (c) => c.json(await changeOne(c, c.req.valid("param"), "booked"), 200),
  );
