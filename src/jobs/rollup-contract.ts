/** A unit of rollup work on the metric-rollups Queue: one day or one ISO week (UTC). */
export interface RollupChunk {
  granularity: "daily" | "weekly";
  /** `YYYY-MM-DD`: the day, or the Monday that starts the week. */
  periodStart: string;
  /** Who asked: the cron, or a backfill request id. */
  requestedBy: string;
}
