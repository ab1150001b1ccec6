/**
 * One overall metric as a series over days or weeks, read from the rollups (the `metrics` table the
 * admin metrics API reads), for the console's metrics chart. Only metrics without a breakdown
 * dimension make a single series; periods without a row are left out (not rolled up yet).
 */
import { and, asc, eq, gte, lte } from "drizzle-orm";
import type { Db } from "../db/client";
import { metrics } from "../db/schema";
import { weekStartOf } from "../domain/metric-periods";
import { type MetricName, METRICS, rateOf } from "../domain/metrics";

/** Metrics that are one figure per period (no breakdown by code, source, reason or city). */
export const SERIES_METRICS = (Object.keys(METRICS) as MetricName[]).filter((name) => !("dimension" in METRICS[name]));

export interface SeriesPoint {
  periodStart: string;
  value: number;
  denominator: number | null;
  rate: number | null;
}

export async function metricSeries(db: Db, query: { metric: MetricName; granularity: "daily" | "weekly"; startDate: string; endDate: string }): Promise<SeriesPoint[]> {
  const startDate = query.granularity === "weekly" ? weekStartOf(query.startDate) : query.startDate;
  const rows = await db
    .select({ periodStart: metrics.periodStart, value: metrics.value, denominator: metrics.denominator })
    .from(metrics)
    .where(
      and(
        eq(metrics.granularity, query.granularity),
        eq(metrics.scope, "all"),
        eq(metrics.scopeId, ""),
        eq(metrics.metric, query.metric),
        eq(metrics.dimension, ""),
        gte(metrics.periodStart, startDate),
        lte(metrics.periodStart, query.endDate),
      ),
    )
    .orderBy(asc(metrics.periodStart))
    .limit(400);
  return rows.map((row) => ({ ...row, rate: row.denominator === null ? null : rateOf(row.value, row.denominator) }));
}
