/**
 * Named participants of a booking, for whoever may open it (src/routes/bookings.ts
 * loadAuthorized: the owning customer, the manage token, staff). Customers may change them until
 * the booking's first session starts; staff at any time (also /api/v1/admin/bookings/{id}/participants).
 */
import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../lib/openapi";
import { listParticipants, setParticipants } from "../services/participants";
import { loadAuthorized, ManageQuery } from "./bookings";
import { ParticipantList, ParticipantsBody } from "./participant-schemas";

const tags = ["Bookings"];
const Params = IdParam("Booking", "bkg_0123");

export const participantRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/participants",
      tags,
      summary: "The people on a booking's seats (manage token, the owning customer's token, or staff)",
      request: { params: Params, query: ManageQuery },
      responses: { 200: jsonResponse(ParticipantList, "One entry per seat, position 1 the booker"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
      return c.json({ data: await listParticipants(getDb(c.env.DB), booking) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}/participants",
      tags,
      summary: "Name the people on a booking's seats, until its first session starts",
      description:
        "Sets the name (and optional email) of each seat listed; seats not listed keep theirs. Positions run from 1 (the booker) to the booking's guestCount. " +
        "Once the booking's first session has started, or when it is cancelled, 409 PARTICIPANTS_LOCKED (staff may still change them).",
      request: { params: Params, query: ManageQuery, body: jsonBody(ParticipantsBody) },
      responses: { 200: jsonResponse(ParticipantList, "Every seat afterwards"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
      const role = c.get("principal")?.role;
      const data = await setParticipants(getDb(c.env.DB), booking, c.req.valid("json").participants, { staffOverride: role === "staff" || role === "admin" });
      return c.json({ data }, 200);
    },
  );
