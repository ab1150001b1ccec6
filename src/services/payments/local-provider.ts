/**
 * The local payment provider (PAYMENT_PROVIDER local, development only; the config refuses it
 * elsewhere): no internet, no money. Its checkout is a page on this Worker
 * (`/dev/checkout/{paymentId}`, src/routes/dev-checkout.tsx) whose Pay, Decline and Cancel buttons
 * make the event a provider would send, signed, and hand it to the same webhook handler as
 * Stripe's (src/services/payments/settle.ts). The signature is Stripe's scheme with our own key:
 * `Local-Payment-Signature: t=<unix seconds>,v1=<base64url HMAC-SHA-256 of "<t>.<body>">`, the key
 * derived from JWT_SECRET for this purpose only (src/lib/tokens.ts), so nothing outside the Worker
 * can forge a payment and an old signature is refused like Stripe's.
 */
import { z } from "zod";
import { PAYMENT_EVENT_KINDS } from "../../domain/payments";
import { ApiError } from "../../errors";
import { type Keyring, purposeKey, secretsOf } from "../../lib/tokens";
import { type CheckoutRequest, type PaymentProvider, type RefundRequest, type VerifiedPaymentEvent, WEBHOOK_TOLERANCE_SECONDS } from "./provider";

export const LOCAL_SIGNATURE_HEADER = "Local-Payment-Signature";
const PURPOSE = "local-payment-webhook";
const encoder = new TextEncoder();

/** The path of a payment's local checkout page. */
export function localCheckoutPath(paymentId: string): string {
  return `/dev/checkout/${encodeURIComponent(paymentId)}`;
}

const LocalEventSchema = z.object({
  id: z.string().min(1).max(100),
  kind: z.enum(PAYMENT_EVENT_KINDS),
  paymentId: z.string().min(1).max(64),
  providerRef: z.string().max(100).nullable(),
  amountPence: z.number().int().min(0),
  currency: z.string().length(3),
  reason: z.enum(["expired", "cancelled"]).optional(),
});

export type LocalEvent = z.infer<typeof LocalEventSchema>;

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The bytes of a base64url text, or null when it is not one (never a throw: the header is the caller's). */
function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

export class LocalPaymentProvider implements PaymentProvider {
  readonly name = "local" as const;

  constructor(
    private readonly keys: Keyring,
    private readonly now: () => number = Date.now,
  ) {}

  /** The page lives on the service the customer comes back to. */
  async createCheckout(request: CheckoutRequest): Promise<{ providerRef: string; checkoutUrl: string }> {
    const origin = new URL(request.successUrl).origin;
    const url = new URL(localCheckoutPath(request.paymentId), origin);
    url.searchParams.set("success", pathOn(origin, request.successUrl));
    url.searchParams.set("cancel", pathOn(origin, request.cancelUrl));
    return { providerRef: `local_${request.paymentId}`, checkoutUrl: url.toString() };
  }

  /** Nothing to move: the refund is as final as our record of it. */
  async refund(request: RefundRequest): Promise<{ refundRef: string }> {
    return { refundRef: `local_${request.idempotencyKey}` };
  }

  /** The page reads the payment from D1, so a closed payment already shows as closed there. */
  async expireCheckout(): Promise<void> {}

  /** A signed webhook request carrying `event`, as the provider would send it. */
  async signedRequest(url: string, event: LocalEvent, timestamp = Math.floor(this.now() / 1000)): Promise<Request> {
    const body = JSON.stringify(event);
    const signature = await this.sign(this.keys.current, `${timestamp}.${body}`);
    return new Request(url, { method: "POST", headers: { "Content-Type": "application/json", [LOCAL_SIGNATURE_HEADER]: `t=${timestamp},v1=${signature}` }, body });
  }

  async verifyWebhook(request: Request): Promise<VerifiedPaymentEvent | null> {
    const header = request.headers.get(LOCAL_SIGNATURE_HEADER) ?? "";
    const match = /^t=(\d{1,12}),v1=([A-Za-z0-9_-]+)$/.exec(header);
    if (!match) throw invalidSignature(`there is no ${LOCAL_SIGNATURE_HEADER} header of the form t=…,v1=…`);
    const timestamp = Number(match[1]);
    if (Math.abs(this.now() / 1000 - timestamp) > WEBHOOK_TOLERANCE_SECONDS) throw invalidSignature("its timestamp is outside the tolerance zone");
    const body = await request.text();
    const signature = fromBase64url(match[2]!);
    let verified = false;
    for (const secret of secretsOf(this.keys)) {
      const key = await purposeKey(secret, PURPOSE);
      if (signature && (await crypto.subtle.verify("HMAC", key, signature, encoder.encode(`${timestamp}.${body}`)))) verified = true;
    }
    if (!verified) throw invalidSignature("no signature matches the body");
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw invalidSignature("the signed body is not JSON");
    }
    const event = LocalEventSchema.safeParse(json);
    if (!event.success) throw invalidSignature("the signed body is not a local payment event");
    const { id, kind, paymentId, providerRef, amountPence, currency, reason } = event.data;
    const normalised: VerifiedPaymentEvent = { provider: "local", eventId: id, kind, paymentId, providerRef, providerPaymentRef: providerRef, amountPence, currency };
    return reason === undefined ? normalised : { ...normalised, reason };
  }

  private async sign(secret: string, message: string): Promise<string> {
    return base64url(await crypto.subtle.sign("HMAC", await purposeKey(secret, PURPOSE), encoder.encode(message)));
  }
}

/** The path (and query) of `url` when it is on `origin`; `/` otherwise, so the page never sends anyone elsewhere. */
function pathOn(origin: string, url: string): string {
  const parsed = new URL(url);
  return parsed.origin === origin ? `${parsed.pathname}${parsed.search}` : "/";
}

function invalidSignature(why: string): ApiError {
  return new ApiError("PAYMENT_SIGNATURE_INVALID", `The local payment webhook could not be verified: ${why}`);
}
