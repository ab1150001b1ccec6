/** Moving a booking to another session of its class: POST /api/v1/bookings/{id}/move (mounted beside src/routes/bookings.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../lib/openapi";
import { IdempotencyKeyHeader, REPLAYED_HEADER } from "../middleware/idempotency";
import { moveBooking } from "../services/booking-moves";
import { BookingSchema, toBookingResponse } from "./booking-schemas";
import { callerOf, loadAuthorized, ManageQuery } from "./bookings";

const SessionId = z.string().trim().min(1).max(64);

const MoveBody = z
  .object({
    fromSessionId: SessionId.openapi({ description: "The session the booking's line is in now", example: "ses_0123" }),
    toSessionId: SessionId.openapi({ description: "Another session of the same class, scheduled and not started", example: "ses_0456" }),
  })
  .openapi("BookingMove");

export const bookingMoveRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/{id}/move",
    tags: ["Bookings"],
    summary: "Move a booking's line to another session of the same class (the new seat is held before the old one is given up)",
    description:
      "The customer (manage token or signed in) may move while the class's cancellation policy lets them cancel the source session online; " +
      "staff and admins at any time. The booking keeps its id and price (sessions of a class share a price; moves to another class are refused). " +
      "The target must have room for the booking's seats and no other booking by the same email (409 DUPLICATE_BOOKING). " +
      "On any refusal the booking is unchanged. Send an Idempotency-Key header to make retries safe.",
    request: { params: IdParam("Booking", "bkg_0123"), query: ManageQuery, headers: IdempotencyKeyHeader, body: jsonBody(MoveBody) },
    responses: { 200: jsonResponse(BookingSchema, "The moved booking: the source line cancelled, the target line confirmed"), ...errorResponses(400, 401, 403, 404, 409, 422, 429) },
  }),
  async (c) => {
    const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
    const { replayed, ...moved } = await moveBooking(callerOf(c), booking, c.req.valid("json"));
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(toBookingResponse(moved), 200);
  },
);
