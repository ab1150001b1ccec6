/**
 * The session-messages job (Cron Trigger every 15 minutes, src/jobs/scheduled.ts): queues the
 * reminders and follow-ups due at the trigger's scheduled time. Safe to run twice or at once with
 * itself: every message has a deterministic id and the notifications consumer sends an id once.
 */
import type { Db } from "../db/client";
import type { Env } from "../env";
import { queueDueSessionMessages, type ReminderRunResult } from "../services/reminders";

/** Every 15 minutes: a reminder goes out at most a quarter of an hour after it is due. */
export const SESSION_MESSAGES = "*/15 * * * *";

/** Runs the job for `now` (the trigger's scheduled time; tests pass their own) and logs what it queued. */
export async function runSessionMessages(env: Env, db: Db, now: Date): Promise<ReminderRunResult> {
  const result = await queueDueSessionMessages(env, db, now);
  console.log(JSON.stringify({ level: result.truncated ? "warn" : "info", msg: "session messages queued", at: now.toISOString(), ...result }));
  return result;
}
