/**
 * Staff messages (staff and admins): send one booking's customer its confirmation or reminder
 * again, or free text; send free text to everyone booked on a session. Each is queued and recorded
 * with who sent it (the communications lists show `sentBy`). With an Idempotency-Key a retried
 * call sends nothing twice; without one, every call is a new message.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../../db/client";
import { MAX_STAFF_MESSAGE_LENGTH, paragraphsOf } from "../../domain/notification-templates";
import type { AppEnv } from "../../env";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/openapi";
import { IdempotencyKeyHeader } from "../../middleware/idempotency";
import { messageSession, type Sender, sendBookingEmail } from "../../services/staff-messages";
import { staffOrAdmin } from "./access";

const StaffTextInput = z
  .object({
    subject: z.string().trim().min(1).max(200).openapi({ description: "One line; line breaks and control characters become spaces", example: "Studio closed on Saturday" }),
    text: z
      .string()
      .max(MAX_STAFF_MESSAGE_LENGTH)
      .refine((value) => paragraphsOf(value).length > 0, "must contain some text")
      .openapi({ description: `Plain text, line breaks kept, at most ${MAX_STAFF_MESSAGE_LENGTH} characters; shown escaped, never as markup` }),
  })
  .strict()
  .openapi("StaffMessageInput");

const TemplateInput = z
  .object({
    template: z.enum(["BOOKING_CONFIRMED", "SESSION_REMINDER"]).openapi({
      description: "BOOKING_CONFIRMED: the confirmation with the current manage link (409 NOTHING_TO_SEND for a cancelled booking); SESSION_REMINDER: the reminder of the booking's next session still to come (409 NOTHING_TO_SEND without one)",
    }),
  })
  .strict();

const Queued = z
  .object({
    queued: z.number().int().openapi({ description: "Messages queued: one per booking" }),
    batchId: z.string().openapi({ description: "The call's batch id; each message's id is staff:<batchId>:<bookingId>" }),
  })
  .openapi("StaffMessagesQueued");

const tags = ["Admin: messages"];

/** Who is sending, as recorded, and the call's batch id: the Idempotency-Key's seed (so a retry queues the same ids), else random. */
function senderOf(c: Context<AppEnv>): { from: Sender; batchId: string } {
  const principal = c.get("principal")!;
  const seed = c.get("idempotency")?.seed;
  return {
    from: { sentBy: principal.email?.toLowerCase() ?? principal.subject, email: principal.email },
    batchId: seed ? seed : crypto.randomUUID().replaceAll("-", ""),
  };
}

export const staffMessageRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/bookings/{id}/send-email",
      tags,
      summary: "Email a booking's customer: its confirmation or reminder again, or free text",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, params: IdParam("Booking", "bkg_0123"), body: jsonBody(z.union([TemplateInput, StaffTextInput])) },
      responses: { 202: jsonResponse(Queued, "Queued; see the booking's communications for its delivery"), ...errorResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { from, batchId } = senderOf(c);
      const queued = await sendBookingEmail(c.env, getDb(c.env.DB), c.req.valid("param").id, c.req.valid("json"), from, batchId, new Date());
      return c.json({ queued, batchId }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/sessions/{id}/message",
      tags,
      summary: "Email everyone booked on a session (free text, one message per confirmed booking)",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, params: IdParam("Session", "ses_0123"), body: jsonBody(StaffTextInput) },
      responses: { 202: jsonResponse(Queued, "Queued, one per confirmed booking"), ...errorResponses(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const { from, batchId } = senderOf(c);
      const queued = await messageSession(c.env, getDb(c.env.DB), c.req.valid("param").id, c.req.valid("json"), from, batchId, new Date());
      return c.json({ queued, batchId }, 202);
    },
  );
