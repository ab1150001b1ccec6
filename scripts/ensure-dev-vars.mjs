// Makes sure .dev.vars (git-ignored, read by `wrangler dev`) has a JWT_SECRET for local use (a
// fresh random secret per clone: no secret is ever committed) and ENVIRONMENT=development (the dev
// mailbox delivers messages; a deploy, without it, is production).
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";

const file = new URL("../.dev.vars", import.meta.url);
const current = existsSync(file) ? readFileSync(file, "utf8") : "";
if (/^JWT_SECRET=\S+/m.test(current)) {
  console.log(".dev.vars: JWT_SECRET present");
} else {
  const separator = current && !current.endsWith("\n") ? "\n" : "";
  appendFileSync(file, `${separator}JWT_SECRET=${randomBytes(32).toString("hex")}\n`);
  console.log(".dev.vars: generated a local JWT_SECRET");
}

const now = readFileSync(file, "utf8");
if (!/^ENVIRONMENT=/m.test(now)) {
  appendFileSync(file, `${now && !now.endsWith("\n") ? "\n" : ""}ENVIRONMENT=development\n`);
  console.log(".dev.vars: ENVIRONMENT=development");
}

// Payments: the local provider (/dev/checkout/{id}) needs nothing. Stripe's secrets are never
// generated; the commented lines say where they go to try its test mode.
const withPayments = readFileSync(file, "utf8");
if (!/STRIPE_SECRET_KEY/.test(withPayments)) {
  appendFileSync(
    file,
    `${withPayments.endsWith("\n") ? "" : "\n"}# Stripe test mode (README, "Payments"): uncomment, with your keys and \`stripe listen --forward-to 127.0.0.1:8787/api/v1/payments/webhooks/stripe\`.\n` +
      "# PAYMENT_PROVIDER=stripe\n# STRIPE_SECRET_KEY=sk_test_...\n# STRIPE_WEBHOOK_SECRET=whsec_...\n",
  );
  console.log(".dev.vars: where Stripe's test keys go (commented out; the local provider needs none)");
}
