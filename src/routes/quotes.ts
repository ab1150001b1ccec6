/**
 * POST /api/v1/quotes: the server's price of a booking before checkout, with the seats and
 * resources each session has left for that many people. Pages show this price; they never
 * compute one. Nothing is held: POST /holds and POST /bookings price again.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { BOOKING_KINDS, PAYMENT_MODES } from "../db/schema";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { quoteSelection } from "../services/quotes";
import { CancellationTermsSchema, checkSelection, SelectionFields, toSelection } from "./booking-schemas";
import { callerOf } from "./bookings";

const { contact: _contact, ...selectionOnly } = SelectionFields;

const NewQuoteBody = z
  .object({
    ...selectionOnly,
    promoCode: z.string().trim().min(1).max(40).optional(),
  })
  .superRefine(checkSelection)
  .openapi("NewQuote");

const SeatProblemSchema = z
  .object({
    code: z.enum(["SESSION_FULL", "INSUFFICIENT_CAPACITY", "RESOURCE_UNAVAILABLE", "SEAT_LIMIT_EXCEEDED"]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("QuoteSeatProblem");

const QuoteSchema = z
  .object({
    registrationType: z.enum(BOOKING_KINDS),
    classId: z.string(),
    patternId: z.string().nullable(),
    guestCount: z.number().int(),
    sessionCount: z.number().int(),
    unitPence: z.number().int().openapi({ description: "One seat for the whole booking, before any discount" }),
    subtotalPence: z.number().int(),
    discountPence: z.number().int(),
    totalPence: z.number().int().openapi({ description: "Send this as totalAmountPence when booking" }),
    currency: z.literal("GBP"),
    promoApplied: z.boolean(),
    fits: z.boolean().openapi({ description: "Every session has the seats and resources for guestCount right now (nothing is held)" }),
    sessions: z.array(
      z.object({
        sessionId: z.string(),
        startsAt: z.string(),
        endsAt: z.string(),
        pricePence: z.number().int().openapi({ description: "This session's share of the total" }),
        availableSpots: z.number().int(),
        status: z.enum(["open", "full", "cancelled"]),
        resources: z.array(z.object({ resourceId: z.string(), name: z.string(), needed: z.number().int(), available: z.number().int() })),
        problem: SeatProblemSchema.nullable().openapi({ description: "Why guestCount seats would be refused here now, or null" }),
      }),
    ),
    paymentMode: z.enum(PAYMENT_MODES).openapi({ description: "online: paid when booking; at_studio: paid at the desk" }),
    cancellationPolicy: CancellationTermsSchema,
  })
  .openapi("Quote");

export const quoteRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Bookings"],
    summary: "Price a booking and check its seats and resources, holding nothing",
    description:
      "The same selection fields as POST /holds and POST /bookings, without contact. Refused like a booking when the sessions " +
      "cannot be sold (NO_TRAINER, SESSION_NOT_BOOKABLE, BOOKING_KIND_NOT_ALLOWED, PROMO_INVALID); seats that do not fit are " +
      "reported per session in `problem`, not refused.",
    request: { body: jsonBody(NewQuoteBody) },
    responses: { 200: jsonResponse(QuoteSchema, "The price and what is left"), ...errorResponses(400, 404, 409, 413, 422, 429) },
  }),
  async (c) => {
    const body = c.req.valid("json");
    return c.json(await quoteSelection(callerOf(c), { guestCount: body.guestCount, promoCode: body.promoCode, selection: toSelection(body) }), 200);
  },
);
