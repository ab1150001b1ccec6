/** Staff view of a customer's messages: everything sent or attempted to their email, newest first. */
import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { ApiError, notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { customerCommunications } from "../../services/staff-messages";
import { staffOrAdmin } from "./access";
import { CommunicationSchema, toCommunication } from "./bookings";

export const customerRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/communications",
    tags: ["Admin: customers"],
    summary: "A customer's notifications, newest first",
    description:
      "Every message addressed to the customer's email (their bookings, guest bookings made with that email, waitlist places, staff messages), " +
      "with its status and who on the staff sent it. Link tokens are masked in the stored content.",
    ...staffOrAdmin,
    request: { params: IdParam("Customer", "cus_0123"), query: PaginationQuery },
    responses: { 200: jsonResponse(page(CommunicationSchema), "A page of communications"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    let before: { requestedAt: Date; id: string } | undefined;
    if (cursor) {
      const [requestedAtMs, beforeId] = decodeCursor(cursor, 2);
      if (typeof requestedAtMs !== "number" || !Number.isSafeInteger(requestedAtMs) || typeof beforeId !== "string") {
        throw new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
          location: "query",
          issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
        });
      }
      before = { requestedAt: new Date(requestedAtMs), id: beforeId };
    }
    const rows = await customerCommunications(getDb(c.env.DB), id, { limit: limit + 1, before });
    if (!rows) throw notFound("Customer", id);
    const { data, nextCursor } = toPage(rows, limit, (row) => [row.requestedAt.getTime(), row.id]);
    return c.json({ data: data.map(toCommunication), nextCursor }, 200);
  },
);
