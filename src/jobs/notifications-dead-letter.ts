/**
 * The consumer of `booking-notifications-dlq`: requests the notifications consumer retried until
 * the queue's max_retries ran out. Each is given up on for good: its communication is marked
 * failed (keeping the last send error), NOTIFICATION_FAILED is recorded and an admin alert raised.
 * Idempotent: a request already failed (or, after all, sent) is acknowledged and reported no more.
 */
import { getDb } from "../db/client";
import type { Env } from "../env";
import { deadLetterNotification, reportUnreadableRequest } from "../services/communications";
import { NotificationRequestSchema } from "../services/notifications";

/** Retry delay when D1 itself is failing; the DLQ's own retries are few, so wait a while. */
const DEAD_LETTER_RETRY_SECONDS = 60;

export async function consumeDeadNotifications(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = getDb(env.DB);
  let failed = 0;
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const parsed = NotificationRequestSchema.safeParse(message.body);
        const now = new Date();
        if (!parsed.success) {
          await reportUnreadableRequest(db, message, parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "), now);
        } else if (await deadLetterNotification(env, db, parsed.data, { code: "RETRIES_EXHAUSTED", error: null, now })) {
          failed += 1;
        }
        message.ack();
      } catch (error) {
        console.error(JSON.stringify({ level: "error", msg: "could not dead-letter notification", messageId: message.id, error: String(error) }));
        message.retry({ delaySeconds: DEAD_LETTER_RETRY_SECONDS });
      }
    }),
  );
  console.log(JSON.stringify({ level: "warn", msg: "notifications dead-lettered", queue: batch.queue, messages: batch.messages.length, failed }));
}
