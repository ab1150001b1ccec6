/**
 * The webhooks queue consumer (`webhook-deliveries`): one attempt per message. It claims the
 * delivery (so a duplicate message sends nothing), checks its endpoint is still enabled and its URL
 * still allowed (DNS and settings change), signs the stored body (Standard Webhooks: the delivery
 * id is `webhook-id` on every attempt) and POSTs it with a timeout, never following a redirect.
 * A 2xx succeeds; anything else is recorded and retried after the next delay of the schedule
 * (src/domain/webhooks.ts) by retrying the message with that delay. After the last attempt the
 * delivery fails and counts against its endpoint, which is disabled after too many in a row, or
 * when it has had no success for too long since its first failure.
 */
import { z } from "zod";
import { configOf } from "../config";
import { getDb, type Db } from "../db/client";
import { retryDelayAfter, signatureOf, webhookUrlRefusal } from "../domain/webhooks";
import type { Env } from "../env";
import { abandonDelivery, claimDelivery, recordAttempt, type AttemptOutcome } from "../services/webhooks";
import { validMessages } from "./valid-messages";

export const WEBHOOK_TIMEOUT_MS = 10_000;

const WebhookMessageSchema = z.object({ deliveryId: z.string().min(1).max(100) });

export interface DeliveryOptions {
  /** The network (tests pass a receiver). */
  fetch?: typeof fetch;
  now?: () => number;
}

export async function consumeWebhookDeliveries(batch: MessageBatch<unknown>, env: Pick<Env, "DB"> & Parameters<typeof configOf>[0], options: DeliveryOptions = {}): Promise<void> {
  const accepted = validMessages(batch, WebhookMessageSchema, "webhook message is not a delivery", () => 60);
  const db = getDb(env.DB);
  const config = configOf(env);
  await Promise.all(
    accepted.map(async ({ message, body }) => {
      try {
        const retryAt = await attemptDelivery(db, body.deliveryId, config, options);
        if (retryAt === null) message.ack();
        else message.retry({ delaySeconds: Math.max(1, Math.ceil((retryAt - (options.now ?? Date.now)()) / 1000)) });
      } catch (error) {
        // D1 refused: try the message again soon (the row, not the message, counts attempts).
        console.error(JSON.stringify({ level: "error", msg: "webhook delivery could not be recorded", deliveryId: body.deliveryId, error: String(error) }));
        message.retry({ delaySeconds: 30 });
      }
    }),
  );
}

/** One attempt of one delivery; returns when to try again, or null when there is nothing more to do. */
export async function attemptDelivery(db: Db, deliveryId: string, config: ReturnType<typeof configOf>, options: DeliveryOptions = {}): Promise<number | null> {
  const now = (options.now ?? Date.now)();
  const claimed = await claimDelivery(db, deliveryId, now);
  if (!claimed) return null;
  const { delivery, endpoint } = claimed;
  if (endpoint.status !== "enabled") {
    await abandonDelivery(db, delivery.id, `endpoint disabled: ${endpoint.disabledReason ?? "by an admin"}`);
    return null;
  }
  const refusal = webhookUrlRefusal(endpoint.url, config.environment);
  if (refusal) {
    await abandonDelivery(db, delivery.id, `URL refused: it ${refusal}`);
    return null;
  }
  const sent = await send(endpoint.url, endpoint.secret, delivery.id, delivery.payload, now, options.fetch ?? fetch);
  const attempts = delivery.attempts + 1;
  const delay = sent.ok ? null : retryDelayAfter(attempts);
  const outcome: AttemptOutcome = { ...sent, retryAt: delay === null ? null : now + delay * 1000 };
  await recordAttempt(db, claimed, outcome, now, { failures: config.webhookDisableAfterFailures, failingForMs: config.webhookDisableAfterMs });
  console.log(JSON.stringify({ level: sent.ok ? "info" : "warn", msg: "webhook attempt", deliveryId: delivery.id, endpointId: endpoint.id, attempts, responseStatus: sent.responseStatus, error: sent.error }));
  return outcome.retryAt;
}

/** POSTs the signed body; a redirect, a timeout or a non-2xx is a failure with its reason. */
async function send(url: string, secret: string, id: string, body: string, now: number, fetcher: typeof fetch): Promise<Omit<AttemptOutcome, "retryAt">> {
  const timestamp = Math.floor(now / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "class-booking-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureOf(secret, id, timestamp, body),
  };
  try {
    const response = await fetcher(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
    // The body is not needed; read a little of it for the log of a failure, and free the connection.
    const text = response.ok ? (await response.body?.cancel(), "") : (await response.text().catch(() => "")).slice(0, 200);
    if (response.ok) return { ok: true, responseStatus: response.status, error: null };
    const redirected = response.status >= 300 && response.status < 400;
    return { ok: false, responseStatus: response.status, error: redirected ? `redirect (${response.status}) refused: webhooks never follow redirects` : `HTTP ${response.status}${text ? `: ${text}` : ""}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { ok: false, responseStatus: null, error: timedOut ? `no response within ${WEBHOOK_TIMEOUT_MS / 1000} s` : `network error: ${String(error)}` };
  }
}
