/**
 * The notifications queue consumer (`booking-notifications`). For each request: check it, render
 * it, claim its row in booking_communications, send it through the provider, mark it sent and
 * record NOTIFICATION_SENT. Each message is acknowledged or retried on its own, so one bad or
 * failing message never holds back the rest of its batch.
 *
 * Delivery guarantees. The request id is the idempotency key: a redelivered request whose row is
 * sent (or failed) is acknowledged without sending. A claim (a lease on the row) keeps two
 * deliveries of one request from sending at once. What remains is the window between a provider
 * accepting a message and the row being marked sent: if the Worker dies there, the request is
 * sent again after the lease runs out (at-least-once). External providers get the request id as
 * their idempotency key to close it on their side; the dev mailbox has no window at all,
 * because its send is the write that marks the row sent.
 *
 * Failures: data a template cannot use, or a provider's permanent refusal, is dead-lettered at
 * once (row failed, NOTIFICATION_FAILED, admin alert); anything else is retried with exponential
 * backoff, and after the queue's max_retries lands in `booking-notifications-dlq`, whose consumer
 * (notifications-dead-letter.ts) does the same dead-lettering.
 */
import { configOf } from "../config";
import { getDb, type Db } from "../db/client";
import { maskLinkTokens, type RenderedNotification, renderNotification } from "../domain/notification-templates";
import type { Env } from "../env";
import {
  claimForSending,
  deadLetterNotification,
  holdWithoutProvider,
  isUndeliverable,
  markSent,
  notificationEvent,
  recordSendFailure,
  reportUnreadableRequest,
  type StoredMessage,
} from "../services/communications";
import { emitEvents } from "../services/events";
import { type NotificationProvider, type OutgoingMessage, PermanentDeliveryError, providerFor } from "../services/notification-providers";
import { type NotificationRequest, NotificationRequestSchema } from "../services/notifications";

/** How long one delivery holds a request's row while it sends; longer than any provider call. */
export const SEND_LEASE_MS = 60_000;

/** Retry backoff: 30 s, 1, 2, 4, 8 min … capped at 15 min (5 retries span about 15 minutes). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 900);
}

export type DeliveryOutcome = "sent" | "duplicate" | "busy" | "retry" | "dead-lettered" | "unreadable" | "no-provider";

/**
 * Handles one batch. `provider` defaults to the one `config.notificationProvider` names; tests pass
 * their own implementation of the interface.
 */
export async function consumeNotifications(batch: MessageBatch<unknown>, env: Env, provider?: NotificationProvider | null): Promise<void> {
  const db = getDb(env.DB);
  const sender = provider === undefined ? providerFor(configOf(env), db) : provider;
  const outcomes = await Promise.all(batch.messages.map((message) => deliver(message, env, db, sender)));
  const counts: Partial<Record<DeliveryOutcome, number>> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  console.log(JSON.stringify({ level: "info", msg: "notifications batch", queue: batch.queue, provider: sender?.name ?? "none", ...counts }));
}

/** Delivers one message, then acks or retries it. Never throws. */
async function deliver(message: Message<unknown>, env: Env, db: Db, provider: NotificationProvider | null): Promise<DeliveryOutcome> {
  const retry = (error: unknown): DeliveryOutcome => {
    console.error(JSON.stringify({ level: "error", msg: "notification will be retried", messageId: message.id, attempts: message.attempts, error: describe(error) }));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return "retry";
  };

  const parsed = NotificationRequestSchema.safeParse(message.body);
  if (!parsed.success) {
    try {
      await reportUnreadableRequest(db, message, parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "), new Date());
    } catch (error) {
      return retry(error);
    }
    message.ack();
    return "unreadable";
  }
  const request = parsed.data;

  try {
    const rendered = renderNotification({ kind: request.kind, data: request.data, recipient: request.recipient, bookingId: request.bookingId, baseUrl: configOf(env).publicBaseUrl });
    if (!rendered.ok) {
      await deadLetterNotification(env, db, request, { code: "INVALID_DATA", error: rendered.error, now: new Date() });
      message.ack();
      return "dead-lettered";
    }

    if (provider === null) {
      // Nothing pretends to be sent: the row stays pending, an alert says why, the queue retries.
      await holdWithoutProvider(db, request, toStored(rendered.message), new Date());
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      return "no-provider";
    }
    if (await isUndeliverable(db, request.recipient.email)) {
      await deadLetterNotification(env, db, request, { code: "UNDELIVERABLE", error: "The provider reported this address undeliverable (a hard bounce or a complaint)", now: new Date() });
      message.ack();
      return "dead-lettered";
    }

    const claim = await claimForSending(db, request, toStored(rendered.message), new Date(), SEND_LEASE_MS);
    if (!claim.claimed) {
      if (claim.status !== "pending") {
        message.ack();
        return "duplicate";
      }
      // Another delivery of the same request is sending it now: look again when its lease ends.
      const leaseLeft = claim.claimedUntil ? Math.ceil((claim.claimedUntil.getTime() - Date.now()) / 1000) : 1;
      message.retry({ delaySeconds: Math.max(1, leaseLeft) });
      return "busy";
    }

    let providerMessageId: string;
    try {
      ({ providerMessageId } = await provider.send(toOutgoing(request, rendered.message)));
    } catch (error) {
      if (error instanceof PermanentDeliveryError) {
        await deadLetterNotification(env, db, request, { code: "REJECTED_BY_PROVIDER", error: `${provider.name}: ${error.message}`, now: new Date() });
        message.ack();
        return "dead-lettered";
      }
      await recordSendFailure(db, request.id, `${provider.name}: ${describe(error)}`, new Date());
      return retry(error);
    }

    if (!provider.recordsDelivery) await markSent(db, request.id, { provider: provider.name, providerMessageId, now: new Date() });
    await emitEvents(env, [
      notificationEvent("NOTIFICATION_SENT", request, { data: { provider: provider.name, providerMessageId, attempts: claim.attempts } }),
    ]);
    message.ack();
    return "sent";
  } catch (error) {
    // D1 unavailable or another transient fault: the claim, if taken, expires by itself.
    return retry(error);
  }
}

/** What is stored of a message: link tokens are masked so the record holds no credentials. */
function toStored(message: RenderedNotification): StoredMessage {
  return {
    subject: message.subject,
    content: maskLinkTokens(message.text),
    template: message.template.name,
    templateVersion: message.template.version,
  };
}

function toOutgoing(request: NotificationRequest, message: RenderedNotification): OutgoingMessage {
  const name = [request.recipient.firstName, request.recipient.lastName].filter(Boolean).join(" ");
  return {
    id: request.id,
    kind: request.kind,
    channel: request.channel ?? "email",
    to: { email: request.recipient.email.toLowerCase(), name: name || null },
    subject: message.subject,
    text: message.text,
    html: message.html,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
