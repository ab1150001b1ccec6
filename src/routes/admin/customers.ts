/**
 * Staff customer records: search, the profile (totals net of cancellations, history, staff-only
 * notes and preferences), changing the notes and preferences, and a customer's messages, newest
 * first. Staff and admins only; the logic is in src/services/customer-records.ts.
 */
import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { ApiError, notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { customerProfile, findCustomers, updateCustomer } from "../../services/customer-records";
import { customerCommunications } from "../../services/staff-messages";
import { staffOrAdmin } from "./access";
import { CommunicationSchema, toCommunication } from "./bookings";
import { CustomerPatch, CustomerProfileSchema, CustomerSearchQuery, CustomerSummarySchema, toProfileResponse } from "./customer-schemas";

const tags = ["Admin: customers"];
const Params = IdParam("Customer", "cus_0123");

export const customerRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Search customers by email, first or last name, or phone (prefix, case-insensitive), by email",
      ...staffOrAdmin,
      request: { query: CustomerSearchQuery },
      responses: { 200: jsonResponse(page(CustomerSummarySchema), "A page of customers"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await findCustomers(getDb(c.env.DB), c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "A customer's profile: totals net of cancellations, history, staff notes and preferences",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(CustomerProfileSchema, "The customer's profile"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const profile = await customerProfile(getDb(c.env.DB), c.req.valid("param").id, new Date());
      c.header("Cache-Control", "private, no-store");
      return c.json(toProfileResponse(profile), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Set a customer's staff notes and/or preferences",
      description: "Fields left out stay as they are; null clears one. `preferences` replaces the whole object.",
      ...staffOrAdmin,
      request: { params: Params, body: jsonBody(CustomerPatch) },
      responses: { 200: jsonResponse(CustomerProfileSchema, "The updated profile"), ...errorResponses(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const profile = await updateCustomer(getDb(c.env.DB), c.req.valid("param").id, c.req.valid("json"), new Date());
      c.header("Cache-Control", "private, no-store");
      return c.json(toProfileResponse(profile), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/communications",
      tags,
      summary: "A customer's notifications, newest first",
      description:
        "Every message addressed to the customer's email (their bookings, guest bookings made with that email, waitlist places, staff messages), " +
        "with its status and who on the staff sent it. Link tokens are masked in the stored content.",
      ...staffOrAdmin,
      request: { params: Params, query: PaginationQuery },
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
