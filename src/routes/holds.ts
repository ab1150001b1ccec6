/** Checkout holds: seats kept for a while (HOLD_TTL_SECONDS) until a booking confirms them. */
import { createRoute, z } from "@hono/zod-openapi";
import { BOOKING_KINDS } from "../db/schema";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { IdempotencyKeyHeader, REPLAYED_HEADER } from "../middleware/idempotency";
import { createHold } from "../services/holds";
import { checkSelection, SelectionFields, toSelection } from "./booking-schemas";
import { callerOf } from "./bookings";

const NewHoldBody = z.object(SelectionFields).superRefine(checkSelection).openapi("NewHold");

const HoldSchema = z
  .object({
    holdId: z.string(),
    expiresAt: z.string().openapi({ description: "When the seats are let go unless a booking names this hold" }),
    registrationType: z.enum(BOOKING_KINDS),
    guestCount: z.number().int(),
    email: z.string(),
    sessions: z.array(z.object({ sessionId: z.string(), startsAt: z.string() })),
  })
  .openapi("Hold");

export const holdRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Bookings"],
    summary: "Start checkout: hold seats in one or more sessions, all or nothing",
    description: "Confirm with POST /bookings and holdId before expiresAt. Accepts Idempotency-Key.",
    request: { headers: IdempotencyKeyHeader, body: jsonBody(NewHoldBody) },
    responses: { 201: jsonResponse(HoldSchema, "The hold"), ...errorResponses(400, 401, 403, 404, 409, 413, 422, 429) },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { replayed, ...hold } = await createHold(callerOf(c), { ...body, selection: toSelection(body) });
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(hold, 201);
  },
);
