/**
 * Consumers of the metric-rollups Queue and its dead-letter queue. Each message is one period
 * (src/jobs/rollup-contract.ts), so no single invocation runs long however long a backfill is.
 * Rolling a period up twice writes the same rows, so redelivery is harmless.
 */
import { getDb } from "../db/client";
import type { Env } from "../env";
import { raiseAlert } from "../services/alerts";
import type { RollupChunk } from "./rollup-contract";
import { RollupChunkBody, rollupSubject, runRollupChunk } from "./rollups";

const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * Rolls up each chunk; a failure is retried with back-off, then lands in the dead-letter queue.
 * A malformed message is acknowledged (retrying cannot fix it) and kept open as an alert; nothing
 * a message holds makes this throw, so one bad message never fails its batch.
 */
export async function runRollupQueue(batch: MessageBatch, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = parseChunk(message.body);
    if (!parsed.ok) {
      log("error", "malformed rollup message dropped", { id: message.id, body: message.body, problem: parsed.problem });
      await settleMalformed(env, message, parsed.problem);
      continue;
    }
    const started = Date.now();
    try {
      const result = await runRollupChunk(env.DB, parsed.chunk);
      log("info", "rollup done", { ...result, requestedBy: parsed.chunk.requestedBy, ms: Date.now() - started });
      message.ack();
    } catch (error) {
      const delaySeconds = Math.min(MAX_RETRY_DELAY_SECONDS, 30 * 2 ** (message.attempts - 1));
      log("error", "rollup failed", { chunk: parsed.chunk, attempts: message.attempts, retryInSeconds: delaySeconds, error: String(error) });
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
    const parsed = parseChunk(message.body);
    try {
      await raiseAlert(db, {
        type: "ROLLUP_FAILED",
        severity: "critical",
        subjectKey: parsed.ok ? rollupSubject(parsed.chunk.granularity, parsed.chunk.periodStart) : MALFORMED_SUBJECT,
        title: parsed.ok
          ? `The ${parsed.chunk.granularity} metric rollup of ${parsed.chunk.periodStart} failed after every retry`
          : "A malformed metric rollup message reached the dead-letter queue",
        details: { body: message.body, messageId: message.id, attempts: message.attempts, ...(parsed.ok ? {} : { problem: parsed.problem }) },
      });
      message.ack();
    } catch (error) {
      log("error", "could not record a dead rollup", { id: message.id, error: String(error) });
      message.retry({ delaySeconds: 60 });
    }
  }
}

/** The alert subject shared by every malformed rollup message (one open alert counts them). */
const MALFORMED_SUBJECT = "rollup:malformed";

/** A message body as a chunk, or why it is not one. Never throws, whatever the body holds. */
function parseChunk(body: unknown): { ok: true; chunk: RollupChunk } | { ok: false; problem: string } {
  try {
    const parsed = RollupChunkBody.safeParse(body);
    if (parsed.success) return { ok: true, chunk: parsed.data };
    return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ") };
  } catch (error) {
    return { ok: false, problem: `could not be read: ${String(error)}` };
  }
}

/** Acknowledges a malformed message once its alert is recorded; retried if even that fails (it then dead-letters). */
async function settleMalformed(env: Env, message: Message, problem: string): Promise<void> {
  try {
    await raiseAlert(getDb(env.DB), {
      type: "ROLLUP_FAILED",
      severity: "warning",
      subjectKey: MALFORMED_SUBJECT,
      title: "A malformed metric rollup message was dropped",
      details: { body: message.body, messageId: message.id, problem },
    });
    message.ack();
  } catch (error) {
    log("error", "could not record a malformed rollup message", { id: message.id, error: String(error) });
    message.retry({ delaySeconds: 60 });
  }
}

function log(level: "info" | "error", msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}
