/**
 * Webhooks from providers. Resend's delivery events (POST /api/v1/webhooks/resend) are signed by
 * Svix under the Standard Webhooks scheme: an HMAC-SHA256 of `<svix-id>.<svix-timestamp>.<body>`
 * with the endpoint's `whsec_…` secret (RESEND_WEBHOOK_SECRET), in `svix-signature`. The signature
 * is the only credential, so the exact body bytes are verified before anything is parsed, and a
 * timestamp more than 5 minutes off is refused (a replay). Without a secret the endpoint is off (404).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { configOf } from "../config";
import { getDb } from "../db/client";
import { ApiError } from "../errors";
import { createRouter, ErrorSchema, errorResponses, jsonResponse, validationError } from "../lib/openapi";
import { recordDeliveryEvent, ResendWebhookEventSchema } from "../services/delivery-events";

const Received = z.object({ received: z.literal(true) }).openapi("WebhookReceived");

const invalidSignature = {
  description: "Missing or bad signature, or a timestamp more than 5 minutes off (INVALID_SIGNATURE)",
  content: { "application/json": { schema: ErrorSchema } },
};

export const webhookRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/resend",
    tags: ["Webhooks"],
    summary: "Resend delivery events: delivered, opened, clicked, bounced, complained",
    description:
      "Called by Resend, not by clients. The body is Resend's event (`{type, created_at, data:{email_id, to, …}}`), " +
      "verified by its `svix-id`, `svix-timestamp` and `svix-signature` headers against RESEND_WEBHOOK_SECRET. " +
      "A redelivery (same svix-id), an event type not recorded and an email this service did not send are all acknowledged and change nothing. " +
      "404 when RESEND_WEBHOOK_SECRET is not set.",
    responses: { 200: jsonResponse(Received, "Recorded (or knowingly ignored)"), 401: invalidSignature, ...errorResponses(400, 404, 413) },
  }),
  async (c) => {
    const secret = configOf(c.env).resend.webhookSecret;
    if (!secret) throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);

    // The raw text, never re-serialised JSON: the signature covers these exact bytes.
    const body = await c.req.text();
    const headers = {
      "webhook-id": c.req.header("svix-id") ?? c.req.header("webhook-id") ?? "",
      "webhook-timestamp": c.req.header("svix-timestamp") ?? c.req.header("webhook-timestamp") ?? "",
      "webhook-signature": c.req.header("svix-signature") ?? c.req.header("webhook-signature") ?? "",
    };
    let webhook: Webhook;
    try {
      webhook = new Webhook(secret);
    } catch {
      // Our configuration, not the caller's fault: a 500, so Resend retries once it is fixed.
      throw new Error("RESEND_WEBHOOK_SECRET is not a valid whsec_… signing secret");
    }
    try {
      webhook.verify(body, headers, { jsonParse: false });
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      throw new ApiError("INVALID_SIGNATURE", `The webhook signature could not be verified: ${error.message}`);
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ApiError("INVALID_JSON", "The request body is not valid JSON");
    }
    const event = ResendWebhookEventSchema.safeParse(json);
    if (!event.success) throw validationError(event.error, "body");

    await recordDeliveryEvent(getDb(c.env.DB), { webhookId: headers["webhook-id"], event: event.data });
    return c.json({ received: true as const }, 200);
  },
);
