/**
 * Certificates outside the console: the holder's own list (`/api/v1/me/certificates`), the public
 * verification by code (only the number and validity: no name, no email) and renewal offers by
 * their emailed token (see it, accept it: the held seat booked for the holder, or decline it).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { bearerAuth, createRouter, errorResponses, jsonBody, jsonResponse, page, PaginationQuery } from "../lib/openapi";
import { requireRole } from "../middleware/auth";
import { IdempotencyKeyHeader, REPLAYED_HEADER } from "../middleware/idempotency";
import { myCertificates, verifyCertificate } from "../services/certificates";
import { acceptRenewalOffer, declineRenewalOffer, showRenewalOffer } from "../services/renewal-offers";
import { AcceptedOfferSchema, toBookingResponse } from "./booking-schemas";
import { callerOf } from "./bookings";
import { CertificateSchema } from "./certificate-schemas";

const signedIn = { security: bearerAuth, middleware: [requireRole("customer", "staff", "admin")] };

export const myCertificateRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Customer portal"],
    summary: "Your certificates, newest first",
    ...signedIn,
    request: { query: PaginationQuery },
    responses: { 200: jsonResponse(page(CertificateSchema), "A page of your certificates"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const email = c.get("principal")?.email;
    // A token without an email (a sessionless dev token) has no certificates of its own.
    if (!email) return c.json({ data: [], nextCursor: null }, 200);
    return c.json(await myCertificates(c.env, getDb(c.env.DB), email, limit, cursor), 200);
  },
);

const CodeParam = z.object({
  code: z.string().min(1).max(100).openapi({ param: { name: "code", in: "path" }, description: "The verification code printed on the certificate" }),
});

export const VerificationSchema = z
  .object({
    number: z.string(),
    valid: z.boolean(),
    status: z.enum(["valid", "expired", "revoked"]),
    expiresAt: z.iso.datetime().nullable(),
  })
  .openapi("CertificateVerification");

export const certificateVerificationRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/verify/{code}",
    tags: ["Certificates"],
    summary: "Verify a certificate: its number and whether it is valid, nothing about its holder",
    request: { params: CodeParam },
    responses: { 200: jsonResponse(VerificationSchema, "The certificate's validity"), ...errorResponses(400, 404) },
  }),
  async (c) => c.json(await verifyCertificate(getDb(c.env.DB), c.req.valid("param").code), 200),
);

const TokenParam = z.object({
  token: z.string().min(1).max(300).openapi({ param: { name: "token", in: "path" }, description: "The offer's token from its email" }),
});

const RenewalOfferSchema = z
  .object({
    id: z.string(),
    status: z.enum(["offered", "accepted", "declined", "expired"]),
    certificateNumber: z.string(),
    className: z.string(),
    studioName: z.string(),
    timeZone: z.string(),
    sessionId: z.string(),
    sessionStartsAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().openapi({ description: "The seat is held until then" }),
    totalAmountPence: z.number().int(),
    currency: z.literal("GBP"),
    bookingId: z.string().nullable(),
  })
  .openapi("RenewalOffer");

const AcceptBody = z
  .object({
    totalAmountPence: z.number().int().openapi({ description: "The total the client expects to pay, in pence; must equal the server's price" }),
    currency: z.string().trim().min(3).max(3).openapi({ example: "GBP" }),
  })
  .openapi("AcceptRenewalOffer");


const tags = ["Certificates"];

export const renewalOfferRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{token}",
      tags,
      summary: "A renewal offer: the seat held for a certificate's holder, until when, and its price",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(RenewalOfferSchema, "The offer"), ...errorResponses(400, 404) },
    }),
    async (c) => c.json(await showRenewalOffer(getDb(c.env.DB), c.req.valid("param").token), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}/accept",
      tags,
      summary: "Accept: books the held seat for the certificate's holder (send Idempotency-Key to make retries safe)",
      request: { params: TokenParam, headers: IdempotencyKeyHeader, body: jsonBody(AcceptBody) },
      responses: { 201: jsonResponse(AcceptedOfferSchema, "The booking and its manage token"), ...errorResponses(400, 403, 404, 409, 422, 429, 503) },
    }),
    async (c) => {
      const result = await acceptRenewalOffer(callerOf(c), c.req.valid("param").token, c.req.valid("json"));
      if (result.replayed) c.header(REPLAYED_HEADER, "true");
      return c.json({ booking: toBookingResponse(result.booking), manageToken: result.manageToken, secretsWithheld: result.secretsWithheld }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}/decline",
      tags,
      summary: "Decline: the held seat is released at once",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(RenewalOfferSchema, "The offer, now declined"), ...errorResponses(400, 404, 409) },
    }),
    async (c) => c.json(await declineRenewalOffer(c.env, getDb(c.env.DB), c.req.valid("param").token), 200),
  );
