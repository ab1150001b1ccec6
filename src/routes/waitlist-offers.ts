/**
 * Waitlist offers, reached by the token in the offer's notification: see it, accept it (a booking
 * through the normal path: price, payment check, promo), or decline it (the seats pass on).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { IdempotencyKeyHeader } from "../middleware/idempotency";
import { acceptOffer, declineOffer, offerQuote, openOffer } from "../services/waitlist";
import { AcceptedOfferSchema, toBookingResponse } from "./booking-schemas";
import { callerOf } from "./bookings";
import { toEntryResponse, WaitlistEntrySchema } from "./waitlist-schemas";

const tags = ["Waitlists"];

const TokenParam = z.object({
  token: z.string().min(1).max(300).openapi({ param: { name: "token", in: "path" }, description: "The offer's token from its notification" }),
});

const OfferSchema = z
  .object({
    entry: WaitlistEntrySchema,
    className: z.string(),
    sessionStartsAt: z.string(),
    expiresAt: z.string().openapi({ description: "UTC; after this the seats pass to the next in line" }),
    totalAmountPence: z.number().int().openapi({ description: "What accepting costs without a promo code, in pence" }),
    currency: z.literal("GBP"),
  })
  .openapi("WaitlistOffer");

const AcceptBody = z
  .object({
    totalAmountPence: z.number().int().openapi({ description: "The total the client expects to pay, in pence; must equal the server's price" }),
    currency: z.string().trim().min(3).max(3).openapi({ example: "GBP" }),
    promoCode: z.string().trim().min(1).max(40).optional(),
    notes: z.string().trim().max(2000).optional(),
  })
  .openapi("AcceptOffer");


export const waitlistOfferRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{token}",
      tags,
      summary: "An open waitlist offer: what it is for, until when, and its price",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(OfferSchema, "The open offer"), ...errorResponses(400, 404, 409) },
    }),
    async (c) => {
      const db = getDb(c.env.DB);
      const { entry, offer } = await openOffer(c.env, c.req.valid("param").token);
      const quote = await offerQuote(db, entry);
      return c.json(
        {
          entry: toEntryResponse(entry),
          className: quote.className,
          sessionStartsAt: quote.startsAt.toISOString(),
          expiresAt: new Date(offer.expiresAt).toISOString(),
          totalAmountPence: quote.totalPence,
          currency: "GBP" as const,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}/accept",
      tags,
      summary: "Accept the offer: books the held seats (send Idempotency-Key to make retries safe)",
      request: { params: TokenParam, headers: IdempotencyKeyHeader, body: jsonBody(AcceptBody) },
      responses: { 201: jsonResponse(AcceptedOfferSchema, "The booking and its manage token"), ...errorResponses(400, 401, 403, 404, 409, 422, 429, 503) },
    }),
    async (c) => {
      const result = await acceptOffer(callerOf(c), c.req.valid("param").token, c.req.valid("json"));
      return c.json({ booking: toBookingResponse(result.booking), manageToken: result.manageToken, secretsWithheld: result.secretsWithheld }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}/decline",
      tags,
      summary: "Decline the offer: its seats are offered to the next in line at once",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry, now declined"), ...errorResponses(400, 404, 409, 503) },
    }),
    async (c) => {
      const entry = await declineOffer(c.env, c.req.valid("param").token);
      return c.json(toEntryResponse(entry), 200);
    },
  );
