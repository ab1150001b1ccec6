/**
 * Staff naming a booking's participants: like PUT /api/v1/bookings/{id}/participants, but also
 * after the booking's first session has started (a substitute at the door, a misspelt name).
 */
import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import type { Env } from "../../env";
import { notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/openapi";
import { getBooking } from "../../services/booking-views";
import { listParticipants, setParticipants } from "../../services/participants";
import { ParticipantList, ParticipantsBody } from "../participant-schemas";
import { staffOrAdmin } from "./access";

const tags = ["Admin: bookings"];
const Params = IdParam("Booking", "bkg_0123");

async function bookingOr404(env: Env, id: string) {
  const db = getDb(env.DB);
  const booking = await getBooking(env, db, id);
  if (!booking) throw notFound("Booking", id);
  return { db, booking };
}

export const adminParticipantRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/participants",
      tags,
      summary: "The people on a booking's seats",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(ParticipantList, "One entry per seat, position 1 the booker"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { db, booking } = await bookingOr404(c.env, c.req.valid("param").id);
      return c.json({ data: await listParticipants(db, booking) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}/participants",
      tags,
      summary: "Name the people on a booking's seats, at any time",
      description: "Sets the seats listed; seats not listed keep their names. Staff may do so after the session started; a cancelled booking is 409 PARTICIPANTS_LOCKED.",
      ...staffOrAdmin,
      request: { params: Params, body: jsonBody(ParticipantsBody) },
      responses: { 200: jsonResponse(ParticipantList, "Every seat afterwards"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { db, booking } = await bookingOr404(c.env, c.req.valid("param").id);
      return c.json({ data: await setParticipants(db, booking, c.req.valid("json").participants, { staffOverride: true }) }, 200);
    },
  );
