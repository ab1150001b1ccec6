/**
 * The local payment provider end to end through the routes: its checkout page, Pay, Decline and
 * Cancel as JSON and as forms, the signed webhook route they share, duplicates and replays, money
 * after a cancelled checkout refunded, racing events applied once (with a control), and all of it
 * gone outside development.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf, ConfigError, parseConfig } from "../src/config";
import { getDb } from "../src/db/client";
import { payments } from "../src/db/schema";
import { applyPaymentEvent } from "../src/domain/payments";
import { checkoutProvider } from "../src/services/payments/factory";
import { LocalPaymentProvider } from "../src/services/payments/local-provider";
import { getPayment } from "../src/services/payments/payments";
import { columnsOf, factsOf, requirePayment } from "../src/services/payments/records";
import { eq } from "drizzle-orm";
import { call } from "./helpers";
import { callWith, fakeStripeApi, startTestPayment } from "./payments-helpers";

const db = getDb(env.DB);
const PRODUCTION = { ENVIRONMENT: "production" };

const act = (id: string, action: "pay" | "decline" | "cancel") => call("POST", `/api/v1/dev/checkout/${id}/${action}`);

async function localPayment(overrides: Parameters<typeof startTestPayment>[1] = {}) {
  return (await startTestPayment(undefined, overrides)).started;
}

const eventCount = async (paymentId: string) => (await env.DB.prepare("SELECT count(*) AS n FROM payment_events WHERE payment_id = ?").bind(paymentId).first<{ n: number }>())!.n;

describe("the local checkout", () => {
  it("opens a page on this Worker that shows the payment and offers Pay, Decline and Cancel as forms", async () => {
    const started = await localPayment();
    const url = new URL(started.checkoutUrl);
    expect(url.pathname).toBe(`/dev/checkout/${started.id}`);
    expect(url.searchParams.get("success")).toBe("/bookings/done?token=abc");
    const page = await call("GET", url.pathname + url.search);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.headers.get("Content-Security-Policy")).toContain("form-action 'self'");
    expect(page.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(page.text.match(/<h1/g)).toHaveLength(1);
    expect(page.text).toContain("£25.00");
    for (const action of ["pay", "decline", "cancel"]) expect(page.text).toContain(`<form method="post" action="/dev/checkout/${started.id}/${action}"`);
    expect(page.text).toContain('name="success" value="/bookings/done?token=abc"');
    expect(page.text).not.toMatch(/<script(?![^>]*src="\/assets\/app\.js")/);
  });

  it("pays through the webhook's handler once: a second Pay changes nothing, a replayed delivery is a duplicate", async () => {
    const started = await localPayment();
    const first = await act(started.id, "pay");
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ action: "confirm", duplicate: false, payment: { id: started.id, status: "paid", paidPence: 2500 } });
    const second = await act(started.id, "pay");
    expect(second.json).toMatchObject({ action: "none", duplicate: false, payment: { status: "paid", paidAt: first.json.payment.paidAt } });
    expect(await eventCount(started.id)).toBe(2);

    // The same signed delivery twice, straight to the webhook route.
    const provider = new LocalPaymentProvider(configOf(env).keyring);
    const event = { id: `levt_replay_${started.id}`, kind: "refund_succeeded" as const, paymentId: started.id, providerRef: `local_${started.id}`, amountPence: 500, currency: "GBP" };
    const deliver = async () => {
      const request = await provider.signedRequest("http://localhost/api/v1/payments/webhooks/local", event);
      return call("POST", "/api/v1/payments/webhooks/local", { rawBody: await request.text(), headers: { "Local-Payment-Signature": request.headers.get("Local-Payment-Signature")! } });
    };
    expect((await deliver()).json).toEqual({ received: true, duplicate: false });
    expect((await deliver()).json).toEqual({ received: true, duplicate: true });
    expect(await getPayment(db, started.id)).toMatchObject({ status: "partially_refunded", refundedPence: 500 });
  });

  it("releases on Cancel, and refunds in full money that still arrives after it", async () => {
    const started = await localPayment();
    const cancelled = await act(started.id, "cancel");
    expect(cancelled.json).toMatchObject({ action: "release", payment: { status: "failed", closedReason: "cancelled", paidPence: 0 } });
    expect((await act(started.id, "cancel")).json).toMatchObject({ action: "none" });
    const page = await call("GET", `/dev/checkout/${started.id}`);
    expect(page.text).toContain("The checkout was cancelled.");
    expect(page.text).not.toContain(`action="/dev/checkout/${started.id}/pay"`);

    const late = await act(started.id, "pay");
    expect(late.json).toMatchObject({
      action: "refund_late",
      payment: { status: "refunded", paidPence: 2500, refundedPence: 2500 },
      refund: { amountPence: 2500, requestedBy: "system", status: "succeeded", reason: "paid after the seats' hold had ended" },
    });
    // Redelivered late payment: no second refund.
    expect((await act(started.id, "pay")).json).toMatchObject({ action: "none", payment: { refundedPence: 2500 } });
    const [refunds] = await env.DB.prepare("SELECT count(*) FROM refunds WHERE payment_id = ?").bind(started.id).raw();
    expect(refunds).toEqual([1]);
  });

  it("treats a payment after the hold's end as late even without a cancel", async () => {
    const started = await localPayment({ expiresAt: Date.now() - 1 });
    expect((await act(started.id, "pay")).json).toMatchObject({ action: "refund_late", payment: { status: "refunded", closedReason: "expired" } });
  });

  it("lets the customer pay after a declined card", async () => {
    const started = await localPayment();
    expect((await act(started.id, "decline")).json).toMatchObject({ action: "none", payment: { status: "failed", closedReason: "declined" } });
    expect((await call("GET", `/dev/checkout/${started.id}`)).text).toContain("The last attempt was declined.");
    expect((await act(started.id, "pay")).json).toMatchObject({ action: "confirm", payment: { status: "paid", closedReason: null } });
  });

  it("takes the page's forms and sends the customer back to the booking, only ever on this site", async () => {
    const paid = await localPayment();
    // Straight to the Worker's fetch, so the 303 is seen rather than followed.
    const form = (fields: Record<string, string>) => ({ body: new URLSearchParams(fields).toString(), headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    const pay = await callWith({}, "POST", `/dev/checkout/${paid.id}/pay`, form({ success: "/bookings/done?token=abc", cancel: "/classes/x" }));
    expect(pay.status).toBe(303);
    expect(pay.headers.get("Location")).toBe("/bookings/done?token=abc");
    expect((await getPayment(db, paid.id)).status).toBe("paid");

    const cancelled = await localPayment();
    const cancel = await callWith({}, "POST", `/dev/checkout/${cancelled.id}/cancel`, form({ success: "/x", cancel: "//evil.example/steal" }));
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get("Location")).toBe("/");

    const declined = await localPayment();
    const decline = await callWith({}, "POST", `/dev/checkout/${declined.id}/decline`, form({ success: "/done", cancel: "/back" }));
    expect(decline.headers.get("Location")).toBe(`/dev/checkout/${declined.id}?success=%2Fdone&cancel=%2Fback`);
    expect((await callWith({}, "POST", `/dev/checkout/${declined.id}/refund`, form({}))).status).toBe(404);
  });

  it("applies racing events for one payment once each (control: without the version guard they are lost or doubled)", async () => {
    const started = await localPayment();
    const results = await Promise.all(Array.from({ length: 6 }, () => act(started.id, "pay")));
    expect(results.map((result) => result.status)).toEqual(Array(6).fill(200));
    expect(results.filter((result) => result.json.action === "confirm")).toHaveLength(1);
    expect(await getPayment(db, started.id)).toMatchObject({ status: "paid", paidPence: 2500 });
    expect(await eventCount(started.id)).toBe(6);

    // Control: the same six successes applied read-modify-write without the guard all see "unpaid" and all confirm.
    const control = await localPayment();
    const naive = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const row = await requirePayment(db, control.id);
        const step = applyPaymentEvent(factsOf(row), { kind: "payment_succeeded", amountPence: 2500, currency: "GBP" }, Date.now());
        await db.update(payments).set(columnsOf(step.next)).where(eq(payments.id, control.id));
        return step.action;
      }),
    );
    expect(naive.filter((action) => action === "confirm").length).toBeGreaterThan(1);
  });

  it("refuses a forged or stale local webhook with 400, and an unknown payment with 404", async () => {
    const started = await localPayment();
    const body = JSON.stringify({ id: "levt_forged", kind: "payment_succeeded", paymentId: started.id, providerRef: `local_${started.id}`, amountPence: 2500, currency: "GBP" });
    const forged = await call("POST", "/api/v1/payments/webhooks/local", { rawBody: body, headers: { "Local-Payment-Signature": `t=${Math.floor(Date.now() / 1000)},v1=AAAA` } });
    expect(forged.status).toBe(400);
    expect(forged.json.error.code).toBe("PAYMENT_SIGNATURE_INVALID");
    const stale = await new LocalPaymentProvider(configOf(env).keyring).signedRequest("http://localhost/", JSON.parse(body), Math.floor(Date.now() / 1000) - 600);
    const old = await call("POST", "/api/v1/payments/webhooks/local", { rawBody: await stale.text(), headers: { "Local-Payment-Signature": stale.headers.get("Local-Payment-Signature")! } });
    expect(old.status).toBe(400);
    const unsigned = await call("POST", "/api/v1/payments/webhooks/local", { rawBody: body });
    expect(unsigned.status).toBe(400);
    const garbled = await call("POST", "/api/v1/payments/webhooks/local", { rawBody: body, headers: { "Local-Payment-Signature": `t=${Math.floor(Date.now() / 1000)},v1=A` } });
    expect(garbled.status).toBe(400);
    expect((await getPayment(db, started.id)).status).toBe("pending");
    expect((await act("pay_doesnotexist", "pay")).status).toBe(404);
  });
});

describe("outside development", () => {
  it("has no local checkout page, dev routes or local webhook (404), and no local checkout for a Stripe payment", async () => {
    const started = await localPayment();
    expect((await callWith(PRODUCTION, "GET", `/dev/checkout/${started.id}`)).status).toBe(404);
    expect((await callWith(PRODUCTION, "POST", `/dev/checkout/${started.id}/pay`)).status).toBe(404);
    const api = await callWith(PRODUCTION, "POST", `/api/v1/dev/checkout/${started.id}/pay`);
    expect(api.status).toBe(404);
    expect(api.json.error.code).toBe("NOT_FOUND");
    expect((await callWith(PRODUCTION, "POST", "/api/v1/payments/webhooks/local", { body: "{}" })).status).toBe(404);
    expect((await getPayment(db, started.id)).status).toBe("pending");

    const stripe = await startTestPayment(fakeStripeApi(({ form }) => ({ body: { id: `cs_test_${form.get("client_reference_id")}`, object: "checkout.session", url: "https://checkout.stripe.com/c/pay/x" } })).provider);
    expect((await call("GET", `/dev/checkout/${stripe.started.id}`)).status).toBe(404);
    expect((await act(stripe.started.id, "pay")).status).toBe(404);
  });

  it("refuses the local provider in production, wants Stripe's secrets for Stripe, and takes no online payment without a provider", () => {
    const base = { JWT_SECRET: "a-secret-of-sixteen-or-more" };
    expect(parseConfig({ ...base, ENVIRONMENT: "development" }).paymentProvider).toBe("local");
    expect(parseConfig(base).paymentProvider).toBe("none");
    expect(() => parseConfig({ ...base, PAYMENT_PROVIDER: "local" })).toThrow(/PAYMENT_PROVIDER is "local"/);
    const missing = (() => {
      try {
        parseConfig({ ...base, PAYMENT_PROVIDER: "stripe" });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).problems.join("; ")).toMatch(/STRIPE_SECRET_KEY is required.*STRIPE_WEBHOOK_SECRET is required/);
    expect(() => parseConfig({ ...base, PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "pk_live_publishable", STRIPE_WEBHOOK_SECRET: "whsec_x" })).toThrow(/STRIPE_SECRET_KEY must be a Stripe secret key/);
    // Secrets never appear in the message.
    expect(() => parseConfig({ ...base, STRIPE_WEBHOOK_SECRET: "not-a-whsec-secret" })).toThrow(/^(?!.*not-a-whsec-secret)/s);
    expect(parseConfig({ ...base, PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_live_abc123", STRIPE_WEBHOOK_SECRET: "whsec_abc" }).stripe).toEqual({ secretKey: "sk_live_abc123", webhookSecret: "whsec_abc" });
    expect(() => checkoutProvider({ ...base })).toThrow(expect.objectContaining({ code: "PAYMENT_UNAVAILABLE", status: 503 }));
  });
});
