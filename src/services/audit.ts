/**
 * The audit trail (DESIGN invariant 7): every hold, booking and cancellation attempt, accepted or
 * rejected with its code, with the amount offered, the source and how long it took.
 */
import type { Db } from "../db/client";
import { bookingAttempts } from "../db/schema";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";

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
 * Runs one attempt and records it however it ends: accepted, or rejected with the error's code
 * (INTERNAL_ERROR for anything unexpected), with how long it took. `note` adds what is only known
 * part-way through (the amount expected, the id created).
 */
export async function audited<T>(db: Db, fields: AttemptFields, run: (note: (more: Partial<AttemptFields>) => void) => Promise<T>): Promise<T> {
  const started = Date.now();
  const record: AttemptFields = { ...fields };
  let errorCode: string | null = null;
  try {
    return await run((more) => Object.assign(record, more));
  } catch (error) {
    errorCode = error instanceof ApiError ? error.code : "INTERNAL_ERROR";
    throw error;
  } finally {
    await recordAttempt(db, { ...record, outcome: errorCode ? "rejected" : "accepted", errorCode, durationMs: Date.now() - started });
  }
}
