/**
 * The customer portal: the signed-in person's profile, bookings, waitlist entries, notify-me
 * registrations and messages. Whose they are comes from the bearer token's email only
 * (src/services/portal.ts). Each route checks the role itself rather than a `/me/*` middleware,
 * so routers mounted beside this one under /api/v1/me (the calendar feed) keep their own access.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { CONTACT_PREFERENCES } from "../db/schema";
import { PersonNameSchema } from "../domain/person-name";
import { bearerAuth, createRouter, errorResponses, jsonBody, jsonResponse, page, PaginationQuery } from "../lib/openapi";
import { requireRole } from "../middleware/auth";
import { portalBookings, portalOverview, updatePortalProfile } from "../services/portal";
import { portalCommunications, portalInterests, portalWaitlist } from "../services/portal-activity";
import { MeBookingSchema, MeCommunicationSchema, MeInterestSchema, MeOverviewSchema, MeWaitlistEntrySchema } from "./me-schemas";

const tags = ["Customer portal"];
const signedIn = { security: bearerAuth, middleware: [requireRole("customer", "staff", "admin")] };

/** A phone number as people type it (spaces, dashes, brackets allowed), stored as E.164: `+` and 7–15 digits. */
const Phone = z
  .string()
  .trim()
  .max(30)
  .transform((value) => value.replace(/[\s().-]/g, ""))
  .pipe(z.string().regex(/^\+[1-9][0-9]{6,14}$/, "an international number starting with + and the country code, such as +44 20 7946 0000"));

const ProfilePatch = z
  .object({
    firstName: PersonNameSchema.optional().openapi({ example: "Ada" }),
    lastName: PersonNameSchema.optional().openapi({ example: "Lovelace" }),
    phone: Phone.nullable().optional().openapi({ description: "E.164 (spaces and dashes are dropped); null removes it", example: "+44 20 7946 0000" }),
    preferredContact: z.enum(CONTACT_PREFERENCES).optional().openapi({ description: "How the studio should reach you; sms needs a phone number" }),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), "send at least one of firstName, lastName, phone, preferredContact")
  .openapi("ProfilePatch");

const BookingsQuery = PaginationQuery.extend({
  when: z.enum(["upcoming", "past"]).default("upcoming").openapi({ description: "upcoming: a session still to come, soonest first; past: the rest, latest first" }),
});

export const meRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Your profile and what you have booked (net of cancellations)",
      description: "Someone who has never booked gets an empty profile and zero totals. Bookings made as a guest with the same email are yours.",
      ...signedIn,
      responses: { 200: jsonResponse(MeOverviewSchema, "Profile and totals"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await portalOverview(getDb(c.env.DB), c.get("principal"), new Date()), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/",
      tags,
      summary: "Change your name, phone or how you want to be contacted",
      description: "Creates your profile if you have none yet. The email is your sign-in's and cannot be changed here.",
      ...signedIn,
      request: { body: jsonBody(ProfilePatch) },
      responses: { 200: jsonResponse(MeOverviewSchema, "The profile as it is now"), ...errorResponses(400, 401, 403, 413) },
    }),
    async (c) => c.json(await updatePortalProfile(getDb(c.env.DB), c.get("principal"), c.req.valid("json"), new Date()), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/bookings",
      tags,
      summary: "Your bookings, upcoming or past, with the paths to read and cancel each",
      description:
        "Cancel with POST links.cancel and your bearer token (while `cancellable`: until the first session starts). " +
        "Lists D1's projection, so a booking just made may take a moment to appear.",
      ...signedIn,
      request: { query: BookingsQuery },
      responses: { 200: jsonResponse(page(MeBookingSchema), "A page of bookings"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await portalBookings(getDb(c.env.DB), c.get("principal"), c.req.valid("query"), new Date()), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/waitlist",
      tags,
      summary: "Your waitlist entries, newest first, with your position while you are in line",
      ...signedIn,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(MeWaitlistEntrySchema), "A page of waitlist entries"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await portalWaitlist(c.env, getDb(c.env.DB), c.get("principal"), c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/interests",
      tags,
      summary: "The courses you asked to hear about (notify me), newest first",
      ...signedIn,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(MeInterestSchema), "A page of registrations"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await portalInterests(getDb(c.env.DB), c.get("principal"), c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/communications",
      tags,
      summary: "The messages sent to you, newest first (links in them masked)",
      ...signedIn,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(MeCommunicationSchema), "A page of messages"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await portalCommunications(getDb(c.env.DB), c.get("principal"), c.req.valid("query")), 200),
  );
