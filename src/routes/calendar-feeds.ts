/**
 * The signed-in person's private calendar feed, under /api/v1/me/calendar-feed: its secret URL
 * (made on the first ask) and rotating it. Whose feed it is comes from the bearer token's email
 * only. The feed itself is GET /api/v1/calendar/feeds/{secret}.ics (src/routes/calendar.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { bearerAuth, createRouter, errorResponses, jsonResponse } from "../lib/openapi";
import { requireRole } from "../middleware/auth";
import { calendarFeedFor, rotateCalendarFeed } from "../services/calendar-feeds";

const tags = ["Calendar"];
// As the portal's routes (src/routes/me.ts): anyone signed in, by the email their token names.
const signedIn = { security: bearerAuth, middleware: [requireRole("customer", "staff", "admin")] };

const CalendarFeedSchema = z
  .object({
    url: z.url().openapi({
      description: "Secret: subscribe to it in a calendar app. Anyone with it can read your booked sessions, so rotate it if it leaks",
      example: "https://book.example.com/api/v1/calendar/feeds/cfd_0123.abc.ics",
    }),
    createdAt: z.iso.datetime(),
  })
  .openapi("CalendarFeed");

function ownerEmail(c: Context<AppEnv>): string {
  const email = c.get("principal")?.email;
  if (!email) throw new ApiError("FORBIDDEN", "This token names no email, so it has no calendar feed");
  return email;
}

export const calendarFeedRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Your private calendar feed's URL (made on the first ask)",
      description: "The same URL every time until you rotate it. The feed lists your booked sessions of the last 30 days and to come.",
      ...signedIn,
      responses: { 200: jsonResponse(CalendarFeedSchema, "The feed's URL"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await calendarFeedFor(c.env, getDb(c.env.DB), ownerEmail(c)), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/rotate",
      tags,
      summary: "Replace your calendar feed's URL: the old one answers 404 from now on",
      description: "An Idempotency-Key is ignored here (a replay would hand out the secret URL again): a retry simply rotates once more.",
      ...signedIn,
      responses: { 200: jsonResponse(CalendarFeedSchema, "The new URL"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await rotateCalendarFeed(c.env, getDb(c.env.DB), ownerEmail(c)), 200),
  );
