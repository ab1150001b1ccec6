/**
 * Notification requests: what to tell whom, put on the notifications Queue. Its consumer renders
 * the message and sends it through a provider (src/jobs/notifications-consumer.ts). A request's id
 * is its idempotency key: a redelivered or re-sent request sends nothing twice.
 */
import type { Env } from "../env";

export const NOTIFICATION_KINDS = [
  "OFFER_MADE",
  "OFFER_EXPIRING",
  "OFFER_EXPIRED",
  "BOOKING_CONFIRMED",
  "BOOKING_CANCELLED",
  "TRAINER_AVAILABLE",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationRequest {
  /** Deterministic where a retry could send it again (e.g. `offer:<entryId>:<offerNo>`). */
  id: string;
  kind: NotificationKind;
  recipient: { email: string; firstName?: string | null; lastName?: string | null };
  channel?: "email" | "sms";
  bookingId?: string | null;
  waitlistEntryId?: string | null;
  sessionId?: string | null;
  classId?: string | null;
  /** What the template needs: class name, start time, offer link and expiry, amount … */
  data: Record<string, unknown>;
  requestedAt: number;
}

/** Queues notification requests. Like events, a failure to queue is logged, not thrown. */
export async function queueNotifications(env: Pick<Env, "NOTIFICATIONS">, requests: NotificationRequest[]): Promise<void> {
  if (requests.length === 0) return;
  try {
    for (let i = 0; i < requests.length; i += 100) {
      await env.NOTIFICATIONS.sendBatch(requests.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
    }
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not queue notifications", error: String(error), ids: requests.map((r) => r.id) }));
  }
}
