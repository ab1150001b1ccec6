/**
 * Confirming a waitlist entry's email, by the token in its join message: only whoever reads that
 * mailbox has it. GET shows the entry (a link preview or a mail scanner changes nothing); POST
 * confirms it, and the party takes its place in line.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, jsonResponse } from "../lib/openapi";
import { confirmEntry, entryToConfirm } from "../services/waitlist-join";
import { toEntryResponse, WaitlistEntrySchema } from "./waitlist-schemas";

const Confirmed = z.object({
  entry: WaitlistEntrySchema,
  token: z.string().openapi({ description: "Secret: the entry's token, to see its place (GET /sessions/{id}/waitlist/me) or leave" }),
});

const tags = ["Waitlists"];

const TokenParam = z.object({
  token: z.string().min(1).max(300).openapi({ param: { name: "token", in: "path" }, description: "The token from the join message's link" }),
});

export const waitlistConfirmationRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{token}",
      tags,
      summary: "The waitlist entry a join message's link confirms (reads only)",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(WaitlistEntrySchema, "The entry"), ...errorResponses(400, 404) },
    }),
    async (c) => c.json(toEntryResponse(await entryToConfirm(c, c.req.valid("param").token)), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}",
      tags,
      summary: "Confirm the email of a waitlist entry: it takes its place in line and may be offered seats at once",
      description: "Confirming again changes nothing. An entry that left the line (unconfirmed too long, or removed) is 404: join again.",
      request: { params: TokenParam },
      responses: { 200: jsonResponse(Confirmed, "The entry, confirmed, and its token"), ...errorResponses(400, 404, 503) },
    }),
    async (c) => {
      const { entry, token } = await confirmEntry(c, c.req.valid("param").token);
      return c.json({ entry: toEntryResponse(entry), token }, 200);
    },
  );
