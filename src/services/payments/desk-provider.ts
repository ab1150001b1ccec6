/**
 * The desk: money staff take or hand back at the studio (POST /admin/bookings/{id}/mark-paid and
 * the refund route). Nothing goes through it online: it opens no checkout and signs no webhook, so
 * the PAYMENT_PROVIDER setting can never name it (src/config.ts). A desk refund is cash or a card
 * refund made at the counter: staff record what they did, so it succeeds at once, as final as our
 * record of it, with a `desk_…` reference.
 */
import { ApiError } from "../../errors";
import { type PaymentProvider, PaymentProviderError, type RefundRequest } from "./provider";

/** The reference a desk payment row carries (a refund is made against it, as against a checkout). */
export const deskPaymentRef = (paymentId: string) => `desk_${paymentId}`;

export class DeskPaymentProvider implements PaymentProvider {
  readonly name = "desk" as const;

  /** Definite: nothing was opened, so a caller lets its reservation go. */
  async createCheckout(): Promise<never> {
    throw new PaymentProviderError("the desk opens no online checkout", true);
  }

  async refund(request: RefundRequest): Promise<{ refundRef: string }> {
    return { refundRef: `desk_${request.idempotencyKey}` };
  }

  async expireCheckout(): Promise<void> {}

  /** Nobody outside may speak for the desk. */
  async verifyWebhook(): Promise<never> {
    throw new ApiError("NOT_FOUND", "The desk takes no webhooks");
  }
}
