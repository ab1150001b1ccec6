/** GET /admin/bookings/{id}/user: the profile of the customer a booking is for (src/services/customer-records.ts). */
import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { createRouter, errorResponses, IdParam, jsonResponse } from "../../lib/openapi";
import { bookingCustomerProfile } from "../../services/customer-records";
import { staffOrAdmin } from "./access";
import { CustomerProfileSchema, toProfileResponse } from "./customer-schemas";

export const bookingCustomerRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/user",
    tags: ["Admin: bookings"],
    summary: "The customer a booking is for: their profile, totals and history",
    description: "The same profile as GET /admin/customers/{id}, found by the booking's email (404 when D1 has no profile for it yet).",
    ...staffOrAdmin,
    request: { params: IdParam("Booking", "bkg_0123") },
    responses: { 200: jsonResponse(CustomerProfileSchema, "The customer's profile"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const profile = await bookingCustomerProfile(c.env, getDb(c.env.DB), c.req.valid("param").id, new Date());
    c.header("Cache-Control", "private, no-store");
    return c.json(toProfileResponse(profile), 200);
  },
);
