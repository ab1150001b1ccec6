/**
 * Refunds (src/services/payments/refunds.ts): full and partial, never more than was paid less
 * what was refunded or is being refunded (422 REFUND_EXCEEDS_PAID), a provider's refusal letting
 * the reservation go, an unknown outcome keeping it until asked again with the same key, and
 * racing refunds for the last pounds (with a control that shows the race without the guard).
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { refunds } from "../src/db/schema";
import { refundableAmount } from "../src/domain/payments";
import { getPayment } from "../src/services/payments/payments";
import { type PaymentProvider, PaymentProviderError, type RefundRequest } from "../src/services/payments/provider";
import { refundPayment, resumeRefund } from "../src/services/payments/refunds";
import { requirePayment } from "../src/services/payments/records";
import { call, unique } from "./helpers";
import { startTestPayment } from "./payments-helpers";

const db = getDb(env.DB);

/** A local payment of £25, paid through the dev checkout. */
async function paidPayment() {
  const { started } = await startTestPayment();
  expect((await call("POST", `/api/v1/dev/checkout/${started.id}/pay`)).json.action).toBe("confirm");
  return started.id;
}

/** A provider whose refunds do what the test says, recording each request. */
function scriptedProvider(refund: (request: RefundRequest) => Promise<{ refundRef: string }>) {
  const requests: RefundRequest[] = [];
  const provider: PaymentProvider = {
    name: "local",
    createCheckout: async () => ({ providerRef: "unused", checkoutUrl: "http://localhost/unused" }),
    expireCheckout: async () => {},
    verifyWebhook: async () => null,
    refund: (request) => {
      requests.push(request);
      return refund(request);
    },
  };
  return { provider, requests };
}

const refund = (paymentId: string, amountPence: number, provider?: PaymentProvider) =>
  refundPayment(env, { paymentId, amountPence, reason: "changed plans", requestedBy: "staff:desk@example.test" }, provider);

describe("refunds", () => {
  it("refunds in parts up to what was paid, and never a penny more (422 REFUND_EXCEEDS_PAID)", async () => {
    const paymentId = await paidPayment();
    const first = await refund(paymentId, 1000);
    expect(first.refund).toMatchObject({ paymentId, amountPence: 1000, status: "succeeded", reason: "changed plans", requestedBy: "staff:desk@example.test", providerRef: `local_${first.refund.id}` });
    expect(first.payment).toMatchObject({ status: "partially_refunded", refundedPence: 1000 });
    await expect(refund(paymentId, 1600)).rejects.toMatchObject({ code: "REFUND_EXCEEDS_PAID", status: 422, details: { paidPence: 2500, refundedPence: 1000, refundablePence: 1500 } });
    const rest = await refund(paymentId, 1500);
    expect(rest.payment).toMatchObject({ status: "refunded", refundedPence: 2500 });
    await expect(refund(paymentId, 1)).rejects.toMatchObject({ code: "REFUND_EXCEEDS_PAID", details: { refundablePence: 0 } });
  });

  it("refunds nothing of an unpaid payment, and only whole positive pence", async () => {
    const { started } = await startTestPayment();
    await expect(refund(started.id, 100)).rejects.toMatchObject({ code: "REFUND_EXCEEDS_PAID", details: { paidPence: 0, refundablePence: 0 } });
    const paymentId = await paidPayment();
    for (const amount of [0, -5, 12.5]) await expect(refund(paymentId, amount)).rejects.toMatchObject({ code: "INVALID_AMOUNT", status: 422 });
    await expect(refund(`pay_${unique()}`, 100)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lets the reservation go when the provider refuses (409 REFUND_REFUSED)", async () => {
    const paymentId = await paidPayment();
    const refusing = scriptedProvider(async () => {
      throw new PaymentProviderError("charge_disputed: this charge is disputed", true);
    });
    await expect(refund(paymentId, 2500, refusing.provider)).rejects.toMatchObject({ code: "REFUND_REFUSED", status: 409 });
    const [failed] = await db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(failed).toMatchObject({ status: "failed", failure: expect.stringContaining("charge_disputed") });
    expect((await refund(paymentId, 2500)).payment.status).toBe("refunded");
  });

  it("keeps the reservation when the outcome is unknown, and asks again with the same key", async () => {
    const paymentId = await paidPayment();
    const unreachable = scriptedProvider(async () => {
      throw new PaymentProviderError("connection reset", false);
    });
    const failure = await refund(paymentId, 1000, unreachable.provider).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "PAYMENT_UNAVAILABLE", status: 503, details: { refundId: expect.stringMatching(/^rfd_/) } });
    const refundId = (failure as { details: { refundId: string } }).details.refundId;
    // Reserved: only 1500 is left to refund while its outcome is unknown.
    await expect(refund(paymentId, 2500)).rejects.toMatchObject({ code: "REFUND_EXCEEDS_PAID", details: { pendingPence: 1000, refundablePence: 1500 } });
    const working = scriptedProvider(async (request) => ({ refundRef: `re_${request.idempotencyKey}` }));
    const resumed = await resumeRefund(env, refundId, working.provider);
    expect(resumed.refund).toMatchObject({ id: refundId, status: "succeeded", providerRef: `re_${refundId}` });
    expect(resumed.payment).toMatchObject({ status: "partially_refunded", refundedPence: 1000 });
    expect(unreachable.requests.map((request) => request.idempotencyKey)).toEqual([refundId]);
    expect(working.requests.map((request) => request.idempotencyKey)).toEqual([refundId]);
    // Settled: asking again changes nothing and asks nobody.
    await resumeRefund(env, refundId, working.provider);
    expect(working.requests).toHaveLength(1);
  });

  it("lets racing refunds take only what was paid (control: check-then-insert without the guard overspends)", async () => {
    const paymentId = await paidPayment();
    let inProvider = 0;
    let mostAtOnce = 0;
    let arrived = 0;
    let release: () => void = () => {};
    const bothIn = new Promise<void>((resolve) => (release = resolve));
    const slow = scriptedProvider(async (request) => {
      inProvider++;
      mostAtOnce = Math.max(mostAtOnce, inProvider);
      if (++arrived === 2) release();
      await Promise.race([bothIn, new Promise((resolve) => setTimeout(resolve, 3000))]);
      inProvider--;
      return { refundRef: `re_${request.idempotencyKey}` };
    });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => refund(paymentId, 1000, slow.provider)));
    const made = results.filter((result) => result.status === "fulfilled");
    const refused = results.filter((result) => result.status === "rejected").map((result) => (result as PromiseRejectedResult).reason.code);
    expect(made).toHaveLength(2);
    expect(refused).toEqual(Array(4).fill("REFUND_EXCEEDS_PAID"));
    // The two that got through were at the provider at the same time: the refunds really overlapped.
    expect(mostAtOnce).toBe(2);
    expect(await getPayment(db, paymentId)).toMatchObject({ status: "partially_refunded", refundedPence: 2000 });

    // Control: the same six, each checking what is left and then reserving, with no version guard.
    const control = await paidPayment();
    const naive = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const payment = await requirePayment(db, control);
        const pending = await env.DB.prepare("SELECT coalesce(sum(amount_pence), 0) AS n FROM refunds WHERE payment_id = ? AND status = 'pending'").bind(control).first<{ n: number }>();
        if (refundableAmount(payment, pending!.n) < 1000) return false;
        await db.insert(refunds).values({ id: `rfd_${unique()}${unique()}`, paymentId: control, amountPence: 1000, reason: "control", requestedBy: "test", status: "pending" });
        return true;
      }),
    );
    expect(naive.filter(Boolean).length).toBeGreaterThan(2);
  });
});
