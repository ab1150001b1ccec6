/**
 * What a payment provider does for us, whoever it is: open a checkout for an amount the server
 * chose, give money back, close a checkout nobody may pay any more, and turn its signed webhook
 * into one normalised event. Stripe (stripe-provider.ts) in production, the local provider
 * (local-provider.ts) in development and tests; factory.ts picks one from PAYMENT_PROVIDER.
 */
import type { PaymentEventKind, PaymentProviderName } from "../../domain/payments";

export interface CheckoutRequest {
  paymentId: string;
  /** The server's price: never anything a client sent. */
  amountPence: number;
  currency: string;
  /** What the customer sees on the provider's page ("Wheel basics, Sat 14 Mar 10:00"). */
  description: string;
  customerEmail: string;
  /** The same key for the same payment: a retried start creates nothing twice at the provider. */
  idempotencyKey: string;
  /** When our hold ends (epoch ms). A provider whose page must live longer closes it later; our hold still decides. */
  expiresAt: number;
  /** When the payment row was made (epoch ms): what the provider's own expiry is counted from, so a retry sends identical parameters. */
  createdAt: number;
  /** Where the provider sends the customer afterwards (absolute URLs on this service). */
  successUrl: string;
  cancelUrl: string;
}

export interface RefundRequest {
  /** The checkout (`cs_…`) and, when known, what it charged (`pi_…`): what a refund is made against. */
  providerRef: string;
  providerPaymentRef: string | null;
  paymentId: string;
  amountPence: number;
  /** Our refund's id: a retry after a lost answer refunds nothing twice. */
  idempotencyKey: string;
  reason: string;
}

/**
 * A webhook the provider signed, normalised. `amountPence` is what was paid (succeeded), asked
 * (failed, expired) or, for `refund_succeeded`, the provider's running total refunded on the
 * payment, so refunds fold with `max` whatever order they arrive in.
 */
export interface VerifiedPaymentEvent {
  provider: PaymentProviderName;
  /** The provider's event id (Stripe's `evt_…`): the same delivery twice has the same id. */
  eventId: string;
  kind: PaymentEventKind;
  /** Ours, from the metadata we gave the provider; null when the event does not carry it. */
  paymentId: string | null;
  providerRef: string | null;
  providerPaymentRef: string | null;
  amountPence: number;
  currency: string;
  /** Expiry or cancellation (for `payment_expired`). */
  reason?: "expired" | "cancelled";
}

export interface PaymentProvider {
  readonly name: PaymentProviderName;
  createCheckout(request: CheckoutRequest): Promise<{ providerRef: string; checkoutUrl: string }>;
  refund(request: RefundRequest): Promise<{ refundRef: string }>;
  /** Closes an open checkout once our hold has ended, so nobody pays for seats that are gone (best effort: a payment may already be on its way). */
  expireCheckout(providerRef: string): Promise<void>;
  /**
   * Verifies a webhook request (signature over the exact body, timestamp within tolerance) and
   * normalises it: an event, or null for a verified event we do not act on. Throws ApiError
   * PAYMENT_SIGNATURE_INVALID (400) when it does not verify.
   */
  verifyWebhook(request: Request): Promise<VerifiedPaymentEvent | null>;
}

/**
 * The provider refused or failed a call. `definite`: it certainly did nothing (a refusal), so what
 * we reserved may be let go; otherwise the outcome is unknown (a timeout, a 5xx) and a retry with
 * the same idempotency key is the only safe next step.
 */
export class PaymentProviderError extends Error {
  constructor(
    message: string,
    readonly definite: boolean,
  ) {
    super(message);
    this.name = "PaymentProviderError";
  }
}

/** How far a webhook's signed timestamp may be from now: Stripe's default, used for both providers. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
