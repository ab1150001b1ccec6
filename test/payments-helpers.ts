/** Shared by the payments tests: a recording stand-in for Stripe's API, Stripe-format events, and calls with settings of their own. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import worker from "../src/index";
import { startPayment, type StartPaymentInput } from "../src/services/payments/payments";
import type { PaymentProvider } from "../src/services/payments/provider";
import { StripeProvider } from "../src/services/payments/stripe-provider";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { unique } from "./helpers";

export const STRIPE_SETTINGS = { STRIPE_SECRET_KEY: "sk_test_51PaymentsTestKey", STRIPE_WEBHOOK_SECRET: "whsec_paymentsTestSigningSecret" };

export interface SeenRequest {
  url: string;
  method: string;
  headers: Headers;
  form: URLSearchParams;
}

/** A fetch that records what the SDK sends and answers with `answer`'s JSON (Stripe's documented object shapes). */
export function fakeStripeApi(answer: (request: SeenRequest) => { status?: number; body: unknown }) {
  const seen: SeenRequest[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const recorded = { url: request.url, method: request.method, headers: request.headers, form: new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer())) };
    seen.push(recorded);
    const { status = 200, body } = answer(recorded);
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", "Request-Id": `req_${unique()}` } });
  };
  return { seen, provider: new StripeProvider({ secretKey: STRIPE_SETTINGS.STRIPE_SECRET_KEY, webhookSecret: STRIPE_SETTINGS.STRIPE_WEBHOOK_SECRET }, fetcher) };
}

/** Stripe's Checkout Session object as its API answers `POST /v1/checkout/sessions` (trimmed to the fields that matter here). */
export function checkoutSessionObject(form: URLSearchParams, id = `cs_test_${unique()}${unique()}`) {
  return {
    id,
    object: "checkout.session",
    amount_total: Number(form.get("line_items[0][price_data][unit_amount]")),
    currency: form.get("line_items[0][price_data][currency]"),
    client_reference_id: form.get("client_reference_id"),
    customer_email: form.get("customer_email"),
    expires_at: Number(form.get("expires_at")),
    livemode: false,
    metadata: { paymentId: form.get("metadata[paymentId]") },
    mode: "payment",
    payment_intent: null,
    payment_status: "unpaid",
    status: "open",
    success_url: form.get("success_url"),
    cancel_url: form.get("cancel_url"),
    url: `https://checkout.stripe.com/c/pay/${id}#fidkdWxOYHwnPyd1blpxYHZxWjA0`,
  };
}

/** A Stripe event envelope (https://docs.stripe.com/api/events/object). */
export function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_${unique()}${unique()}`) {
  return {
    id,
    object: "event",
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** A checkout.session.completed (or …expired) object for a session, paid by PaymentIntent `intent`. */
export function completedSession(sessionId: string, paymentId: string, amountPence: number, intent: string, paymentStatus = "paid") {
  return {
    id: sessionId,
    object: "checkout.session",
    amount_total: amountPence,
    currency: "gbp",
    client_reference_id: paymentId,
    metadata: { paymentId },
    mode: "payment",
    payment_intent: intent,
    payment_status: paymentStatus,
    status: "complete",
  };
}

/** Signs `payload` as Stripe does (the SDK's test helper), optionally at another time. */
export async function stripeSignature(payload: string, options: { secret?: string; timestamp?: number } = {}) {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? STRIPE_SETTINGS.STRIPE_WEBHOOK_SECRET,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
}

/** A request through the Worker with some settings replaced. */
export async function callWith(settings: Record<string, string>, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://localhost${path}`, { method, headers: init.headers, body: init.body }), { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  const json = response.headers.get("Content-Type")?.includes("json") && text ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, text, json };
}

/** Starts a payment for a made-up booking (payments do not need the booking row). */
export async function startTestPayment(provider?: PaymentProvider, overrides: Partial<StartPaymentInput> = {}) {
  const input: StartPaymentInput = {
    bookingId: `bkg_test_${unique()}${unique()}`,
    amountPence: 2500,
    currency: "GBP",
    description: "Wheel basics, 1 seat",
    email: `payer-${unique()}@example.test`,
    expiresAt: Date.now() + 15 * 60_000,
    origin: "http://localhost",
    successPath: "/bookings/done?token=abc",
    cancelPath: "/classes/cls_x",
    ...overrides,
  };
  return { input, started: await startPayment(env, input, provider) };
}

/**
 * A booking made through the booking API (an at-studio class, so it starts unpaid), for the admin
 * payment routes.
 */
export async function bookedClass(pricePence = 2500, options: { guestCount?: number } = {}) {
  const { session, klass } = await makeBookableSession({ capacity: 10, pricePence });
  const email = uniqueEmail("refund");
  const guestCount = options.guestCount ?? 1;
  const booked = await postBooking(singleBookingBody(session.id, pricePence, { guestCount, contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  if (booked.status !== 201) throw new Error(`booking failed: ${booked.status} ${booked.text}`);
  return { bookingId: booked.json.booking.id as string, manageToken: booked.json.manageToken as string, email, session, klass, totalPence: pricePence * guestCount };
}

/** A booking paid online: a local checkout for its total (startPayment, the booking's id as the payment's) paid through the dev checkout. */
export async function bookedAndPaidOnline(pricePence = 2500, options: { guestCount?: number } = {}) {
  const booking = await bookedClass(pricePence, options);
  const { paymentId } = await payOnline(booking.bookingId, booking.totalPence, booking.email);
  return { ...booking, paymentId };
}

/** Another paid local payment for a booking (a move's price difference is one), under its own key. */
export async function payOnline(bookingId: string, amountPence: number, email = `payer-${unique()}@example.test`, key?: string) {
  const { started } = await startTestPayment(undefined, { bookingId, amountPence, email, ...(key && { idempotencyKey: key }) });
  const ctx = createExecutionContext();
  const paid = await worker.fetch(new Request(`http://localhost/api/v1/dev/checkout/${started.id}/pay`, { method: "POST" }), env, ctx);
  await waitOnExecutionContext(ctx);
  const outcome = (await paid.json()) as { action: string };
  if (outcome.action !== "confirm") throw new Error(`payment not confirmed: ${JSON.stringify(outcome)}`);
  return { paymentId: started.id };
}
