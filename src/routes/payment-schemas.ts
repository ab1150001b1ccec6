/** Response schemas for payments and refunds (the webhook and dev checkout routes here; the booking and refund routes reuse them). */
import { z } from "@hono/zod-openapi";
import { CLOSED_REASONS, PAYMENT_ACTIONS, PAYMENT_PROVIDER_NAMES, PAYMENT_STATUSES, REFUND_STATUSES } from "../domain/payments";

export const PaymentStatusSchema = z.enum(PAYMENT_STATUSES).openapi("PaymentStatus");

export const PaymentSchema = z
  .object({
    id: z.string().openapi({ example: "pay_0f1e2d3c4b5a69788796a5b4c3d2e1f0" }),
    bookingId: z.string(),
    provider: z.enum(PAYMENT_PROVIDER_NAMES),
    status: PaymentStatusSchema,
    amountPence: z.number().int(),
    currency: z.string().openapi({ example: "GBP" }),
    description: z.string(),
    paidPence: z.number().int().openapi({ description: "What the provider says arrived" }),
    refundedPence: z.number().int(),
    checkoutUrl: z.string().nullable().openapi({ description: "Where the customer pays (the provider's page); null until the checkout exists" }),
    expiresAt: z.string().openapi({ description: "When the seats' hold ends: money after it is refunded" }),
    paidAt: z.string().nullable(),
    closedReason: z.enum(CLOSED_REASONS).nullable().openapi({ description: "declined (may still be paid until the hold ends), expired or cancelled" }),
    createdAt: z.string(),
  })
  .openapi("Payment");

export const RefundSchema = z
  .object({
    id: z.string().openapi({ example: "rfd_0f1e2d3c4b5a69788796a5b4c3d2e1f0" }),
    paymentId: z.string(),
    amountPence: z.number().int(),
    reason: z.string(),
    requestedBy: z.string().openapi({ description: "A staff subject, system or customer" }),
    status: z.enum(REFUND_STATUSES),
    providerRef: z.string().nullable(),
    failure: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Refund");

/** What settling a payment event led to. */
export const PaymentOutcomeSchema = z
  .object({
    action: z.enum(PAYMENT_ACTIONS).openapi({ description: "confirm the held seats, refund_late (paid after the hold ended), release the hold, or none" }),
    duplicate: z.boolean().openapi({ description: "The same provider event was applied before: nothing changed" }),
    payment: PaymentSchema.nullable(),
    refund: RefundSchema.optional(),
    booking: z
      .enum(["confirmed", "seats_gone", "released"])
      .optional()
      .openapi({ description: "What became of the booking paid for: confirmed, its seats gone (so refunded in full), or its hold let go" }),
  })
  .openapi("PaymentOutcome");
