/**
 * The audit trail (DESIGN invariant 7): every hold, booking and cancellation attempt, accepted or
 * rejected with its code, with the amount offered, the source and how long it took; and the
 * domain events each attempt stands for (src/services/attempt-events.ts), sent to the events Queue.
 */
import type { Db } from "../db/client";
import { bookingAttempts } from "../db/schema";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { attemptEvents, type AttemptSubject, type FunnelCheckout } from "./attempt-events";
import { dispatchEvents, type WaitUntil } from "./events";

export type AttemptRecord = Omit<typeof bookingAttempts.$inferInsert, "id" | "createdAt">;

/** Writes one attempt; a failure to write is logged, never turned into the caller's failure. */
export async function recordAttempt(db: Db, attempt: AttemptRecord): Promise<void> {
  try {
    await db.insert(bookingAttempts).values({ id: newId("attempt"), ...attempt });
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not record booking attempt", error: String(error), attempt }));
  }
}

export type AttemptFields = Omit<AttemptRecord, "outcome" | "errorCode" | "durationMs">;

/**
 * What `note` accepts: audit fields known part-way through, what the attempt is about, and
 * whether it is a checkout of the booking funnel (noted as it reaches the seat check).
 */
export type AttemptNote = Partial<AttemptFields> & { subject?: AttemptSubject; checkout?: FunnelCheckout };

/** Where an attempt is recorded and its events sent (a booking `Caller` is one). */
export interface AuditSink {
  db: Db;
  env: Pick<Env, "EVENTS">;
  /** Sends events after the response when present. */
  waitUntil?: WaitUntil | undefined;
}

/**
 * Runs one attempt and records it however it ends: accepted, or rejected with the error's code
 * (INTERNAL_ERROR for anything unexpected), with how long it took, then emits its events. `note`
 * adds what is only known part-way through (the amount expected, the id created, the subject).
 */
export async function audited<T>(sink: AuditSink, fields: AttemptFields, run: (note: (more: AttemptNote) => void) => Promise<T>): Promise<T> {
  const started = Date.now();
  const record: AttemptFields = { ...fields };
  let subject: AttemptSubject | undefined;
  let checkout: FunnelCheckout | undefined;
  let errorCode: string | null = null;
  let failure: unknown;
  try {
    return await run(({ subject: about, checkout: funnel, ...more }) => {
      Object.assign(record, more);
      if (about) subject = about;
      if (funnel) checkout = funnel;
    });
  } catch (error) {
    failure = error;
    errorCode = error instanceof ApiError ? error.code : "INTERNAL_ERROR";
    throw error;
  } finally {
    const attempt: AttemptRecord = { ...record, outcome: errorCode ? "rejected" : "accepted", errorCode, durationMs: Date.now() - started };
    await recordAttempt(sink.db, attempt);
    await emitAttemptEvents(sink, attempt, subject, failure, checkout);
  }
}

/** Like the audit row, the events never become the caller's failure (this runs in a `finally`). */
async function emitAttemptEvents(sink: AuditSink, attempt: AttemptRecord, subject: AttemptSubject | undefined, failure: unknown, checkout: FunnelCheckout | undefined): Promise<void> {
  try {
    await dispatchEvents(sink.env, attemptEvents(attempt, subject, failure, { checkout }), sink.waitUntil);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not emit attempt events", error: String(error), kind: attempt.kind }));
  }
}
