/** Staff view of bookings: filter by session, class, email, name, status and booking date (src/services/admin-bookings.ts); each booking's messages; revoking its manage token. */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { getDb } from "../../db/client";
import { BOOKING_SOURCES, BOOKING_STATUSES, bookings, COMMUNICATION_CHANNELS, COMMUNICATION_STATUSES } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonResponse, page, PaginationQuery, validationError } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { IdempotencyKeyHeader } from "../../middleware/idempotency";
import { revokeManageToken } from "../../services/manage-tokens";
import { staffOrAdmin } from "./access";
import { type BookingSearchCursor, searchBookings } from "../../services/admin-bookings";
import { bookingFromObjects } from "../../services/booking-views";
import { type Communication, communicationsForBooking } from "../../services/communications";
import { NOTIFICATION_KINDS } from "../../services/notifications";
import { BookingSchema, toBookingResponse } from "../booking-schemas";

const ListQuery = PaginationQuery.extend({
  sessionId: z.string().max(64).optional(),
  classId: z.string().max(64).optional(),
  email: z.string().trim().max(254).optional().openapi({ description: "Exact email, case-insensitive" }),
  name: z.string().trim().max(100).optional().openapi({ description: "Part of the customer's first or last name, case-insensitive" }),
  status: z.enum(BOOKING_STATUSES).optional(),
  source: z.enum(BOOKING_SOURCES).optional().openapi({ description: "Where the booking came from (older bookings without one count as website)" }),
  bookedBy: z.string().trim().min(1).max(320).optional().openapi({ description: "The staff subject who made the booking (its bookedBy), e.g. staff:ana@example.com" }),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: "Booked at or after (ISO 8601)" }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: "Booked before (ISO 8601)" }),
});

export const CommunicationSchema = z
  .object({
    id: z.string().openapi({ description: "The notification request's id, its idempotency key", example: "booking-confirmed:bkg_0123" }),
    bookingId: z.string().nullable(),
    waitlistEntryId: z.string().nullable(),
    sessionId: z.string().nullable(),
    classId: z.string().nullable(),
    recipientEmail: z.string(),
    type: z.string().openapi({ description: `The notification kind: ${NOTIFICATION_KINDS.join(", ")}` }),
    channel: z.enum(COMMUNICATION_CHANNELS),
    status: z.enum(COMMUNICATION_STATUSES).openapi({ description: "pending (being sent or waiting to retry), sent, or failed (given up on)" }),
    subject: z.string().nullable().openapi({ description: "Null when the request's data could not be rendered" }),
    content: z.string().nullable().openapi({ description: "Plain text as sent, with link tokens masked" }),
    template: z.string().nullable(),
    templateVersion: z.number().int().nullable(),
    provider: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    attempts: z.number().int().openapi({ description: "Send attempts so far" }),
    lastError: z.string().nullable(),
    sentBy: z.string().nullable().openapi({ description: "Who on the staff had it sent (email, else subject); null for what the system sends" }),
    requestedAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
    failedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Communication");

const RevocationSchema = z
  .object({
    bookingId: z.string(),
    manageToken: z.string().openapi({ description: "Secret: the booking's new manage token, for staff to pass to the customer; every earlier one is refused" }),
    revokedAt: z.iso.datetime(),
  })
  .openapi("ManageTokenRevocation");

const iso = (date: Date | null) => date?.toISOString() ?? null;
export const toCommunication = ({ claimedUntil: _claimedUntil, ...row }: Communication) => ({
  ...row,
  requestedAt: row.requestedAt.toISOString(),
  sentAt: iso(row.sentAt),
  failedAt: iso(row.failedAt),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const badCursor = () =>
  new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
    location: "query",
    issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
  });

export const adminBookingRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Admin: bookings"],
    summary: "List bookings, newest first",
    ...staffOrAdmin,
    request: { query: ListQuery },
    responses: { 200: jsonResponse(page(BookingSchema), "A page of bookings"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from >= to) {
      throw validationError(
        new z.ZodError([{ code: "custom", path: ["to"], message: "must be after from", input: query.to }]),
        "query",
      );
    }
    let after: BookingSearchCursor | undefined;
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor, 2) as [number, string];
      after = { confirmedAt: new Date(Number(at)), id: String(id) };
    }
    const { limit, cursor: _cursor, ...search } = query;
    const found = await searchBookings(getDb(c.env.DB), { ...search, from, to }, { limit: limit + 1, after });
    const { data, nextCursor } = toPage(found, limit, (view) => [Date.parse(view.confirmedAt), view.id]);
    return c.json(
      {
        data: data.map(({ className: _className, timeZone: _timeZone, ...view }) => toBookingResponse(view)),
        nextCursor,
      },
      200,
    );
  },
).openapi(
  createRoute({
    method: "get",
    path: "/{id}/communications",
    tags: ["Admin: bookings"],
    summary: "A booking's notifications, oldest first (in the order they were requested)",
    description: "Every message sent or attempted about the booking, with its status, attempts and last error.",
    ...staffOrAdmin,
    request: { params: IdParam("Booking", "bkg_0123"), query: PaginationQuery },
    responses: { 200: jsonResponse(page(CommunicationSchema), "A page of communications"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    let after: { requestedAt: Date; id: string } | undefined;
    if (cursor) {
      const [requestedAtMs, afterId] = decodeCursor(cursor, 2);
      if (typeof requestedAtMs !== "number" || !Number.isSafeInteger(requestedAtMs) || typeof afterId !== "string") throw badCursor();
      after = { requestedAt: new Date(requestedAtMs), id: afterId };
    }
    const db = getDb(c.env.DB);
    // D1 may not have the booking yet (its messages come through another queue): the objects answer then.
    const booking = (await db.query.bookings.findFirst({ columns: { id: true }, where: eq(bookings.id, id) })) ?? (await bookingFromObjects(c.env, id));
    if (!booking) throw notFound("Booking", id);
    const rows = await communicationsForBooking(db, id, { limit: limit + 1, after });
    const { data, nextCursor } = toPage(rows, limit, (row) => [row.requestedAt.getTime(), row.id]);
    return c.json({ data: data.map(toCommunication), nextCursor }, 200);
  },
).openapi(
  createRoute({
    method: "post",
    path: "/{id}/manage-token/revoke",
    tags: ["Admin: bookings"],
    summary: "Revoke a booking's manage token and issue a new one",
    description:
      "Every manage token issued so far for the booking is refused from now on (403 FORBIDDEN, as a wrong token), links in messages " +
      "already sent included. The response carries the new token, which is also what later messages carry.",
    ...staffOrAdmin,
    request: { headers: IdempotencyKeyHeader, params: IdParam("Booking", "bkg_0123") },
    responses: { 200: jsonResponse(RevocationSchema, "The new manage token"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const revocation = await revokeManageToken(c.env, getDb(c.env.DB), c.req.valid("param").id, c.get("principal")!.subject);
    c.header("Cache-Control", "no-store");
    return c.json(revocation, 200);
  },
);
