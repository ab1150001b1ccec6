/**
 * The notifications queue consumer (`booking-notifications`). For each request: check it, render
 * it, claim its row in booking_communications, send it through the provider, mark it sent and
 * record NOTIFICATION_SENT. A batch does each step for all its messages at once (`deliverTogether`),
 * yet each message is acknowledged or retried on its own, so one bad or failing message never
 * holds back the rest of its batch.
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
import type { DomainEvent } from "../domain/events";
import {
  type Claim,
  claimAllForSending,
  claimForSending,
  deadLetterNotification,
  holdWithoutProvider,
  isUndeliverable,
  markSent,
  notificationEvent,
  recordSendFailure,
  reportUnreadableRequest,
  type StoredMessage,
  undeliverableAmong,
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
 * their own implementation of the interface. Several messages are delivered together (one read of
 * the undeliverable addresses, one transaction of claims, the provider's `sendMany`, one send of
 * events); when D1 fails before anything is claimed, each is delivered on its own instead.
 */
export async function consumeNotifications(batch: MessageBatch<unknown>, env: Env, provider?: NotificationProvider | null): Promise<void> {
  const db = getDb(env.DB);
  const sender = provider === undefined ? providerFor(configOf(env), db) : provider;
  const outcomes =
    sender !== null && batch.messages.length > 1
      ? await deliverTogether(batch.messages, env, db, sender)
      : await Promise.all(batch.messages.map((message) => deliver(message, env, db, sender)));
  const counts: Partial<Record<DeliveryOutcome, number>> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  console.log(JSON.stringify({ level: "info", msg: "notifications batch", queue: batch.queue, provider: sender?.name ?? "none", ...counts }));
}

/** A message read and rendered, ready to claim and send. */
interface Ready {
  message: Message<unknown>;
  request: NotificationRequest;
  rendered: RenderedNotification;
}

function retryLater(message: Message<unknown>, error: unknown): DeliveryOutcome {
  console.error(JSON.stringify({ level: "error", msg: "notification will be retried", messageId: message.id, attempts: message.attempts, error: describe(error) }));
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  return "retry";
}

function render(env: Env, request: NotificationRequest) {
  return renderNotification({ kind: request.kind, data: request.data, recipient: request.recipient, bookingId: request.bookingId, baseUrl: configOf(env).publicBaseUrl });
}

/** Delivers one message, then acks or retries it. Never throws. */
async function deliver(message: Message<unknown>, env: Env, db: Db, provider: NotificationProvider | null): Promise<DeliveryOutcome> {
  const parsed = NotificationRequestSchema.safeParse(message.body);
  if (!parsed.success) {
    try {
      await reportUnreadableRequest(db, message, parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "), new Date());
    } catch (error) {
      return retryLater(message, error);
    }
    message.ack();
    return "unreadable";
  }
  const request = parsed.data;

  try {
    const rendered = render(env, request);
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
    const ready = { message, request, rendered: rendered.message };
    if (await isUndeliverable(db, request.recipient.email)) return await refuseUndeliverable(env, db, ready);
    const claim = await claimForSending(db, request, toStored(rendered.message), new Date(), SEND_LEASE_MS);
    if (!claim.claimed) return notClaimed(message, claim);
    const sent = await sendClaimed(env, db, provider, ready);
    if (typeof sent === "string") return sent;
    await emitEvents(env, [sentEvent(request, provider, sent.providerMessageId, claim.attempts)]);
    message.ack();
    return "sent";
  } catch (error) {
    // D1 unavailable or another transient fault: the claim, if taken, expires by itself.
    return retryLater(message, error);
  }
}

/** The batch's way: messages that cannot be read or rendered go through `deliver` on their own. */
async function deliverTogether(messages: readonly Message<unknown>[], env: Env, db: Db, provider: NotificationProvider): Promise<DeliveryOutcome[]> {
  const ready: Ready[] = [];
  const alone: Message<unknown>[] = [];
  for (const message of messages) {
    const parsed = NotificationRequestSchema.safeParse(message.body);
    let rendered: ReturnType<typeof render> | undefined;
    try {
      rendered = parsed.success ? render(env, parsed.data) : undefined;
    } catch {
      // A template that throws is this message's problem only: `deliver` retries it on its own.
    }
    if (parsed.success && rendered?.ok) ready.push({ message, request: parsed.data, rendered: rendered.message });
    else alone.push(message);
  }
  const outcomes = Promise.all(alone.map((message) => deliver(message, env, db, provider)));
  return [...(await outcomes), ...(await sendTogether(env, db, provider, ready))];
}

async function sendTogether(env: Env, db: Db, provider: NotificationProvider, ready: Ready[]): Promise<DeliveryOutcome[]> {
  if (ready.length === 0) return [];
  let undeliverable: Set<string>;
  let claims: Map<string, Claim>;
  // A request delivered twice in one batch (an outbox resend) is claimed by its first message only.
  const seen = new Set<string>();
  const first = new Set(ready.filter((item) => !seen.has(item.request.id) && seen.add(item.request.id)));
  try {
    undeliverable = await undeliverableAmong(db, ready.map(addressOf));
    const open = [...first].filter((item) => !undeliverable.has(addressOf(item)));
    claims = await claimAllForSending(db, open.map((item) => ({ request: item.request, message: toStored(item.rendered) })), new Date(), SEND_LEASE_MS);
  } catch {
    // Nothing was claimed (the claims are one transaction): each message on its own.
    return Promise.all(ready.map((item) => deliver(item.message, env, db, provider)));
  }
  const outcomes = new Map<Ready, DeliveryOutcome>();
  const claimed: { item: Ready; attempts: number }[] = [];
  for (const item of ready) {
    const claim = claims.get(item.request.id);
    if (undeliverable.has(addressOf(item))) outcomes.set(item, await refuseUndeliverable(env, db, item).catch((error) => retryLater(item.message, error)));
    else if (claim?.claimed && first.has(item)) claimed.push({ item, attempts: claim.attempts });
    // The second copy waits out the first's lease, as when another delivery holds it.
    else if (claim?.claimed) outcomes.set(item, notClaimed(item.message, { claimed: false, status: "pending", claimedUntil: new Date(Date.now() + SEND_LEASE_MS) }));
    else outcomes.set(item, notClaimed(item.message, claim ?? { claimed: false, status: "pending", claimedUntil: null }));
  }
  // The provider's batch, all or nothing; without one, or when it fails, one by one.
  const together = provider.sendMany && claimed.length > 0 ? await provider.sendMany(claimed.map(({ item }) => toOutgoing(item.request, item.rendered))).catch(() => null) : null;
  const events: DomainEvent[] = [];
  const delivered: Ready[] = [];
  await Promise.all(
    claimed.map(async ({ item, attempts }) => {
      try {
        const inBatch = together?.get(item.request.id);
        // A provider whose batch does not mark the rows itself gets them marked here, as `send` does.
        if (inBatch && !provider.recordsDelivery) await markSent(db, item.request.id, { provider: provider.name, providerMessageId: inBatch.providerMessageId, now: new Date() });
        const sent = inBatch ?? (await sendClaimed(env, db, provider, item));
        if (typeof sent === "string") return outcomes.set(item, sent);
        events.push(sentEvent(item.request, provider, sent.providerMessageId, attempts));
        delivered.push(item);
      } catch (error) {
        outcomes.set(item, retryLater(item.message, error));
      }
    }),
  );
  try {
    await emitEvents(env, events);
    for (const item of delivered) outcomes.set(item, "sent");
    for (const item of delivered) item.message.ack();
  } catch (error) {
    // As `deliver`: the rows are sent; the retry finds them so and acknowledges.
    for (const item of delivered) outcomes.set(item, retryLater(item.message, error));
  }
  return ready.map((item) => outcomes.get(item) ?? "retry");
}

/** The recipient's address as undeliverable_addresses keys it. */
function addressOf(item: Ready): string {
  return item.request.recipient.email.toLowerCase();
}

async function refuseUndeliverable(env: Env, db: Db, { message, request }: Ready): Promise<DeliveryOutcome> {
  await deadLetterNotification(env, db, request, { code: "UNDELIVERABLE", error: "The provider reported this address undeliverable (a hard bounce or a complaint)", now: new Date() });
  message.ack();
  return "dead-lettered";
}

/** A claim refused: sent or failed before (acknowledged), or being sent by another delivery right now (looked at again when its lease ends). */
function notClaimed(message: Message<unknown>, claim: Extract<Claim, { claimed: false }>): DeliveryOutcome {
  if (claim.status !== "pending") {
    message.ack();
    return "duplicate";
  }
  const leaseLeft = claim.claimedUntil ? Math.ceil((claim.claimedUntil.getTime() - Date.now()) / 1000) : 1;
  message.retry({ delaySeconds: Math.max(1, leaseLeft) });
  return "busy";
}

/**
 * Sends a claimed message through the provider and marks it sent. Answers the provider's id, or
 * the outcome when it was not sent (dead-lettered on a permanent refusal, else retried). Throws
 * when D1 does.
 */
async function sendClaimed(env: Env, db: Db, provider: NotificationProvider, { message, request, rendered }: Ready): Promise<{ providerMessageId: string } | DeliveryOutcome> {
  let providerMessageId: string;
  try {
    ({ providerMessageId } = await provider.send(toOutgoing(request, rendered)));
  } catch (error) {
    if (error instanceof PermanentDeliveryError) {
      await deadLetterNotification(env, db, request, { code: "REJECTED_BY_PROVIDER", error: `${provider.name}: ${error.message}`, now: new Date() });
      message.ack();
      return "dead-lettered";
    }
    await recordSendFailure(db, request.id, `${provider.name}: ${describe(error)}`, new Date());
    return retryLater(message, error);
  }
  if (!provider.recordsDelivery) await markSent(db, request.id, { provider: provider.name, providerMessageId, now: new Date() });
  return { providerMessageId };
}

function sentEvent(request: NotificationRequest, provider: NotificationProvider, providerMessageId: string, attempts: number): DomainEvent {
  return notificationEvent("NOTIFICATION_SENT", request, { data: { provider: provider.name, providerMessageId, attempts } });
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
