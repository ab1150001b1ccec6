/**
 * The audit trail (DESIGN invariant 7): every hold, booking and cancellation attempt, accepted or
 * rejected with its code, with the amount offered, the source and how long it took.
 */
import type { Db } from "../db/client";
import { bookingAttempts } from "../db/schema";
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
