/**
 * Calendar files (text/calendar): a booking's file (whoever may open the booking), a customer's
 * private feed (whoever holds its secret URL, from GET /api/v1/me/calendar-feed) and a class's
 * public feed. What they hold is src/services/calendar.ts's.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError, notFound } from "../errors";
import { createRouter, errorResponses, IdParam } from "../lib/openapi";
import { CALENDAR_CONTENT_TYPE, bookingCalendar, classCalendar, customerCalendar, MAX_CLASS_FEED_SESSIONS } from "../services/calendar";
import { calendarFeedOwner } from "../services/calendar-feeds";
import { loadAuthorized, ManageQuery } from "./bookings";

const tags = ["Calendar"];

/** Public feeds may be kept a few minutes by browsers and shared caches. */
const PUBLIC_FEED_CACHE = "public, max-age=300";
/** A booking's file and a customer's feed hold personal data (and the file a manage link). */
const PRIVATE_CACHE = "private, no-store";

const calendarResponse = (description: string) => ({ description, content: { "text/calendar": { schema: z.string().openapi({ description: "iCalendar (RFC 5545), METHOD:PUBLISH" }) } } });

/** `<secret>.ics`. Anything else is a feed nobody has: 404, like a revoked one. */
const FeedParam = z.object({
  file: z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name: "file", in: "path" }, description: "The feed's secret followed by .ics, as in the url GET /api/v1/me/calendar-feed gives" }),
});

function calendarBody(c: Context<AppEnv>, text: string, cacheControl: string, fileName?: string) {
  c.header("Content-Type", CALENDAR_CONTENT_TYPE);
  c.header("Cache-Control", cacheControl);
  if (fileName) c.header("Content-Disposition", `attachment; filename="${fileName}"`);
  return c.body(text, 200);
}

export const calendarRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/bookings/{id}/calendar.ics",
      tags,
      summary: "A booking's calendar file: one event per booked session (manage token, the owning customer's token, or staff)",
      description:
        "Opened exactly as GET /api/v1/bookings/{id} is (X-Manage-Token or ?token=, a bearer token). Each event keeps its UID " +
        "(`<bookingId>-<sessionId>@<host>`); its SEQUENCE grows with every change and a cancelled session line is STATUS:CANCELLED, " +
        "so importing the file again updates the calendar. Times carry the studio's zone (TZID with its VTIMEZONE).",
      request: { params: IdParam("Booking", "bkg_0123"), query: ManageQuery },
      responses: { 200: calendarResponse("The booking's calendar file"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const booking = await loadAuthorized(c, c.req.valid("param").id, c.req.valid("query").token);
      const file = await bookingCalendar(c.env, getDb(c.env.DB), booking);
      return calendarBody(c, file.text, PRIVATE_CACHE, file.fileName);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/classes/{id}/calendar.ics",
      tags,
      summary: "A class's public calendar feed: its sessions still to come (cancelled ones marked cancelled)",
      description: `Subscribable; no token needed and nothing about anyone booked. At most ${MAX_CLASS_FEED_SESSIONS} sessions, the next ones first.`,
      request: { params: IdParam("Class", "cls_wheel_throwing") },
      responses: { 200: calendarResponse("The class's feed"), ...errorResponses(400, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const text = await classCalendar(c.env, getDb(c.env.DB), id);
      if (text === undefined) throw notFound("Class", id);
      return calendarBody(c, text, PUBLIC_FEED_CACHE);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/calendar/feeds/{file}",
      tags,
      summary: "A customer's private calendar feed, by its secret URL",
      description:
        "The url from GET /api/v1/me/calendar-feed, for a calendar app to subscribe to: the customer's booked sessions of the last 30 days " +
        "and to come, cancelled ones marked cancelled. No token: the URL is the secret. 404 once rotated.",
      request: { params: FeedParam },
      responses: { 200: calendarResponse("The customer's feed"), ...errorResponses(404) },
    }),
    async (c) => {
      const secret = /^(.+)\.ics$/.exec(c.req.valid("param").file)?.[1];
      const db = getDb(c.env.DB);
      const email = secret ? await calendarFeedOwner(db, secret) : undefined;
      if (!email) throw new ApiError("NOT_FOUND", "No such calendar feed");
      return calendarBody(c, await customerCalendar(c.env, db, email), PRIVATE_CACHE);
    },
  );
