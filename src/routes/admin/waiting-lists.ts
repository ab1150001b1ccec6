/**
 * Staff tools for session waitlists: see a session's line, add someone (with a priority), offer
 * seats to an entry now, or remove it. Order and offers are still the session DO's to decide.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { WAITLIST_PRIORITIES } from "../../db/schema";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/openapi";
import { IdempotencyKeyHeader } from "../../middleware/idempotency";
import { entrySessionId, leaveWaitlist, offerNow, sessionWaitlist } from "../../services/waitlist";
import { joinWaitlist } from "../../services/waitlist-join";
import { callerOf } from "../bookings";
import { JoinFields, toEntryResponse, WaitlistEntrySchema } from "../waitlist-schemas";
import { staffOrAdmin } from "./access";

const tags = ["Admin: waitlists"];

const AddBody = z
  .object({
    sessionId: z.string().min(1).max(64),
    ...JoinFields,
    priority: z.enum(WAITLIST_PRIORITIES).default("normal").openapi({ description: "Line order is priority first, then time of joining" }),
  })
  .openapi("AddToWaitlist");

const Added = z.object({ entry: WaitlistEntrySchema, token: z.string().nullable() });

export const sessionWaitingListRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/waiting-list",
    tags,
    summary: "A session's waitlist: those in line in order (open offers first), then everyone who left it",
    ...staffOrAdmin,
    request: { params: IdParam("Session", "ses_0123") },
    responses: { 200: jsonResponse(z.object({ data: z.array(WaitlistEntrySchema) }), "The entries"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const entries = await sessionWaitlist(c.env, getDb(c.env.DB), c.req.valid("param").id);
    return c.json({ data: entries.map(toEntryResponse) }, 200);
  },
);

const EntryParams = IdParam("Waitlist entry", "wle_0123");

export const waitingListRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Add someone to a session's waitlist, with a priority",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, body: jsonBody(AddBody) },
      responses: {
        201: jsonResponse(Added, "Added"),
        200: jsonResponse(Added, "Already on the list: the existing entry"),
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { sessionId, ...request } = c.req.valid("json");
      const result = await joinWaitlist(callerOf(c), sessionId, request);
      return c.json({ entry: toEntryResponse(result.entry), token: result.token ?? null }, result.created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}/offer",
      tags,
      summary: "Offer seats to this entry now, ahead of the line (refused unless its party fits)",
      ...staffOrAdmin,
      request: { params: EntryParams },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry, now offered"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const entry = await offerNow(c.env, getDb(c.env.DB), c.req.valid("param").id);
      return c.json(toEntryResponse(entry), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Remove an entry from its waitlist (an open offer's seats pass on)",
      ...staffOrAdmin,
      request: { params: EntryParams },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry, now removed"), ...errorResponses(401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const sessionId = await entrySessionId(getDb(c.env.DB), id);
      return c.json(toEntryResponse(await leaveWaitlist(c.env, sessionId, id, "staff")), 200);
    },
  );
