/**
 * What Resend's delivery webhooks report about the messages we sent
 * (https://resend.com/docs/webhooks): delivered, opened, clicked, bounced, complained, failed,
 * suppressed. Each lands on its booking_communications row, found by (provider,
 * provider_message_id = data.email_id). A hard bounce, a complaint or a suppression also makes the
 * address undeliverable (the consumer sends it nothing more) and raises an admin alert.
 *
 * Once per webhook delivery: its id (svix-id) is recorded in webhook_receipts first, and a
 * redelivery that finds it changes nothing. Should recording fail half-way, the receipt is removed
 * again so Resend's retry is processed; every effect is first-time-only or ignore-if-present.
 */
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { bookingCommunications, undeliverableAddresses, webhookReceipts } from "../db/schema";
import { raiseAlert } from "./alerts";

export const RESEND_PROVIDER = "resend";

export const UNDELIVERABLE_ALERT = "EMAIL_UNDELIVERABLE";

const text = (max: number) => z.string().transform((value) => (value.length > max ? `${value.slice(0, max - 1)}…` : value));

/** A Resend webhook body, `{type, created_at, data:{email_id, to, bounce?, …}}`: loose, unknown fields kept. */
export const ResendWebhookEventSchema = z.looseObject({
  type: z.string().min(1).max(100),
  created_at: z.string().max(100).optional(),
  data: z
    .looseObject({
      email_id: z.string().max(200).optional(),
      to: z.array(z.string()).optional(),
      // email.bounced: type is Permanent, Transient or Undetermined; older payloads carry only a message.
      bounce: z.looseObject({ type: z.string().max(50).optional(), subType: z.string().max(50).optional(), message: text(500).optional() }).optional(),
      // email.failed: Resend could not send it (quota, invalid attachment …).
      failed: z.looseObject({ reason: text(500).optional() }).optional(),
      // email.suppressed: the address is on Resend's suppression list, so it was not sent.
      suppressed: z.looseObject({ type: z.string().max(50).optional(), message: text(500).optional() }).optional(),
    })
    .default({}),
});

export type ResendWebhookEvent = z.infer<typeof ResendWebhookEventSchema>;

/** What a webhook delivery did: `unknown-message` is an email this service did not send (or not yet marked sent). */
export type DeliveryOutcome = "recorded" | "duplicate" | "ignored" | "unknown-message";

/** What one event changes, or null for event types we do not record (email.sent, delivery_delayed, contact.* …). */
type Effect =
  | { column: "deliveredAt" | "openedAt" | "clickedAt" }
  | { failedReason: string; undeliverable?: { reason: string; title: string } };

function effectOf(event: ResendWebhookEvent): Effect | null {
  const { data } = event;
  switch (event.type) {
    case "email.delivered":
      return { column: "deliveredAt" };
    case "email.opened":
      return { column: "openedAt" };
    case "email.clicked":
      return { column: "clickedAt" };
    case "email.bounced": {
      const reason = data.bounce?.message ?? data.bounce?.type ?? "bounced";
      // Resend documents email.bounced as a permanent rejection; only an explicit soft type is not.
      const soft = data.bounce?.type === "Transient" || data.bounce?.type === "Undetermined";
      return soft ? { failedReason: reason } : { failedReason: reason, undeliverable: { reason: `bounced: ${reason}`, title: "hard bounce" } };
    }
    case "email.complained":
      return { failedReason: "complained", undeliverable: { reason: "complained", title: "spam complaint" } };
    case "email.suppressed": {
      const reason = data.suppressed?.message ?? "suppressed";
      return { failedReason: reason, undeliverable: { reason: `suppressed: ${reason}`, title: "suppressed by Resend" } };
    }
    case "email.failed":
      return { failedReason: data.failed?.reason ?? "failed" };
    default:
      return null;
  }
}

/**
 * Records one verified webhook delivery (`webhookId` is its svix-id). Unknown event types and
 * emails we did not send are acknowledged and change nothing.
 */
export async function recordDeliveryEvent(db: Db, delivery: { webhookId: string; event: ResendWebhookEvent; now?: Date }): Promise<DeliveryOutcome> {
  const { webhookId, event } = delivery;
  const now = delivery.now ?? new Date();
  const effect = effectOf(event);
  const emailId = event.data.email_id;
  if (effect === null || !emailId) return "ignored";

  const [receipt] = await db
    .insert(webhookReceipts)
    .values({ provider: RESEND_PROVIDER, webhookId, type: event.type, receivedAt: now })
    .onConflictDoNothing()
    .returning({ webhookId: webhookReceipts.webhookId });
  if (!receipt) return "duplicate";

  try {
    return await apply(db, effect, { emailId, event, at: eventTime(event, now), now });
  } catch (error) {
    // Not recorded after all: let Resend's redelivery try again.
    await db
      .delete(webhookReceipts)
      .where(and(eq(webhookReceipts.provider, RESEND_PROVIDER), eq(webhookReceipts.webhookId, webhookId)))
      .catch(() => undefined);
    throw error;
  }
}

async function apply(db: Db, effect: Effect, context: { emailId: string; event: ResendWebhookEvent; at: Date; now: Date }): Promise<DeliveryOutcome> {
  const { emailId, event, at, now } = context;
  const set =
    "column" in effect
      ? // First time only: a second open or click keeps the first one's time.
        { [effect.column]: sql`coalesce(${bookingCommunications[effect.column]}, ${at.getTime()})`, updatedAt: now }
      : { failedReason: effect.failedReason, updatedAt: now };
  const [row] = await db
    .update(bookingCommunications)
    .set(set)
    .where(and(eq(bookingCommunications.provider, RESEND_PROVIDER), eq(bookingCommunications.providerMessageId, emailId)))
    .returning({ id: bookingCommunications.id, recipientEmail: bookingCommunications.recipientEmail, type: bookingCommunications.type });
  if (!row) return "unknown-message";

  if ("undeliverable" in effect && effect.undeliverable) {
    // The address we sent to, from our own row: another sender's recipients are none of our business.
    const email = row.recipientEmail.toLowerCase();
    await db
      .insert(undeliverableAddresses)
      .values({ email, reason: effect.undeliverable.reason.slice(0, 500), provider: RESEND_PROVIDER, createdAt: now })
      .onConflictDoNothing();
    await raiseAlert(db, {
      type: UNDELIVERABLE_ALERT,
      severity: "warning",
      subjectKey: `email:${email}`,
      title: `Email to ${email} cannot be delivered (${effect.undeliverable.title}): nothing more is sent to it`,
      details: { email, event: event.type, reason: effect.failedReason, communicationId: row.id, kind: row.type, provider: RESEND_PROVIDER, providerMessageId: emailId },
      now,
    });
  }
  return "recorded";
}

/** When it happened, as Resend stamped the event; our clock when the stamp is missing or unreadable. */
function eventTime(event: ResendWebhookEvent, now: Date): Date {
  const stamp = event.created_at === undefined ? Number.NaN : Date.parse(event.created_at);
  return Number.isNaN(stamp) ? now : new Date(stamp);
}
