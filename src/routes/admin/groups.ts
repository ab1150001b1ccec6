/** Group and corporate bookings (src/services/groups.ts): create, list, read, add and remove participants, cancel the whole group. */
import { createRoute, z } from "@hono/zod-openapi";
import { PersonNameSchema } from "../../domain/person-name";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { IdempotencyKeyHeader, REPLAYED_HEADER } from "../../middleware/idempotency";
import { cancelGroup } from "../../services/group-cancellation";
import { addParticipant, createGroup, type GroupDetail, groupDetail, listGroups, removeParticipant } from "../../services/groups";
import type { GroupRow } from "../../db/group-queries";
import { BookingSchema, toBookingResponse } from "../booking-schemas";
import { callerOf } from "../bookings";
import { staffOrAdmin } from "./access";

const tags = ["Admin: group bookings"];
const MAX_PARTICIPANTS = 50;

const Email = z.string().trim().email().max(254).openapi({ example: "ada@example.com" });
const Person = z.object({ name: PersonNameSchema.openapi({ example: "Ada Lovelace" }), email: Email });
const ParticipantInput = z.object({ name: PersonNameSchema.openapi({ example: "Grace Hopper" }), email: Email.optional() }).openapi("GroupParticipantInput");
const Text = (max: number) => z.string().trim().min(1).max(max);

const NewGroupBody = z
  .object({
    reference: Text(100).openapi({ description: "Unique: the studio's or the company's reference (a purchase order …)", example: "PO-2026-0042" }),
    name: Text(200).openapi({ example: "Acme first-aid team" }),
    company: Text(200).optional(),
    organiser: Person.openapi({ description: "Gets the group confirmation listing every participant" }),
    payer: Person.optional().openapi({ description: "The booking's customer, who pays for every seat; the organiser when absent" }),
    classId: z.string().min(1).max(64),
    registrationType: z.enum(["single_session", "full_schedule"]).default("single_session"),
    sessionId: z.string().min(1).max(64).optional().openapi({ description: "Required for single_session" }),
    patternId: z.string().min(1).max(64).optional().openapi({ description: "full_schedule: the course's schedule pattern; may be left out when the class has only one" }),
    participants: z.array(ParticipantInput).min(1).max(MAX_PARTICIPANTS),
  })
  .superRefine((body, ctx) => {
    if (body.registrationType === "single_session") {
      if (body.sessionId === undefined) ctx.addIssue({ code: "custom", path: ["sessionId"], message: "required for single_session" });
      if (body.patternId !== undefined) ctx.addIssue({ code: "custom", path: ["patternId"], message: "not allowed for single_session" });
    } else if (body.sessionId !== undefined) {
      ctx.addIssue({ code: "custom", path: ["sessionId"], message: "not allowed for full_schedule; use patternId" });
    }
  })
  .openapi("NewGroupBooking");

const GroupSchema = z
  .object({
    id: z.string(),
    reference: z.string(),
    name: z.string(),
    company: z.string().nullable(),
    organiser: z.object({ name: z.string(), email: z.string() }),
    payer: z.object({ name: z.string(), email: z.string() }),
    classId: z.string(),
    sessionId: z.string().nullable().openapi({ description: "The session booked; null for a whole course" }),
    status: z.enum(["active", "cancelled"]),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("BookingGroup");

const ParticipantSchema = z
  .object({
    attendeeId: z.string().openapi({ description: "The seat's attendee id, as on the session roster" }),
    bookingId: z.string(),
    position: z.number().int(),
    name: z.string().nullable(),
    email: z.string().nullable(),
  })
  .openapi("GroupParticipant");

const GroupDetailSchema = z
  .object({ group: GroupSchema, bookings: z.array(BookingSchema), participants: z.array(ParticipantSchema) })
  .openapi("BookingGroupDetail");

const toGroup = (row: GroupRow) => ({
  id: row.id,
  reference: row.reference,
  name: row.name,
  company: row.company,
  organiser: { name: row.organiserName, email: row.organiserEmail },
  payer: { name: row.payerName, email: row.payerEmail },
  classId: row.classId,
  sessionId: row.sessionId,
  status: row.status,
  createdBy: row.createdBy,
  createdAt: new Date(row.createdAt).toISOString(),
  updatedAt: new Date(row.updatedAt).toISOString(),
});

const toDetail = (detail: GroupDetail) => ({
  group: toGroup(detail.group),
  bookings: detail.bookings.map(toBookingResponse),
  participants: detail.participants,
});

const CancelBody = z.object({ reason: Text(500).optional().openapi({ description: "Told to everyone in the message", example: "The course is withdrawn" }) }).openapi("CancelGroupBody");

const ListQuery = PaginationQuery.extend({ classId: z.string().min(1).max(64).optional() });
const Params = IdParam("Group", "grp_0123");
const ParticipantParams = Params.extend({
  attendeeId: z.string().min(1).max(200).openapi({ param: { name: "attendeeId", in: "path" }, example: "atd_0123abcd-ses_42.2" }),
});

export const groupRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Book a group of named participants into one session or a whole course, all or nothing",
      description:
        "The participants are one booking of N seats (source staff, the payer its customer): either every seat is taken or none is, " +
        "refused with the booking's own code (SESSION_FULL, INSUFFICIENT_CAPACITY, NO_TRAINER …). A reference already used is 409 ALREADY_EXISTS. " +
        "The organiser gets a confirmation listing the participants and sessions; each participant with an email gets their own.",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, body: jsonBody(NewGroupBody) },
      responses: { 201: jsonResponse(GroupDetailSchema, "The group, its booking and participants"), ...errorResponses(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const detail = await createGroup(callerOf(c), {
        ...body,
        sessions: body.registrationType === "single_session" ? { sessionId: body.sessionId! } : { patternId: body.patternId },
      });
      if (detail.replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(toDetail(detail), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List groups, newest first",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(GroupSchema), "A page of groups"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, classId } = c.req.valid("query");
      let after: { createdAt: number; id: string } | undefined;
      if (cursor) {
        const [createdAt, id] = decodeCursor(cursor, 2);
        after = { createdAt: Number(createdAt), id: String(id) };
      }
      const rows = await listGroups(c.env.DB, { classId, limit: limit + 1, after });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.createdAt, row.id]);
      return c.json({ data: data.map(toGroup), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "A group with its bookings and participants (with their attendee ids)",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(GroupDetailSchema, "The group"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(toDetail(await groupDetail(callerOf(c), c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/participants",
      tags,
      summary: "Add a participant while seats allow: a one-seat booking in the group's session(s)",
      ...staffOrAdmin,
      request: { params: Params, headers: IdempotencyKeyHeader, body: jsonBody(ParticipantInput) },
      responses: {
        201: jsonResponse(GroupDetailSchema.extend({ participant: ParticipantSchema }), "The group, with the participant added"),
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const detail = await addParticipant(callerOf(c), c.req.valid("param").id, c.req.valid("json"));
      return c.json({ ...toDetail(detail), participant: detail.participant }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}/participants/{attendeeId}",
      tags,
      summary: "Remove a participant before the session starts; their seat is released at once",
      description:
        "A participant with a booking of their own has it cancelled; one of the group's booking gives back one seat in every session of it. " +
        "After the (first) session has started: 409 PARTICIPANTS_LOCKED.",
      ...staffOrAdmin,
      request: { params: ParticipantParams },
      responses: { 200: jsonResponse(GroupDetailSchema, "The group, without the participant"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id, attendeeId } = c.req.valid("param");
      return c.json(toDetail(await removeParticipant(callerOf(c), id, attendeeId)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags,
      summary: "Cancel the whole group: every booking of it, its seats given back at once",
      description:
        "Cancels the group's booking in every session and each participant's own booking, as any cancellation does (the freed seats go to the waitlist), " +
        "and emails the organiser and each participant with an email. Repeatable: a second call answers the cancelled group again and sends nothing. " +
        "A cancelled group takes no participants: 409 SESSION_NOT_BOOKABLE (reason group_cancelled).",
      ...staffOrAdmin,
      request: { params: Params, body: { ...jsonBody(CancelBody), required: false } },
      responses: { 200: jsonResponse(GroupDetailSchema, "The group, cancelled"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { reason } = c.req.valid("json") ?? {};
      return c.json(toDetail(await cancelGroup(callerOf(c), c.req.valid("param").id, reason)), 200);
    },
  );
