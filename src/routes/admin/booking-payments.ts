/**
 * A booking's money at the desk and in the console: its payments and refunds, a refund by staff
 * (told to the customer), and a booking marked paid at the studio. The rules live in
 * src/services/booking-payments.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { createRouter, ErrorSchema, errorResponses, IdParam, jsonBody, jsonResponse } from "../../lib/openapi";
import { IdempotencyKeyHeader } from "../../middleware/idempotency";
import { bookingPaymentsAndRefunds, DESK_METHODS, type DeskMethod, markPaidAtDesk, refundBooking } from "../../services/booking-payments";
import { PaymentSchema, PaymentStatusSchema, RefundSchema } from "../payment-schemas";
import { staffOrAdmin } from "./access";

const tags = ["Admin: bookings"];
const Params = IdParam("Booking", "bkg_0123");

const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorSchema } } });

const RefundBody = z
  .object({
    amountPence: z.number().int().positive().max(100_000_000).openapi({ description: "What to give back, in whole pence", example: 1250 }),
    reason: z.string().trim().min(1).max(500).openapi({ description: "Why: recorded with the refund and told to the customer", example: "Studio closed for repairs" }),
    paymentId: z.string().min(1).max(64).optional().openapi({
      description: "Which of the booking's payments to refund; by default the paid ones with money left, newest first (the amount split over them when needed)",
    }),
  })
  .openapi("BookingRefundRequest");

const RefundResponse = z
  .object({
    refund: RefundSchema,
    payment: PaymentSchema.openapi({ description: "The refunded payment, after the refund" }),
    refunds: z.array(RefundSchema).openapi({ description: "Every refund made: one, unless the amount was split over several payments" }),
    booking: z.object({ id: z.string(), paymentStatus: PaymentStatusSchema }),
  })
  .openapi("BookingRefund");

const MarkPaidBody = z
  .object({
    method: z.enum(DESK_METHODS).default("other").openapi({ description: "How the customer paid at the desk" }),
    note: z.string().trim().max(150).optional().openapi({ description: "For the record (a receipt number)" }),
  })
  .openapi("MarkPaidRequest");

const PaymentsResponse = z.object({ payments: z.array(PaymentSchema), refunds: z.array(RefundSchema) }).openapi("BookingPayments");

export const bookingPaymentRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/payments",
      tags,
      summary: "A booking's payments and refunds, oldest first",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(PaymentsResponse, "The booking's payments and every refund of them"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await bookingPaymentsAndRefunds(c.env, getDb(c.env.DB), c.req.valid("param").id), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/refunds",
      tags,
      summary: "Refund part or all of what a booking was paid",
      description:
        "Gives money back through the provider it was paid with (a desk payment: handed back at the studio), never more than was paid less what was " +
        "refunded or is being refunded. Recorded with the staff member who asked and why, and the customer is emailed (once per refund). " +
        "With an Idempotency-Key a retry refunds once.",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, params: Params, body: jsonBody(RefundBody) },
      responses: {
        201: jsonResponse(RefundResponse, "Refunded"),
        ...errorResponses(400, 401, 403, 404),
        409: error("The booking has received no money (NOTHING_TO_REFUND), the provider refused the refund (REFUND_REFUSED), or the same key is in flight (IDEMPOTENCY_IN_PROGRESS)"),
        422: error("More than is left to refund (REFUND_EXCEEDS_PAID, with refundablePence), or the key was used for another request (IDEMPOTENCY_KEY_REUSED)"),
        503: error("The provider could not be reached: the refund is recorded but not made yet; retry with the same Idempotency-Key (PAYMENT_UNAVAILABLE, SERVICE_UNAVAILABLE)"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const result = await refundBooking(c.env, getDb(c.env.DB), {
        bookingId: c.req.valid("param").id,
        amountPence: body.amountPence,
        reason: body.reason,
        paymentId: body.paymentId,
        requestedBy: c.get("principal")!.subject,
        seed: c.get("idempotency")?.seed || undefined,
      });
      return c.json(result, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/mark-paid",
      tags,
      summary: "Record that the customer paid at the studio",
      description:
        "Records a desk payment of the booking's total (net of cancelled sessions) and the booking becomes paid. Once per booking; " +
        "a desk payment is refunded like any other (POST /admin/bookings/{id}/refunds), as money handed back at the desk.",
      ...staffOrAdmin,
      request: { headers: IdempotencyKeyHeader, params: Params, body: { ...jsonBody(MarkPaidBody), required: false } },
      responses: {
        201: jsonResponse(PaymentSchema, "The desk payment"),
        ...errorResponses(400, 401, 403, 404),
        409: error(
          "Already paid, at the desk or online (ALREADY_PAID); nothing owed at the desk: free, cancelled, or paying online (PAYMENT_NOT_DUE); or the same key is in flight (IDEMPOTENCY_IN_PROGRESS)",
        ),
        422: error("The key was used for another request (IDEMPOTENCY_KEY_REUSED)"),
      },
    }),
    async (c) => {
      // Without a body (no content type) the validator is skipped and no default applied.
      const body: { method?: DeskMethod; note?: string | undefined } = c.req.valid("json") ?? {};
      const payment = await markPaidAtDesk(c.env, getDb(c.env.DB), {
        bookingId: c.req.valid("param").id,
        method: body.method ?? "other",
        note: body.note || undefined,
        recordedBy: c.get("principal")!.subject,
        seed: c.get("idempotency")?.seed || undefined,
      });
      return c.json(payment, 201);
    },
  );
