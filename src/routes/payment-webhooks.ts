/**
 * Payment providers' webhooks: POST /api/v1/payments/webhooks/{provider}, called by the provider,
 * not by clients. `stripe`: verified by its Stripe-Signature header against STRIPE_WEBHOOK_SECRET
 * (`constructEventAsync`, 5 minutes' tolerance); `local` (development only): the local provider's
 * own HMAC signature. The exact body is verified before anything is read from it. 200 for an event
 * applied, a duplicate or an event we do not act on; 400 for a bad signature (Stripe then does
 * not retry it); 404 when that provider is not configured here; a 5xx makes the provider retry.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CHECKOUT_PROVIDER_NAMES, type CheckoutProviderName } from "../domain/payments";
import { notFound } from "../errors";
import { createRouter, ErrorSchema, errorResponses, jsonResponse } from "../lib/openapi";
import { settlePayment } from "../services/payments/settle";

const Received = z.object({ received: z.literal(true), duplicate: z.boolean() }).openapi("PaymentWebhookReceived");

const Params = z.object({ provider: z.string().max(20).openapi({ param: { name: "provider", in: "path" }, example: "stripe", description: `One of ${CHECKOUT_PROVIDER_NAMES.join(", ")}` }) });

export const paymentWebhookRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/{provider}",
    tags: ["Webhooks"],
    summary: "A payment provider's signed event: paid, declined, expired, refunded",
    description:
      "Called by the payment provider. Stripe sends checkout.session.completed, checkout.session.async_payment_succeeded/failed, " +
      "checkout.session.expired, payment_intent.payment_failed and charge.refunded (others are acknowledged and ignored). " +
      "A redelivered event (same event id) changes nothing; events may arrive in any order.",
    request: { params: Params },
    responses: {
      200: jsonResponse(Received, "Applied, already applied, or knowingly ignored"),
      400: { description: "The signature does not verify, or its timestamp is more than 5 minutes off (PAYMENT_SIGNATURE_INVALID)", content: { "application/json": { schema: ErrorSchema } } },
      ...errorResponses(404, 413, 503),
    },
  }),
  async (c) => {
    const name = c.req.valid("param").provider;
    // Only checkout providers send webhooks: nobody outside speaks for the desk.
    if (!(CHECKOUT_PROVIDER_NAMES as readonly string[]).includes(name)) throw notFound("Payment provider", name);
    const outcome = await settlePayment(c.env, name as CheckoutProviderName, c.req.raw);
    return c.json({ received: true as const, duplicate: outcome.duplicate }, 200);
  },
);
