/**
 * What the local checkout page's buttons do: build the event the provider would send for this
 * payment (paid in full, declined, or cancelled), sign it as the local provider, and settle it
 * through the webhook's own path (settle.ts), so the dev page tests exactly what a webhook does.
 */
import { configOf } from "../../config";
import type { Env } from "../../env";
import { getDb } from "../../db/client";
import { notFound } from "../../errors";
import type { AppliedPaymentOutcome } from "../payment-outcomes";
import { type LocalEvent, LocalPaymentProvider } from "./local-provider";
import { getPayment, type PaymentEnv, type PaymentView } from "./payments";
import { settlePayment } from "./settle";

export const LOCAL_CHECKOUT_ACTIONS = ["pay", "decline", "cancel"] as const;
export type LocalCheckoutAction = (typeof LOCAL_CHECKOUT_ACTIONS)[number];

/** The webhook path the local provider's events are addressed to (the same route Stripe's use). */
export const LOCAL_WEBHOOK_PATH = "/api/v1/payments/webhooks/local";

/** A payment of the local provider, or 404 (another provider's payment has no local checkout). */
export async function localPayment(env: PaymentEnv, paymentId: string): Promise<PaymentView> {
  const payment = await getPayment(getDb(env.DB), paymentId);
  if (payment.provider !== "local") throw notFound("Payment", paymentId);
  return payment;
}

function eventFor(payment: PaymentView, action: LocalCheckoutAction): LocalEvent {
  const base = { id: `levt_${crypto.randomUUID().replaceAll("-", "")}`, paymentId: payment.id, providerRef: `local_${payment.id}`, amountPence: payment.amountPence, currency: payment.currency };
  switch (action) {
    case "pay":
      return { ...base, kind: "payment_succeeded" };
    case "decline":
      return { ...base, kind: "payment_failed" };
    case "cancel":
      return { ...base, kind: "payment_expired", reason: "cancelled" };
  }
}

/** Pays, declines or cancels a local checkout as its provider would, through the webhook handler. `origin` is this service's. */
export async function settleLocalCheckout(env: Env, paymentId: string, action: LocalCheckoutAction, origin: string): Promise<AppliedPaymentOutcome> {
  const payment = await localPayment(env, paymentId);
  const provider = new LocalPaymentProvider(configOf(env).keyring);
  const request = await provider.signedRequest(new URL(LOCAL_WEBHOOK_PATH, origin).toString(), eventFor(payment, action));
  return settlePayment(env, "local", request);
}
