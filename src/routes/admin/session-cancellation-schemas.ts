/** Request and response shapes of POST /api/v1/admin/sessions/{id}/cancel (src/services/session-cancellation.ts does the work). */
import { z } from "@hono/zod-openapi";
import { REFUND_MODES } from "../../durable-objects/session-cancellation-contract";

export const SessionCancellationInput = z
  .object({
    reason: z.string().trim().min(1).max(500).openapi({ description: "Told to every booker and everyone waiting", example: "The instructor is ill" }),
    refund: z.enum(REFUND_MODES).openapi({
      description:
        "full: each booking gets back its line's share of what it paid (line price / booking total × paid, whole pence); " +
        "policy: the same less the class's late-cancellation fee when the session is inside the late window (the studio's choice: " +
        "its own cancellation is not bound by the policy); none: nothing. Unpaid bookings are cancelled and told, with no refund.",
    }),
  })
  .openapi("SessionCancellationInput");

export const SessionCancellationReport = z
  .object({
    sessionId: z.string(),
    status: z.literal("cancelled"),
    reason: z.string(),
    refund: z.enum(REFUND_MODES),
    cancelledAt: z.iso.datetime(),
    bookings: z.array(
      z.object({
        bookingId: z.string(),
        seats: z.number().int(),
        refundDuePence: z.number().int().openapi({ description: "What this cancellation decided to give back" }),
        refundedPence: z.number().int().openapi({ description: "What the provider has given back of it" }),
        refundAtDeskPence: z.number().int().openapi({ description: "The part paid at the desk: staff hand it back there and record it (POST /admin/bookings/{id}/refunds)" }),
        bookingStillActive: z.boolean().openapi({ description: "A course or drop-in booking keeps its other sessions" }),
      }),
    ),
    waitlistClosed: z.number().int(),
    holdsReleased: z.number().int(),
    notified: z.number().int().openapi({ description: "Bookers and waiting parties told (once, whatever the repeats)" }),
  })
  .openapi("SessionCancellationReport");
