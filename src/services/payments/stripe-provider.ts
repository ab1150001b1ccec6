/**
 * Stripe, through the official `stripe` package on Workers (its fetch HTTP client and SubtleCrypto
 * webhook verification, `constructEventAsync`).
 *
 * Checkout Sessions, not bare PaymentIntents: the customer pays on Stripe's hosted page (cards,
 * wallets, 3-D Secure, receipts) and our pages stay free of Stripe.js, so their strict CSP
 * (script-src 'self', connect-src 'self') holds and no card data ever touches this service; the
 * same `checkoutUrl` contract fits the local provider's page. A Checkout Session lives at least 30
 * minutes (Stripe's minimum `expires_at`), longer than our hold (15 minutes by default): our hold
 * decides. When it ends we expire the session (`expireCheckout`), and money that still arrives
 * after it is recorded and refunded in full (src/domain/payments.ts, `refund_late`).
 *
 * What is sent is the server's: amount and currency from the payment row, our idempotency key as
 * Stripe's `Idempotency-Key`, `metadata.paymentId` on the session and on its PaymentIntent (so
 * PaymentIntent and charge events name the payment too), `client_reference_id` likewise. Webhook
 * events used (https://docs.stripe.com/api/events/types): checkout.session.completed and
 * async_payment_succeeded (paid), payment_intent.payment_failed and
 * checkout.session.async_payment_failed (declined), checkout.session.expired (expired),
 * charge.refunded (the running total refunded). Anything else is verified and ignored.
 */
import Stripe from "stripe";
import { ApiError } from "../../errors";
import { type CheckoutRequest, PaymentProviderError, type PaymentProvider, type RefundRequest, type VerifiedPaymentEvent, WEBHOOK_TOLERANCE_SECONDS } from "./provider";

/** Stripe's bounds on a Checkout Session's `expires_at`: 30 minutes to 24 hours after creation (a minute's margin each side for clocks). */
const MIN_SESSION_MS = 31 * 60_000;
const MAX_SESSION_MS = 24 * 3_600_000 - 60_000;

export interface StripeOptions {
  secretKey: string;
  webhookSecret: string;
}

export class StripeProvider implements PaymentProvider {
  readonly name = "stripe" as const;
  private readonly stripe: Stripe;
  private readonly crypto = Stripe.createSubtleCryptoProvider();

  /** `fetcher` replaces the network (tests answer with Stripe's documented shapes). */
  constructor(
    private readonly options: StripeOptions,
    fetcher: typeof fetch = fetch,
  ) {
    this.stripe = new Stripe(options.secretKey, {
      // Called unbound: the Workers runtime refuses `fetch` invoked as a method of another object.
      httpClient: Stripe.createFetchHttpClient((input, init) => fetcher(input, init)),
      // Every write carries an idempotency key, so the SDK's own retry of a lost answer is safe.
      maxNetworkRetries: 1,
      timeout: 15_000,
    });
  }

  async createCheckout(request: CheckoutRequest): Promise<{ providerRef: string; checkoutUrl: string }> {
    // From the row's creation, not from now, so a retried start sends identical parameters (Stripe refuses a key reused with others).
    const expiresAt = Math.min(Math.max(request.expiresAt, request.createdAt + MIN_SESSION_MS), request.createdAt + MAX_SESSION_MS);
    const metadata = { paymentId: request.paymentId };
    const session = await this.call(() =>
      this.stripe.checkout.sessions.create(
        {
          mode: "payment",
          line_items: [{ quantity: 1, price_data: { currency: request.currency.toLowerCase(), unit_amount: request.amountPence, product_data: { name: request.description } } }],
          customer_email: request.customerEmail,
          client_reference_id: request.paymentId,
          metadata,
          payment_intent_data: { metadata },
          expires_at: Math.floor(expiresAt / 1000),
          success_url: request.successUrl,
          cancel_url: request.cancelUrl,
        },
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    if (!session.url) throw new PaymentProviderError(`Stripe answered checkout session ${session.id} without a url`, false);
    return { providerRef: session.id, checkoutUrl: session.url };
  }

  async refund(request: RefundRequest): Promise<{ refundRef: string }> {
    const paymentIntent = request.providerPaymentRef ?? (await this.paymentIntentOf(request.providerRef));
    const refund = await this.call(() =>
      this.stripe.refunds.create(
        { payment_intent: paymentIntent, amount: request.amountPence, metadata: { paymentId: request.paymentId, reason: request.reason.slice(0, 500) } },
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    if (refund.status === "failed" || refund.status === "canceled") throw new PaymentProviderError(`Stripe refund ${refund.id} is ${refund.status}`, true);
    return { refundRef: refund.id };
  }

  async expireCheckout(providerRef: string): Promise<void> {
    try {
      await this.stripe.checkout.sessions.expire(providerRef);
    } catch (error) {
      // Already complete or expired: nothing left to close.
      if (error instanceof Stripe.errors.StripeInvalidRequestError) return;
      throw toProviderError(error);
    }
  }

  async verifyWebhook(request: Request): Promise<VerifiedPaymentEvent | null> {
    const header = request.headers.get("Stripe-Signature");
    if (!header) throw invalidSignature("there is no Stripe-Signature header");
    // The raw text, never re-serialised JSON: the signature covers these exact bytes.
    const body = await request.text();
    let event: Stripe.Event;
    try {
      event = await this.stripe.webhooks.constructEventAsync(body, header, this.options.webhookSecret, WEBHOOK_TOLERANCE_SECONDS, this.crypto);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError || error instanceof SyntaxError) throw invalidSignature(error.message);
      throw error;
    }
    return normalise(event);
  }

  private async paymentIntentOf(sessionId: string): Promise<string> {
    const session = await this.call(() => this.stripe.checkout.sessions.retrieve(sessionId));
    const intent = idOf(session.payment_intent);
    if (!intent) throw new PaymentProviderError(`Stripe checkout session ${sessionId} has no payment to refund`, true);
    return intent;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toProviderError(error);
    }
  }
}

/** A refusal (bad request, card, key, permission) did nothing; a timeout, rate limit, 5xx or idempotency clash may be retried with the same key. */
function toProviderError(error: unknown): PaymentProviderError {
  const { errors } = Stripe;
  const definite =
    error instanceof errors.StripeInvalidRequestError ||
    error instanceof errors.StripeCardError ||
    error instanceof errors.StripeAuthenticationError ||
    error instanceof errors.StripePermissionError;
  const message = error instanceof Error ? error.message : String(error);
  return new PaymentProviderError(`Stripe: ${message}`, definite);
}

function invalidSignature(why: string): ApiError {
  return new ApiError("PAYMENT_SIGNATURE_INVALID", `The Stripe webhook could not be verified: ${why}`);
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}

/** Stripe's event as ours, or null for what we do not act on (an unpaid completion waits for its async result). */
export function normalise(event: Stripe.Event): VerifiedPaymentEvent | null {
  const base = { provider: "stripe" as const, eventId: event.id };
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
    case "checkout.session.async_payment_failed":
    case "checkout.session.expired": {
      const session = event.data.object;
      const refs = {
        paymentId: session.metadata?.paymentId ?? session.client_reference_id ?? null,
        providerRef: session.id,
        providerPaymentRef: idOf(session.payment_intent),
        amountPence: session.amount_total ?? 0,
        currency: (session.currency ?? "").toUpperCase(),
      };
      if (event.type === "checkout.session.expired") return { ...base, ...refs, kind: "payment_expired", reason: "expired" };
      if (event.type === "checkout.session.async_payment_failed") return { ...base, ...refs, kind: "payment_failed" };
      // A completion by a delayed method (bank debit) is `unpaid` until async_payment_succeeded.
      return session.payment_status === "paid" ? { ...base, ...refs, kind: "payment_succeeded" } : null;
    }
    case "payment_intent.payment_failed": {
      const intent = event.data.object;
      return {
        ...base,
        kind: "payment_failed",
        paymentId: intent.metadata?.paymentId ?? null,
        providerRef: null,
        providerPaymentRef: intent.id,
        amountPence: intent.amount,
        currency: intent.currency.toUpperCase(),
      };
    }
    case "charge.refunded": {
      const charge = event.data.object;
      return {
        ...base,
        kind: "refund_succeeded",
        paymentId: charge.metadata?.paymentId ?? null,
        providerRef: null,
        providerPaymentRef: idOf(charge.payment_intent),
        amountPence: charge.amount_refunded,
        currency: charge.currency.toUpperCase(),
      };
    }
    default:
      return null;
  }
}
