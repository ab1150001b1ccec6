/** Cron Triggers (wrangler.toml [triggers]): what runs on which schedule. */
import { configOf } from "../config";
import { type Db, getDb } from "../db/client";
import { purgeExpiredIdempotencyKeys } from "../db/idempotency-keys";
import { parseAlertRules } from "../domain/alert-rules";
import { addDays, previousDay, previousWeekStart } from "../domain/metric-periods";
import type { Env } from "../env";
import { purgeOldSignInRecords } from "../services/auth-sessions";
import { notifyInterestedCustomers } from "../services/course-interest";
import { sweepStuckDeliveries } from "../services/webhooks";
import { runAlertChecks } from "./alert-checks";
import { runCertificateJobs } from "./certificates";
import { checkPublicBaseUrl } from "./config-checks";
import { closeExpiredCheckouts, finishPaidBookings, resumePendingRefunds } from "./payment-sweeps";
import { reconcileLedgers } from "./reconcile";
import { runSessionMessages, SESSION_MESSAGES } from "./reminders";
import { runNoShowSweep } from "./no-show-sweep";
import type { RollupChunk } from "./rollup-contract";

/** Reconciliation, idempotency and sign-in purges, certificates and renewals, alert checks. */
export const HOURLY = "0 * * * *";
/** Yesterday's events into daily metric rows. */
export const DAILY_ROLLUP = "0 1 * * *";
/** Monday: the previous ISO week from its daily rows (after the daily rollup of Sunday at 01:00). */
export const WEEKLY_ROLLUP = "0 2 * * 1";

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const db = getDb(env.DB);
  const now = new Date(controller.scheduledTime);
  switch (controller.cron) {
    case HOURLY:
      return runHourly(env, db, now);
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
    case SESSION_MESSAGES: {
      // Both run whatever the other did; the invocation fails (and shows it) if either did.
      const outcomes = await Promise.allSettled([runSessionMessages(env, db, now), runNoShowSweep(env, now), closeExpiredCheckouts(env, now.getTime()), resumePendingRefunds(env, now.getTime()), finishPaidBookings(env, now.getTime())]);
      for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
      return;
    }
    case WEEKLY_ROLLUP:
      return enqueueRollups(env, [{ granularity: "weekly", periodStart: previousWeekStart(now.getTime()), requestedBy: `cron:${WEEKLY_ROLLUP}`, days: "missing" }]);
    default:
      console.log(JSON.stringify({ level: "warn", msg: "no job for cron", cron: controller.cron }));
  }
}

/**
 * Reconciliation, the idempotency purge, notify-me and the alert checks. Each runs whatever the
 * others did: a failure is logged with the job's name, and once all have run the invocation fails
 * (so the Cron Trigger shows it) naming them.
 */
async function runHourly(env: Env, db: Db, now: Date): Promise<void> {
  const { alertRules } = configOf(env);
  const holdOverdueMs = parseAlertRules(alertRules).rules.dataDrift.holdOverdueMinutes * 60_000;
  const jobs = {
    purgedIdempotencyKeys: () => purgeExpiredIdempotencyKeys(db, now),
    purgedSignInRecords: () => purgeOldSignInRecords(db, now),
    publicBaseUrl: () => checkPublicBaseUrl(env, db, now),
    reconciliation: () => reconcileLedgers(env, db, { now, holdOverdueMs }),
    notifiedInterest: () => notifyInterestedCustomers(env, db, now),
    requeuedWebhookDeliveries: () => sweepStuckDeliveries(env, db, now),
    certificates: () => runCertificateJobs(env, db, now),
  };
  const settled = await Promise.allSettled(Object.values(jobs).map((job) => job()));
  const results: Record<string, unknown> = {};
  const failed: string[] = [];
  Object.keys(jobs).forEach((name, i) => record(name, settled[i]!));
  // After the others, as before: the alert checks then see this hour's reconciliation.
  const [alertChecks] = await Promise.allSettled([runAlertChecks(env.DB, db, alertRules, now)]);
  record("alertChecks", alertChecks);
  console.log(JSON.stringify({ level: failed.length > 0 ? "error" : "info", msg: "hourly jobs", failed, ...results }));
  if (failed.length > 0) throw new Error(`hourly jobs failed: ${failed.join(", ")}`);

  function record(name: string, outcome: PromiseSettledResult<unknown>): void {
    if (outcome.status === "fulfilled") {
      results[name] = outcome.value;
      return;
    }
    failed.push(name);
    results[name] = { error: String(outcome.reason) };
    console.error(JSON.stringify({ level: "error", msg: "hourly job failed", job: name, error: String(outcome.reason) }));
  }
}

async function enqueueRollups(env: Env, chunks: RollupChunk[]): Promise<void> {
  await env.ROLLUPS.sendBatch(chunks.map((body) => ({ body, contentType: "json" as const })));
  console.log(JSON.stringify({ level: "info", msg: "rollups queued", chunks }));
}
