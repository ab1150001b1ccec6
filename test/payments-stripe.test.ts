/**
 * The Stripe provider against Stripe's documented formats: what the SDK sends for a Checkout
 * Session and a refund (through a recording fetch HTTP client), webhook signatures made by the
 * SDK's own test helper (accepted; tampered, old or foreign ones refused), the events mapped, and
 * the webhook route end to end: paid once, replays and reordered refunds counted once.
 */
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { closeCheckout, getPayment, handleVerifiedEvent } from "../src/services/payments/payments";
import { refundInFull, refundPayment, systemRefundId } from "../src/services/payments/refunds";
import { normalise } from "../src/services/payments/stripe-provider";
import { callWith, checkoutSessionObject, completedSession, fakeStripeApi, STRIPE_SETTINGS, startTestPayment, stripeEvent, stripeSignature } from "./payments-helpers";
import { unique } from "./helpers";

const db = getDb(env.DB);

/** A Stripe payment in D1 whose checkout session the fake API created. */
async function stripePayment(overrides: Parameters<typeof startTestPayment>[1] = {}) {
  const api = fakeStripeApi(({ form }) => ({ body: checkoutSessionObject(form) }));
  const { input, started } = await startTestPayment(api.provider, overrides);
  const sessionId = new URL(started.checkoutUrl).pathname.split("/").pop()!;
  return { api, input, started, sessionId };
}

async function postStripe(payload: string, signature: string, settings: Record<string, string> = STRIPE_SETTINGS) {
  return callWith(settings, "POST", "/api/v1/payments/webhooks/stripe", { headers: { "Content-Type": "application/json", "Stripe-Signature": signature }, body: payload });
}

describe("the Stripe provider's requests", () => {
  it("creates a Checkout Session for the server's amount, with our idempotency key and metadata, once", async () => {
    const { api, input, started, sessionId } = await stripePayment();
    expect(api.seen).toHaveLength(1);
    const [request] = api.seen;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("https://api.stripe.com/v1/checkout/sessions");
    expect(request!.headers.get("Authorization")).toBe(`Bearer ${STRIPE_SETTINGS.STRIPE_SECRET_KEY}`);
    expect(request!.headers.get("Idempotency-Key")).toBe(`checkout:${input.bookingId}`);
    expect(request!.headers.get("Stripe-Version")).toBe(Stripe.API_VERSION);
    const form = Object.fromEntries(request!.form);
    expect(form).toMatchObject({
      mode: "payment",
      "line_items[0][quantity]": "1",
      "line_items[0][price_data][unit_amount]": "2500",
      "line_items[0][price_data][currency]": "gbp",
      "line_items[0][price_data][product_data][name]": "Wheel basics, 1 seat",
      "metadata[paymentId]": started.id,
      "payment_intent_data[metadata][paymentId]": started.id,
      client_reference_id: started.id,
      customer_email: input.email,
      success_url: "http://localhost/bookings/done?token=abc",
      cancel_url: "http://localhost/classes/cls_x",
    });
    // Our hold is 15 minutes; Stripe's page must live at least 30, counted from the payment's creation.
    const payment = await getPayment(db, started.id);
    const expiresAt = Number(form.expires_at) * 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(Date.parse(payment.createdAt) + 30 * 60_000);
    expect(expiresAt).toBeLessThan(Date.parse(payment.createdAt) + 32 * 60_000);
    expect(started).toMatchObject({ status: "pending", checkoutUrl: expect.stringContaining(`https://checkout.stripe.com/c/pay/${sessionId}`), expiresAt: new Date(input.expiresAt).toISOString() });
    expect(payment).toMatchObject({ provider: "stripe", amountPence: 2500, currency: "GBP", status: "pending" });

    // Starting again with the same booking: the same payment, nothing asked of Stripe.
    const again = await startTestPayment(api.provider, input);
    expect(again.started).toEqual(started);
    expect(api.seen).toHaveLength(1);
  });

  it("answers PAYMENT_UNAVAILABLE when Stripe fails, and asks again with identical parameters", async () => {
    const failing = fakeStripeApi(() => ({ status: 500, body: { error: { type: "api_error", message: "Something went wrong" } } }));
    const bookingId = `bkg_test_${unique()}`;
    const email = `retry-${unique()}@example.test`;
    await expect(startTestPayment(failing.provider, { bookingId, email })).rejects.toMatchObject({ code: "PAYMENT_UNAVAILABLE", status: 503 });
    const [unpaid] = await env.DB.prepare("SELECT status, provider_ref FROM payments WHERE booking_id = ?").bind(bookingId).raw();
    expect(unpaid).toEqual(["unpaid", null]);
    const { api, started } = await stripePayment({ bookingId, email });
    expect(started.status).toBe("pending");
    const first = failing.seen[0]!;
    const retry = api.seen[0]!;
    expect(retry.headers.get("Idempotency-Key")).toBe(first.headers.get("Idempotency-Key"));
    expect(retry.form.toString()).toBe(first.form.toString());
  });

  it("refunds against the PaymentIntent, keyed by the refund's id", async () => {
    const { sessionId, started } = await stripePayment();
    await handleVerifiedEvent(db, normalise(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_refundme")) as unknown as Stripe.Event)!);
    const api = fakeStripeApi(({ form }) => ({
      body: { id: `re_test_${unique()}`, object: "refund", amount: Number(form.get("amount")), currency: "gbp", payment_intent: form.get("payment_intent"), status: "succeeded", metadata: {} },
    }));
    const result = await refundPayment(env, { paymentId: started.id, amountPence: 1000, reason: "wrong date", requestedBy: "staff:ops@example.test" }, api.provider);
    expect(api.seen).toHaveLength(1);
    const [request] = api.seen;
    expect(request!.url).toBe("https://api.stripe.com/v1/refunds");
    expect(request!.headers.get("Idempotency-Key")).toBe(result.refund.id);
    expect(Object.fromEntries(request!.form)).toMatchObject({ payment_intent: "pi_test_refundme", amount: "1000", "metadata[paymentId]": started.id });
    expect(result.refund).toMatchObject({ status: "succeeded", amountPence: 1000, providerRef: expect.stringMatching(/^re_test_/) });
    expect(result.payment).toMatchObject({ status: "partially_refunded", refundedPence: 1000 });
  });

  it("refunds a payment made after its hold in full, once", async () => {
    const { sessionId, started } = await stripePayment({ expiresAt: Date.now() - 1000 });
    const outcome = await handleVerifiedEvent(db, normalise(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_late")) as unknown as Stripe.Event)!);
    expect(outcome).toMatchObject({ action: "refund_late", note: "paid_late", payment: { status: "paid", paidPence: 2500 } });
    const api = fakeStripeApi(({ form }) => ({ body: { id: `re_test_${unique()}`, object: "refund", amount: Number(form.get("amount")), currency: "gbp", status: "succeeded", metadata: {} } }));
    const refunded = await refundInFull(env, started.id, "paid after the hold", api.provider);
    expect(refunded?.refund).toMatchObject({ id: systemRefundId(started.id), amountPence: 2500, requestedBy: "system", status: "succeeded" });
    expect(api.seen[0]!.headers.get("Idempotency-Key")).toBe(systemRefundId(started.id));
    expect(refunded?.payment.status).toBe("refunded");
    // Asked again (a redelivered event): the same refund, no second request.
    const again = await refundInFull(env, started.id, "paid after the hold", api.provider);
    expect(again?.refund.id).toBe(refunded?.refund.id);
    expect(api.seen).toHaveLength(1);
  });
});

describe("closing a checkout when its hold ends", () => {
  it("fails the payment as expired, expires the Stripe session, and refunds money that comes anyway", async () => {
    const { sessionId, started } = await stripePayment();
    const api = fakeStripeApi(({ url }) => ({ body: { id: sessionId, object: "checkout.session", status: "expired", url: null, _seen: url } }));
    const closed = await closeCheckout(env, started.id, { provider: api.provider });
    expect(closed).toMatchObject({ action: "release", duplicate: false, payment: { status: "failed", closedReason: "expired" } });
    expect(api.seen.map((request) => `${request.method} ${request.url}`)).toEqual([`POST https://api.stripe.com/v1/checkout/sessions/${sessionId}/expire`]);
    expect((await closeCheckout(env, started.id, { provider: api.provider })).duplicate).toBe(true);
    const late = await handleVerifiedEvent(db, normalise(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_after_close")) as unknown as Stripe.Event)!);
    expect(late).toMatchObject({ action: "refund_late", payment: { status: "paid", closedReason: "expired" } });
  });

  it("leaves a paid payment as it is, and shrugs off a session Stripe already completed", async () => {
    const { sessionId, started } = await stripePayment();
    await handleVerifiedEvent(db, normalise(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_paid")) as unknown as Stripe.Event)!);
    const api = fakeStripeApi(() => ({ status: 400, body: { error: { type: "invalid_request_error", message: "This Checkout Session is already complete." } } }));
    expect(await closeCheckout(env, started.id, { provider: api.provider })).toMatchObject({ action: "none", payment: { status: "paid" } });
    expect(api.seen).toHaveLength(0);
    const open = await stripePayment();
    expect((await closeCheckout(env, open.started.id, { provider: api.provider })).action).toBe("release");
    expect(api.seen).toHaveLength(1);
  });
});

describe("Stripe's webhook signatures", () => {
  const { provider } = fakeStripeApi(() => ({ body: {} }));
  const payload = JSON.stringify(stripeEvent("checkout.session.expired", { id: "cs_test_sig", object: "checkout.session", amount_total: 2500, currency: "gbp", metadata: { paymentId: "pay_sig" } }));
  const request = (body: string, signature: string | null) =>
    new Request("http://localhost/api/v1/payments/webhooks/stripe", { method: "POST", headers: signature ? { "Stripe-Signature": signature } : {}, body });

  it("accepts a payload the SDK's test helper signed, and normalises it", async () => {
    const event = await provider.verifyWebhook(request(payload, await stripeSignature(payload)));
    expect(event).toMatchObject({ provider: "stripe", kind: "payment_expired", reason: "expired", paymentId: "pay_sig", providerRef: "cs_test_sig", amountPence: 2500, currency: "GBP" });
  });

  it("refuses a tampered body, an old timestamp, another secret and no signature", async () => {
    const signature = await stripeSignature(payload);
    const tampered = payload.replace('"amount_total":2500', '"amount_total":1');
    const old = await stripeSignature(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    const foreign = await stripeSignature(payload, { secret: "whsec_someoneElse" });
    for (const [body, header] of [[tampered, signature], [payload, old], [payload, foreign], [payload, null]] as const) {
      await expect(provider.verifyWebhook(request(body, header))).rejects.toMatchObject({ code: "PAYMENT_SIGNATURE_INVALID", status: 400 });
    }
  });

  it("maps the events it acts on and ignores the rest", () => {
    const paymentId = "pay_map";
    const map = (type: string, object: Record<string, unknown>) => normalise(stripeEvent(type, object) as unknown as Stripe.Event);
    expect(map("checkout.session.completed", completedSession("cs_1", paymentId, 2500, "pi_1"))).toMatchObject({ kind: "payment_succeeded", paymentId, providerRef: "cs_1", providerPaymentRef: "pi_1" });
    expect(map("checkout.session.completed", completedSession("cs_1", paymentId, 2500, "pi_1", "unpaid"))).toBeNull();
    expect(map("checkout.session.async_payment_succeeded", completedSession("cs_1", paymentId, 2500, "pi_1"))).toMatchObject({ kind: "payment_succeeded" });
    expect(map("checkout.session.async_payment_failed", completedSession("cs_1", paymentId, 2500, "pi_1", "unpaid"))).toMatchObject({ kind: "payment_failed" });
    expect(map("payment_intent.payment_failed", { id: "pi_1", object: "payment_intent", amount: 2500, currency: "gbp", metadata: { paymentId } })).toMatchObject({ kind: "payment_failed", paymentId, providerPaymentRef: "pi_1" });
    expect(map("charge.refunded", { id: "ch_1", object: "charge", amount: 2500, amount_refunded: 700, currency: "gbp", payment_intent: "pi_1", metadata: {} })).toMatchObject({ kind: "refund_succeeded", paymentId: null, providerPaymentRef: "pi_1", amountPence: 700 });
    expect(map("customer.created", { id: "cus_1", object: "customer" })).toBeNull();
  });
});

describe("POST /api/v1/payments/webhooks/stripe", () => {
  it("marks the payment paid once: a replay is a 200 duplicate and changes nothing", async () => {
    const { sessionId, started } = await stripePayment();
    const payload = JSON.stringify(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_route")));
    const first = await postStripe(payload, await stripeSignature(payload));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ received: true, duplicate: false });
    const paid = await getPayment(db, started.id);
    expect(paid).toMatchObject({ status: "paid", paidPence: 2500 });
    const replay = await postStripe(payload, await stripeSignature(payload));
    expect(replay.json).toEqual({ received: true, duplicate: true });
    expect(await getPayment(db, started.id)).toEqual(paid);
    const [events] = await env.DB.prepare("SELECT count(*) FROM payment_events WHERE payment_id = ?").bind(started.id).raw();
    expect(events).toEqual([1]);
  });

  it("folds refund events in any order, found by their PaymentIntent", async () => {
    const { sessionId, started } = await stripePayment();
    const send = async (type: string, object: Record<string, unknown>) => {
      const payload = JSON.stringify(stripeEvent(type, object));
      return postStripe(payload, await stripeSignature(payload));
    };
    expect((await send("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_fold"))).status).toBe(200);
    const charge = (refunded: number) => ({ id: "ch_test_fold", object: "charge", amount: 2500, amount_refunded: refunded, currency: "gbp", payment_intent: "pi_test_fold", metadata: {} });
    await send("charge.refunded", charge(1500));
    await send("charge.refunded", charge(600)); // an older event, delivered late
    expect(await getPayment(db, started.id)).toMatchObject({ status: "partially_refunded", refundedPence: 1500 });
    await send("charge.refunded", charge(2500));
    expect(await getPayment(db, started.id)).toMatchObject({ status: "refunded", refundedPence: 2500 });
    // A decline arriving after all that changes nothing.
    await send("payment_intent.payment_failed", { id: "pi_test_fold", object: "payment_intent", amount: 2500, currency: "gbp", metadata: { paymentId: started.id } });
    expect(await getPayment(db, started.id)).toMatchObject({ status: "refunded", paidPence: 2500 });
  });

  it("answers 400 PAYMENT_SIGNATURE_INVALID to a bad signature and changes nothing", async () => {
    const { sessionId, started } = await stripePayment();
    const payload = JSON.stringify(stripeEvent("checkout.session.completed", completedSession(sessionId, started.id, 2500, "pi_test_bad")));
    const forged = await postStripe(payload, await stripeSignature(payload, { secret: "whsec_attacker" }));
    expect(forged.status).toBe(400);
    expect(forged.json.error.code).toBe("PAYMENT_SIGNATURE_INVALID");
    const unsigned = await postStripe(payload, "");
    expect(unsigned.status).toBe(400);
    expect((await getPayment(db, started.id)).status).toBe("pending");
  });

  it("acknowledges an event for no payment of ours, and is off (404) without Stripe's secrets", async () => {
    const payload = JSON.stringify(stripeEvent("checkout.session.completed", completedSession("cs_test_unknown", "pay_nobody", 2500, "pi_x")));
    const unknown = await postStripe(payload, await stripeSignature(payload));
    expect(unknown.status).toBe(200);
    const off = await postStripe(payload, await stripeSignature(payload), {});
    expect(off.status).toBe(404);
    const nobody = await callWith(STRIPE_SETTINGS, "POST", "/api/v1/payments/webhooks/paypal", { body: payload });
    expect(nobody.status).toBe(404);
  });
});
