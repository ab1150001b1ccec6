/** Cron Triggers (wrangler.toml [triggers]): what runs on which schedule. */
import { getDb } from "../db/client";
import type { Env } from "../env";
import { purgeExpiredIdempotencyKeys } from "../middleware/idempotency";
import { notifyInterestedCustomers } from "../services/course-interest";
import { reconcileLedgers } from "./reconcile";

export const HOURLY = "0 * * * *";

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const db = getDb(env.DB);
  const now = new Date(controller.scheduledTime);
  switch (controller.cron) {
    case HOURLY: {
      const [purged, reconciled, notifiedInterest] = await Promise.all([
        purgeExpiredIdempotencyKeys(db, now),
        reconcileLedgers(env, db, now),
        notifyInterestedCustomers(env, db, now),
      ]);
      console.log(JSON.stringify({ level: "info", msg: "hourly jobs", purgedIdempotencyKeys: purged, notifiedInterest, ...reconciled }));
      return;
    }
    default:
      console.log(JSON.stringify({ level: "warn", msg: "no job for cron", cron: controller.cron }));
  }
}
