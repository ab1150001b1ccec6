/**
 * The no-show sweep (every 15 minutes, with the session messages): attendees still `booked`
 * NO_SHOW_AFTER_MINUTES after their session's start become `no_show`, recorded by "system".
 * Bounded: sessions that started within NO_SHOW_SWEEP_DAYS and are not swept yet, at most
 * `SWEEP_SESSIONS_PER_RUN` a run (the rest wait for the next). Each session is swept once, in
 * one transaction with its marks, so a run repeated or overlapping marks (and emits) nothing twice.
 */
import { configOf } from "../config";
import { sessionsDueForSweep } from "../db/attendance-queries";
import type { Env } from "../env";
import { sweepSessionNoShows } from "../services/attendance";

/** Sessions one run sweeps: each costs about four D1 queries, well inside an invocation's limits. */
export const SWEEP_SESSIONS_PER_RUN = 40;

export interface NoShowSweepResult {
  sessions: number;
  marked: number;
  failed: string[];
}

export async function runNoShowSweep(env: Env, now: Date, limit = SWEEP_SESSIONS_PER_RUN): Promise<NoShowSweepResult> {
  const { noShowAfterMs, noShowSweepMs } = configOf(env);
  const until = now.getTime() - noShowAfterMs;
  const due = await sessionsDueForSweep(env.DB, until - noShowSweepMs, until, limit);
  let marked = 0;
  const failed: string[] = [];
  // One at a time: D1 has one writer, and a session that fails is tried again next run.
  for (const sessionId of due) {
    try {
      marked += await sweepSessionNoShows(env, sessionId, now.getTime());
    } catch (error) {
      failed.push(sessionId);
      console.error(JSON.stringify({ level: "error", msg: "no-show sweep failed for a session", sessionId, error: String(error) }));
    }
  }
  const result = { sessions: due.length, marked, failed };
  console.log(JSON.stringify({ level: failed.length > 0 ? "error" : "info", msg: "no-show sweep", ...result }));
  return result;
}
