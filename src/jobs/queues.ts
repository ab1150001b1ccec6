/**
 * Queue consumers: routes each batch to the consumer for its queue (wrangler.toml [[queues]]).
 * Delivery is at-least-once, so every consumer is idempotent.
 */
import type { Env } from "../env";
import { consumeDeadLetters } from "./dead-letters";
import { consumeEvents } from "./events-consumer";
import { consumeNotifications } from "./notifications-consumer";
import { consumeProjection } from "./projection-consumer";
import { consumeDeadNotifications } from "./notifications-dead-letter";
import { runRollupDeadLetters, runRollupQueue } from "./rollup-consumer";
import { consumeWebhookDeliveries } from "./webhook-deliveries";

export async function runQueue(batch: MessageBatch, env: Env): Promise<void> {
  switch (batch.queue) {
    case "booking-projection":
    // Dead letters of the projection are still acknowledged changes: keep writing them until D1 takes them.
    case "booking-projection-dlq":
      return consumeProjection(batch, env);
    case "booking-events":
      return consumeEvents(batch, env);
    case "booking-notifications":
      return consumeNotifications(batch, env);
    case "booking-notifications-dlq":
      return consumeDeadNotifications(batch, env);
    case "webhook-deliveries":
      return consumeWebhookDeliveries(batch, env);
    case "metric-rollups":
      return runRollupQueue(batch, env);
    case "metric-rollups-dlq":
      return runRollupDeadLetters(batch, env);
    case "booking-events-dlq":
      return consumeDeadLetters(batch, env);
    default:
      console.log(JSON.stringify({ level: "warn", msg: "no consumer for queue", queue: batch.queue }));
      batch.retryAll();
  }
}
