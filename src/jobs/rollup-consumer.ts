/**
 * Consumers of the metric-rollups Queue and its dead-letter queue. Each message is one period
 * (src/jobs/rollup-contract.ts), so no single invocation runs long however long a backfill is.
 * Rolling a period up twice writes the same rows, so redelivery is harmless.
 */
import { getDb } from "../db/client";
import type { Env } from "../env";
import { raiseAlert } from "../services/alerts";
import { RollupChunkBody, rollupSubject, runRollupChunk } from "./rollups";

const MAX_RETRY_DELAY_SECONDS = 900;

/** Rolls up each chunk; a failure is retried with back-off, then lands in the dead-letter queue. */
export async function runRollupQueue(batch: MessageBatch, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = RollupChunkBody.safeParse(message.body);
    if (!parsed.success) {
      // Retrying cannot make a malformed message valid.
      log("error", "malformed rollup message dropped", { id: message.id, body: message.body, issues: parsed.error.issues.map((i) => i.message) });
      message.ack();
      continue;
    }
    const started = Date.now();
    try {
      const result = await runRollupChunk(env.DB, parsed.data);
      log("info", "rollup done", { ...result, requestedBy: parsed.data.requestedBy, ms: Date.now() - started });
      message.ack();
    } catch (error) {
      const delaySeconds = Math.min(MAX_RETRY_DELAY_SECONDS, 30 * 2 ** (message.attempts - 1));
      log("error", "rollup failed", { chunk: parsed.data, attempts: message.attempts, retryInSeconds: delaySeconds, error: String(error) });
      message.retry({ delaySeconds });
    }
  }
}

/**
 * Chunks that failed every retry: kept in D1 as one critical ROLLUP_FAILED alert per period
 * (repeats count occurrences). A later successful rollup of the period resolves it.
 */
export async function runRollupDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  const db = getDb(env.DB);
  for (const message of batch.messages) {
    const parsed = RollupChunkBody.safeParse(message.body);
    const subjectKey = parsed.success ? rollupSubject(parsed.data.granularity, parsed.data.periodStart) : "rollup:malformed";
    try {
      await raiseAlert(db, {
        type: "ROLLUP_FAILED",
        severity: "critical",
        subjectKey,
        title: parsed.success
          ? `The ${parsed.data.granularity} metric rollup of ${parsed.data.periodStart} failed after every retry`
          : "A malformed metric rollup message reached the dead-letter queue",
        details: { body: message.body as Record<string, unknown>, messageId: message.id, attempts: message.attempts },
      });
      message.ack();
    } catch (error) {
      log("error", "could not record a dead rollup", { id: message.id, error: String(error) });
      message.retry({ delaySeconds: 60 });
    }
  }
}

function log(level: "info" | "error", msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}
