/**
 * Dead-letter consumer (queue `booking-events-dlq`): what a consumer gave up
 * on after every retry is kept in D1's `dead_letters` (once per queue and message id, however often
 * it is redelivered) and raises one DEAD_LETTERS alert per queue, which counts repeats until resolved.
 */
import { getDb } from "../db/client";
import { chunkByParameters } from "../db/chunks";
import { deadLetters } from "../db/schema";
import type { Env } from "../env";
import { raiseAlert } from "../services/alerts";
import { retryDelaySeconds } from "./events-consumer";

/** How many message ids an alert's details name (the table has them all). */
const IDS_IN_ALERT = 20;

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Pick<Env, "DB">): Promise<void> {
  if (batch.messages.length === 0) return;
  const db = getDb(env.DB);
  const rows = batch.messages.map((message) => ({
    queue: batch.queue,
    messageId: message.id,
    body: bodyAsJson(message.body),
    attempts: message.attempts,
    sentAt: message.timestamp,
  }));
  try {
    const [first, ...rest] = chunkByParameters(rows).map((chunk) =>
      db.insert(deadLetters).values(chunk).onConflictDoNothing().returning({ messageId: deadLetters.messageId }),
    );
    // Only rows not stored before come back: a redelivered dead letter is not a new occurrence,
    // unless this is a retry after a failure, which may have stored the rows but not raised the alert.
    const stored = (await db.batch([first!, ...rest])).flat().map((row) => row.messageId);
    const isRetry = batch.messages.some((message) => message.attempts > 1);
    if (stored.length > 0 || isRetry) {
      await raiseAlert(db, {
        type: "DEAD_LETTERS",
        severity: "warning",
        subjectKey: `queue:${batch.queue}`,
        title: `Messages on ${batch.queue} could not be processed after every retry`,
        details: { queue: batch.queue, newMessages: stored.length, messageIds: rows.slice(0, IDS_IN_ALERT).map((row) => row.messageId) },
      });
    }
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not store dead letters", queue: batch.queue, messages: rows.length, error: String(error) }));
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Any body as JSON text; something JSON cannot express is kept as its string form. */
function bodyAsJson(body: unknown): string {
  try {
    return JSON.stringify(body) ?? JSON.stringify(String(body));
  } catch {
    return JSON.stringify(String(body));
  }
}
