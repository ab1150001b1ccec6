/** A session's waitlist, for customers: join, see your position, leave (with the entry's token). */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../lib/openapi";
import { IdempotencyKeyHeader } from "../middleware/idempotency";
import { entryByToken, leaveWaitlist } from "../services/waitlist";
import { joinWaitlist } from "../services/waitlist-join";
import { callerOf } from "./bookings";
import { JoinFields, TokenQuery, toEntryResponse, WaitlistEntrySchema } from "./waitlist-schemas";

const tags = ["Waitlists"];
const Params = IdParam("Session", "ses_0123");

const JoinBody = z.object(JoinFields).openapi("JoinWaitlist");

const Joined = z.object({
  entry: WaitlistEntrySchema,
  token: z.string().optional().openapi({
    description:
      "Secret: shows the position and leaves the list. Given to the signed-in owner and staff; an anonymous joiner gets it by confirming the email (the join message's link). Withheld from a replay that reaches another client address",
  }),
  secretsWithheld: z.literal(true).optional().openapi({ description: "Present on a replay to another client address than the original request's: the token was left out" }),
});

function presentedToken(c: Context<AppEnv>, query: string | undefined): string {
  const token = c.req.header("X-Waitlist-Token") ?? query;
  if (!token) throw new ApiError("UNAUTHENTICATED", "Send the waitlist entry's token (?token= or X-Waitlist-Token)");
  return token;
}

export const waitlistRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/waitlist",
      tags,
      summary: "Join a full session's waitlist (one entry per email)",
      description:
        "Signed in as the email's owner, the party is in line at once; otherwise the join message holds a link to confirm the email (GET, then POST /waitlist-confirmations/{token}), " +
        "and until then the entry gets no offer and leaves after WAITLIST_CONFIRM_MINUTES. A repeat join returns the existing entry (200) to staff and the signed-in owner; " +
        "anyone else gets 409 DUPLICATE_BOOKING without details. One client address may have WAITLIST_PARTIES_PER_CLIENT_PER_SESSION parties waiting per session (409 WAITLIST_LIMIT_EXCEEDED). " +
        "When seats free up they are offered automatically, in order of priority and then of joining; a party that does not fit is skipped for the next that does. " +
        "The offer holds the seats for a limited time and arrives as a notification linking to the offer (GET /waitlist-offers/{token}: seats, expiry, price), which is accepted (POST …/accept) or declined (POST …/decline).",
      request: { params: Params, headers: IdempotencyKeyHeader, body: jsonBody(JoinBody) },
      responses: {
        201: jsonResponse(Joined, "Joined"),
        200: jsonResponse(Joined, "Already on the list: the existing entry (staff and the signed-in owner only)"),
        ...errorResponses(400, 401, 403, 404, 409, 422, 429),
      },
    }),
    async (c) => {
      const result = await joinWaitlist(callerOf(c), c.req.valid("param").id, { ...c.req.valid("json"), priority: "normal" });
      return c.json({ entry: toEntryResponse(result.entry), token: result.token }, result.created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/waitlist/me",
      tags,
      summary: "Your waitlist entry and position (with the entry's token)",
      request: { params: Params, query: TokenQuery },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry"), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const entry = await entryByToken(c.env, c.req.valid("param").id, presentedToken(c, c.req.valid("query").token));
      return c.json(toEntryResponse(entry), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}/waitlist/me",
      tags,
      summary: "Leave the waitlist (an open offer's seats pass to the next in line)",
      request: { params: Params, query: TokenQuery },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry, now removed"), ...errorResponses(400, 401, 404, 409, 503) },
    }),
    async (c) => {
      const sessionId = c.req.valid("param").id;
      const entry = await entryByToken(c.env, sessionId, presentedToken(c, c.req.valid("query").token));
      return c.json(toEntryResponse(await leaveWaitlist(c.env, sessionId, entry.id, "customer")), 200);
    },
  );
