/**
 * Notification requests: what to tell whom, put on the notifications Queue. Its consumer renders
 * the message and sends it through a provider (src/jobs/notifications-consumer.ts). What a request
 * is lives in src/domain/notifications.ts; a request's id is its idempotency key: a redelivered or
 * re-sent request sends nothing twice.
 */
import type { NotificationRequest } from "../domain/notifications";
import type { Env } from "../env";
import { jsonBatchesTo, sendWithRetry } from "../lib/queue-send";

export {
  NOTIFICATION_KINDS,
  type NotificationData,
  type NotificationKind,
  type NotificationRequest,
  NotificationRequestSchema,
  type TypedNotificationRequest,
} from "../domain/notifications";

/**
 * Queues notification requests, retrying a failed send. Like events, what still fails is logged,
 * not thrown; the answer says whether every request was queued, for callers that must not
 * acknowledge a message that is not on its way (a sign-in link).
 */
export async function queueNotifications(env: Pick<Env, "NOTIFICATIONS">, requests: NotificationRequest[]): Promise<boolean> {
  if (requests.length === 0) return true;
  const { lost, errors } = await sendWithRetry(jsonBatchesTo(env.NOTIFICATIONS), requests);
  if (lost.length > 0) {
    console.error(JSON.stringify({ level: "error", msg: "could not queue notifications", error: errors[errors.length - 1], ids: lost.map((r) => r.id) }));
  }
  return lost.length === 0;
}
