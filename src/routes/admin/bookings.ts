/** Staff view of bookings: filter by session, class, email, status and booking date. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import { getDb } from "../../db/client";
import { BOOKING_STATUSES, bookings, customers } from "../../db/schema";
import { createRouter, errorResponses, jsonResponse, page, PaginationQuery, validationError } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { staffOrAdmin } from "./access";
import { bookingLines, toBookingView } from "../../services/bookings";
import { BookingSchema, toBookingResponse } from "../booking-schemas";

const ListQuery = PaginationQuery.extend({
  sessionId: z.string().max(64).optional(),
  classId: z.string().max(64).optional(),
  email: z.string().trim().max(254).optional().openapi({ description: "Exact email, case-insensitive" }),
  status: z.enum(BOOKING_STATUSES).optional(),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: "Booked at or after (ISO 8601)" }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: "Booked before (ISO 8601)" }),
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
    const conditions: (SQL | undefined)[] = [
      query.classId ? eq(bookings.classId, query.classId) : undefined,
      query.status ? eq(bookings.status, query.status) : undefined,
      query.email ? eq(customers.email, query.email.toLowerCase()) : undefined,
      from ? gte(bookings.confirmedAt, from) : undefined,
      to ? lt(bookings.confirmedAt, to) : undefined,
      query.sessionId
        ? sql`EXISTS (SELECT 1 FROM booking_sessions l WHERE l.booking_id = ${bookings.id} AND l.session_id = ${query.sessionId})`
        : undefined,
    ];
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor, 2) as [number, string];
      const after = new Date(Number(at));
      conditions.push(or(lt(bookings.confirmedAt, after), and(eq(bookings.confirmedAt, after), lt(bookings.id, String(id)))));
    }
    const db = getDb(c.env.DB);
    const rows = await db
      .select({ booking: bookings, customer: customers })
      .from(bookings)
      .innerJoin(customers, eq(customers.id, bookings.customerId))
      .where(and(...conditions))
      .orderBy(desc(bookings.confirmedAt), desc(bookings.id))
      .limit(query.limit + 1);
    const { data, nextCursor } = toPage(rows, query.limit, (row) => [row.booking.confirmedAt.getTime(), row.booking.id]);
    const lines = await bookingLines(db, data.map((row) => row.booking.id));
    return c.json(
      {
        data: data.map(({ booking, customer }) => toBookingResponse(toBookingView(booking, customer, lines))),
        nextCursor,
      },
      200,
    );
  },
);
