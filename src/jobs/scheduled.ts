/** Cron Triggers (wrangler.toml [triggers]): what runs on which schedule. */
import { getDb } from "../db/client";
import { parseAlertRules } from "../domain/alert-rules";
import { addDays, previousDay, previousWeekStart } from "../domain/metric-periods";
import type { Env } from "../env";
import { purgeExpiredIdempotencyKeys } from "../middleware/idempotency";
import { notifyInterestedCustomers } from "../services/course-interest";
import { runAlertChecks } from "./alert-checks";
import { reconcileLedgers } from "./reconcile";
import type { RollupChunk } from "./rollup-contract";

/** Reconciliation, idempotency purge, alert checks. */
export const HOURLY = "0 * * * *";
/** Yesterday's events into daily metric rows. */
export const DAILY_ROLLUP = "0 1 * * *";
/** Monday: the previous ISO week from its daily rows (after the daily rollup of Sunday at 01:00). */
export const WEEKLY_ROLLUP = "0 2 * * 1";

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const db = getDb(env.DB);
  const now = new Date(controller.scheduledTime);
  switch (controller.cron) {
    case HOURLY: {
      const holdOverdueMs = parseAlertRules(env.ALERT_RULES).rules.dataDrift.holdOverdueMinutes * 60_000;
      const [purged, reconciled, notifiedInterest] = await Promise.all([
        purgeExpiredIdempotencyKeys(db, now),
        reconcileLedgers(env, db, now, undefined, holdOverdueMs),
        notifyInterestedCustomers(env, db, now),
      ]);
      const alertChecks = await runAlertChecks(env.DB, db, env.ALERT_RULES, now);
      console.log(JSON.stringify({ level: "info", msg: "hourly jobs", purgedIdempotencyKeys: purged, notifiedInterest, ...reconciled, alertChecks }));
      return;
    }
    // Rollups go through the Queue: a failure is retried, and lands in the dead-letter queue (and an alert) at last.
    case DAILY_ROLLUP: {
      // The day before too: events delivered late (outbox and queue retries) land in it, and
      // rolling a day up again re-sums its week if that was already rolled up.
      const yesterday = previousDay(now.getTime());
      const requestedBy = `cron:${DAILY_ROLLUP}`;
      return enqueueRollups(env, [
        { granularity: "daily", periodStart: yesterday, requestedBy },
        { granularity: "daily", periodStart: addDays(yesterday, -1), requestedBy },
      ]);
    }
    case WEEKLY_ROLLUP:
      return enqueueRollups(env, [{ granularity: "weekly", periodStart: previousWeekStart(now.getTime()), requestedBy: `cron:${WEEKLY_ROLLUP}`, days: "missing" }]);
    default:
      console.log(JSON.stringify({ level: "warn", msg: "no job for cron", cron: controller.cron }));
  }
}

async function enqueueRollups(env: Env, chunks: RollupChunk[]): Promise<void> {
  await env.ROLLUPS.sendBatch(chunks.map((body) => ({ body, contentType: "json" as const })));
  console.log(JSON.stringify({ level: "info", msg: "rollups queued", chunks }));
}
