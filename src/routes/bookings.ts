/** Bookings: create (guest or signed in, idempotent), read and cancel with a manage token or a bearer token. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import type { AppEnv } from "../env";
import { ApiError, notFound } from "../errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../lib/openapi";
import { configOf } from "../config";
import { manageTokenGeneration } from "../lib/tokens";
import { IdempotencyKeyHeader, REPLAYED_HEADER } from "../middleware/idempotency";
import { type BookingView, currentBooking } from "../services/booking-views";
import { type Caller, createBooking } from "../services/bookings";
import { REQUESTABLE_SOURCES } from "../services/booking-source";
import { cancelBooking } from "../services/cancellations";
import { manageTokenOpens } from "../services/manage-tokens";
import { BookingSchema, checkSelection, SelectionFields, toBookingResponse, toSelection } from "./booking-schemas";

const tags = ["Bookings"];

const NewBookingBody = z
  .object({
    ...SelectionFields,
    totalAmountPence: z.number().int().openapi({ description: "The total the client expects to pay, in pence; must equal the server's price" }),
    currency: z.string().trim().min(3).max(3).openapi({ example: "GBP" }),
    promoCode: z.string().trim().min(1).max(40).optional(),
    holdId: z.string().min(1).max(64).optional().openapi({ description: "A hold from POST /holds to confirm" }),
    source: z
      .enum(REQUESTABLE_SOURCES)
      .optional()
      .openapi({
        example: "website",
        description:
          "Where the booking came from. Absent: website (staff: staff). Customers and guests may send only website; " +
          "phone, email, walk_in and staff are for staff booking on someone's behalf (403 FORBIDDEN otherwise). waitlist is set by accepting an offer.",
      }),
    referralSource: z.string().trim().max(100).optional(),
    notes: z.string().trim().max(2000).optional(),
    overrideDuplicate: z.boolean().optional().openapi({ description: "Staff and admins only: book despite an existing booking by this email" }),
  })
  .superRefine(checkSelection)
  .openapi("NewBooking");

const BookingCreated = z.object({
  booking: BookingSchema,
  payment: z
    .object({
      id: z.string(),
      status: z.string().openapi({ example: "pending" }),
      checkoutUrl: z.string().openapi({ description: "Where the customer pays: the provider's checkout (the local provider's page in development)" }),
      expiresAt: z.string().openapi({ description: "The seats are held until then; unpaid by then, the checkout closes and the booking expires" }),
    })
    .optional()
    .openapi({ description: "Present for a class paid online: the booking is pending_payment until the provider confirms the payment" }),
  manageToken: z.string().optional().openapi({ description: "Secret: lets the holder read and cancel this booking (X-Manage-Token header). Withheld from a replay that reaches another client address" }),
  secretsWithheld: z.literal(true).optional().openapi({ description: "Present on a replay to another client address than the original request's: the secrets were left out" }),
});

export const ManageQuery = z.object({
  token: z.string().max(200).optional().openapi({ description: "The booking's manage token (or send it as X-Manage-Token)" }),
});

/** What every booking operation needs to know about the request. */
export function callerOf(c: Context<AppEnv>): Caller {
  return {
    env: c.env,
    db: getDb(c.env.DB),
    principal: c.get("principal"),
    // Per-client limits count an IPv6 client's /64 as one (src/domain/client-identity.ts).
    clientKey: clientKeyOf(c.req.header("CF-Connecting-IP")),
    idempotency: c.get("idempotency"),
    requestId: c.get("requestId"),
  };
}

/**
 * Who may see or cancel a booking: staff and admins, the customer it belongs to (bearer token
 * with that email), or whoever holds its manage token. 401 with no credential, 403 with a wrong one.
 */
async function authorizeBookingAccess(c: Context<AppEnv>, booking: BookingView, queryToken: string | undefined) {
  const principal = c.get("principal");
  if (principal?.role === "staff" || principal?.role === "admin") return;
  if (principal?.role === "customer" && principal.email === booking.customer.email) return;
  const token = c.req.header("X-Manage-Token") ?? queryToken;
  // Recomputed under both keys and checked against staff revocations (not the stored hash).
  if (token && (await manageTokenOpens(c.env, getDb(c.env.DB), booking.id, token))) return;
  if (!principal && !token) throw new ApiError("UNAUTHENTICATED", "Send the booking's manage token or a bearer token");
  throw new ApiError("FORBIDDEN", "These credentials do not give access to this booking");
}

/**
 * The booking `id` if the request may open it (see authorizeBookingAccess), for every route under
 * /bookings/{id}: this one, its cancel, its calendar file (src/routes/calendar.ts).
 */
export async function loadAuthorized(c: Context<AppEnv>, id: string, queryToken: string | undefined) {
  // Without a bearer token only the booking's own manage token opens it: checked first, so a
  // made-up id costs no lookup (and wakes no Durable Object).
  if (!c.get("principal")) {
    const token = c.req.header("X-Manage-Token") ?? queryToken;
    if (!token) throw new ApiError("UNAUTHENTICATED", "Send the booking's manage token or a bearer token");
    if ((await manageTokenGeneration(configOf(c.env).keyring, id, token)) === null) {
      throw new ApiError("FORBIDDEN", "These credentials do not give access to this booking");
    }
  }
  // D1's view with the lines as the objects have them, so a move or cancellation just answered shows at once.
  const booking = await currentBooking(c.env, getDb(c.env.DB), id);
  if (!booking) throw notFound("Booking", id);
  await authorizeBookingAccess(c, booking, queryToken);
  return booking;
}

const Params = IdParam("Booking", "bkg_0123");

export const bookingRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Book one session, a whole schedule or a set of drop-ins (guest checkout allowed)",
      description:
        "Send an Idempotency-Key header to make retries safe. The server computes the price; a totalAmountPence that differs is refused. " +
        "Staff and admins may book on behalf of a customer and override the duplicate check.",
      request: { headers: IdempotencyKeyHeader, body: jsonBody(NewBookingBody) },
      responses: {
        201: jsonResponse(BookingCreated, "The booking and its manage token"),
        ...errorResponses(400, 401, 403, 404, 409, 413, 422, 429, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const result = await createBooking(callerOf(c), { ...body, selection: toSelection(body) });
      if (result.replayed) c.header(REPLAYED_HEADER, "true");
      return c.json({ booking: toBookingResponse(result.booking), payment: result.payment, manageToken: result.manageToken, secretsWithheld: result.secretsWithheld }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a booking (manage token, the owning customer's token, or staff)",
      request: { params: Params, query: ManageQuery },
      responses: { 200: jsonResponse(BookingSchema, "The booking"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
      return c.json(toBookingResponse(booking), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags,
      summary: "Cancel a booking: its seats and resources are free at once (idempotent)",
      description:
        "A booking paid online gets its money back: all of it inside the class's free window and for staff, less the late fee after it. " +
        "A 503 means the cancellation stands but its refund could not be made yet: send the cancellation again.",
      request: { params: Params, query: ManageQuery },
      responses: { 200: jsonResponse(BookingSchema, "The cancelled booking"), ...errorResponses(401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
      const { replayed, ...cancelled } = await cancelBooking(callerOf(c), booking);
      if (replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(toBookingResponse(cancelled), 200);
    },
  );
