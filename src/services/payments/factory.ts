/**
 * Which payment provider does what, from the settings (src/config.ts): new checkouts go to the
 * one PAYMENT_PROVIDER names (unset: local in development, none in production); webhooks and
 * refunds go to the provider the payment was made with, as long as it is still configured, so
 * payments in flight survive a switch. The local provider exists only in development; the desk
 * (money staff take at the studio) is always there for its own payments and never takes checkouts.
 */
import { configOf, type ConfigSource } from "../../config";
import type { PaymentProviderName } from "../../domain/payments";
import { ApiError } from "../../errors";
import { DeskPaymentProvider } from "./desk-provider";
import { LocalPaymentProvider } from "./local-provider";
import type { PaymentProvider } from "./provider";
import { StripeProvider } from "./stripe-provider";

/** The provider named, or null when it is not available here (local outside development, Stripe without its secrets). */
export function paymentProviderNamed(env: ConfigSource, name: PaymentProviderName): PaymentProvider | null {
  const config = configOf(env);
  switch (name) {
    case "local":
      return config.environment === "development" ? new LocalPaymentProvider(config.keyring) : null;
    case "stripe": {
      const { secretKey, webhookSecret } = config.stripe;
      return secretKey && webhookSecret ? new StripeProvider({ secretKey, webhookSecret }) : null;
    }
    case "desk":
      return new DeskPaymentProvider();
  }
}

/** Where new checkouts go; PAYMENT_UNAVAILABLE (503) when PAYMENT_PROVIDER is none. */
export function checkoutProvider(env: ConfigSource): PaymentProvider {
  const setting = configOf(env).paymentProvider;
  const provider = setting === "none" ? null : paymentProviderNamed(env, setting);
  if (!provider) throw new ApiError("PAYMENT_UNAVAILABLE", "Online payment is not available: no payment provider is configured (PAYMENT_PROVIDER)");
  return provider;
}
