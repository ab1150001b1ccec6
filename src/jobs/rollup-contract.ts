/** A unit of rollup work on the metric-rollups Queue: one day or one ISO week (UTC). */
export interface RollupChunk {
  granularity: "daily" | "weekly";
  /** `YYYY-MM-DD`: the day, or the Monday that starts the week. */
  periodStart: string;
  /** Who asked: the cron, or a backfill request id. */
  requestedBy: string;
  /**
   * Weekly only: which of the week's days to roll up before summing them. "missing" (the default,
   * the weekly cron) rolls up only days never rolled up; "recompute" (a backfill) redoes all seven.
   */
  days?: "missing" | "recompute";
}
