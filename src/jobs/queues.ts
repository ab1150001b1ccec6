/**
 * Queue consumers: routes each batch to the consumer for its queue (wrangler.toml [[queues]]).
 * Delivery is at-least-once, so every consumer is idempotent.
 */
import type { Env } from "../env";

export async function runQueue(batch: MessageBatch, env: Env): Promise<void> {
  switch (batch.queue) {
    default:
      console.log(JSON.stringify({ level: "warn", msg: "no consumer for queue", queue: batch.queue }));
      batch.retryAll();
  }
}
