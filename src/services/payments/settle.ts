/**
 * One path for every payment webhook: POST /api/v1/payments/webhooks/{provider} and the local
 * checkout's Pay, Decline and Cancel (which sign the event the provider would send and pass it
 * here). Verify with the provider the payment was made with, apply the event once, then its
 * effects (src/services/payment-outcomes.ts).
 */
import { getDb } from "../../db/client";
import type { PaymentProviderName } from "../../domain/payments";
import { ApiError } from "../../errors";
import { type AppliedPaymentOutcome, applyPaymentOutcome } from "../payment-outcomes";
import { paymentProviderNamed } from "./factory";
import type { Env } from "../../env";
import { handleVerifiedEvent } from "./payments";

/**
 * Verifies and settles a provider's webhook request. Throws PAYMENT_SIGNATURE_INVALID (400) when
 * it does not verify, NOT_FOUND when that provider is not available here; a verified event we do
 * not act on, or one for no payment of ours, settles as `none`.
 */
export async function settlePayment(env: Env, providerName: PaymentProviderName, request: Request, now = Date.now()): Promise<AppliedPaymentOutcome> {
  const provider = paymentProviderNamed(env, providerName);
  if (!provider) throw new ApiError("NOT_FOUND", `No payment provider "${providerName}" here`);
  const event = await provider.verifyWebhook(request);
  if (event === null) return { action: "none", payment: null, duplicate: false };
  return applyPaymentOutcome(env, await handleVerifiedEvent(getDb(env.DB), event, now));
}
