/**
 * The first step of a queue consumer: the messages whose body its schema accepts. A message that
 * is not one is logged with its first issues and retried on its own after `delaySeconds(attempts)`
 * (a producer deployed ahead of its consumer may fix itself), reaching the dead-letter queue after
 * max_retries; the rest of the batch goes on regardless.
 */
import type { z } from "zod";

export function validMessages<S extends z.ZodType>(
  batch: MessageBatch<unknown>,
  schema: S,
  what: string,
  delaySeconds: (attempts: number) => number,
): { message: Message<unknown>; body: z.output<S> }[] {
  const accepted: { message: Message<unknown>; body: z.output<S> }[] = [];
  for (const message of batch.messages) {
    const parsed = schema.safeParse(message.body);
    if (parsed.success) {
      accepted.push({ message, body: parsed.data });
      continue;
    }
    console.error(
      JSON.stringify({
        level: "error",
        msg: what,
        queue: batch.queue,
        messageId: message.id,
        attempts: message.attempts,
        issues: parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join(".")}: ${issue.message}`.slice(0, 120)),
      }),
    );
    message.retry({ delaySeconds: delaySeconds(message.attempts) });
  }
  return accepted;
}
