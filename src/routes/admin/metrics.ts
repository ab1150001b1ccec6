/**
 * Admin metrics: read the daily and weekly rollups (a range, or the latest snapshot), and backfill a range of them through the
 * metric-rollups Queue (one message per day or week, so no single invocation runs long).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, desc, eq, gte, lte, sql } from "drizzle-orm";
import { getDb } from "../../db/client";
import { METRIC_GRANULARITIES, metrics } from "../../db/schema";
import { addDays, backfillPeriods, backfillRangeProblem, daysInRange, isCalendarDate, MAX_BACKFILL_DAYS, type RollupChunk, weekStartOf } from "../../domain/metric-periods";
import { METRIC_NAMES, METRICS, rateOf } from "../../domain/metrics";
import { ApiError } from "../../errors";
import { createRouter, errorResponses, jsonBody, jsonResponse, page, validationError } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";

const tags = ["Admin: metrics"];
const SEND_BATCH = 100;

const CalendarDate = (description: string) =>
  z.string().refine(isCalendarDate, "must be a calendar date, YYYY-MM-DD").openapi({ example: "2026-03-02", description });

const Id = z.string().min(1).max(64);

const metricGlossary = Object.entries(METRICS)
  .map(([name, m]) => `\`${name}\` (${m.kind}${"dimension" in m ? `, by ${m.dimension}` : ""}; ${m.scopes.join("/")}): ${m.description}`)
  .join("\n- ");

const MetricSchema = z
  .object({
    granularity: z.enum(METRIC_GRANULARITIES),
    periodStart: z.string().openapi({ description: "The UTC day, or the Monday of the ISO week", example: "2026-03-02" }),
    scope: z.enum(["all", "studio", "class", "city"]),
    scopeId: z.string().openapi({ description: "The studio, class or city id; empty for scope all" }),
    metric: z.enum(METRIC_NAMES),
    dimension: z.string().openapi({ description: "Error code, booking source, reason or city id for metrics broken down by one; empty otherwise" }),
    value: z.number().int().openapi({ description: "A count, an amount in pence, or a rate's numerator" }),
    denominator: z.number().int().nullable().openapi({ description: "A rate's denominator; null for counts and amounts" }),
    rate: z.number().nullable().openapi({ description: "value / denominator; null for counts, amounts and rates with nothing to divide by" }),
    computedAt: z.iso.datetime(),
  })
  .openapi("Metric", { description: `One rolled-up figure. Metrics:\n- ${metricGlossary}` });

const MetricQuery = z
  .object({
    granularity: z.enum(METRIC_GRANULARITIES).default("daily"),
    startDate: CalendarDate("First period start, inclusive (UTC date); for weekly, any day of the first week"),
    endDate: CalendarDate("Last period start, inclusive (UTC date)"),
    studioId: Id.optional().openapi({ description: "Rows of this studio (scope studio) instead of the overall ones" }),
    classId: Id.optional().openapi({ description: "Rows of this class (scope class)" }),
    cityId: Id.optional().openapi({ description: "Rows of this city (scope city)" }),
    metric: z.enum(METRIC_NAMES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(500).openapi({ description: "Page size, 1–1000" }),
    cursor: z.string().max(512).optional().openapi({ description: "nextCursor from the previous page" }),
  })
  .superRefine((query, ctx) => {
    if ([query.studioId, query.classId, query.cityId].filter(Boolean).length > 1) {
      ctx.addIssue({ code: "custom", path: ["studioId"], message: "give at most one of studioId, classId, cityId" });
    }
    if (isCalendarDate(query.startDate) && isCalendarDate(query.endDate)) {
      if (query.endDate < query.startDate) ctx.addIssue({ code: "custom", path: ["endDate"], message: "is before startDate" });
      else if (daysInRange(query.startDate, query.endDate) > MAX_BACKFILL_DAYS) {
        ctx.addIssue({ code: "custom", path: ["endDate"], message: `the range may cover at most ${MAX_BACKFILL_DAYS} days` });
      }
    }
  });

const BackfillBody = z
  .object({
    startDate: CalendarDate("First UTC day, inclusive"),
    endDate: CalendarDate("Last UTC day, inclusive; a day that has ended"),
    granularity: z.enum(METRIC_GRANULARITIES).openapi({
      description: "daily: one chunk per day. weekly: one chunk per ISO week overlapping the range, each rolling up its days again and then the week",
    }),
  })
  .openapi("MetricBackfill");

const BackfillAccepted = z
  .object({
    backfillId: z.string(),
    granularity: z.enum(METRIC_GRANULARITIES),
    startDate: z.string(),
    endDate: z.string(),
    chunks: z.number().int().openapi({ description: "Queue messages sent: one per day or per week" }),
    firstPeriod: z.string(),
    lastPeriod: z.string(),
  })
  .openapi("MetricBackfillAccepted");

const Snapshot = z
  .object({
    periodStart: z.string().openapi({ description: "First UTC day of the period", example: "2026-03-02" }),
    periodEnd: z.string().openapi({ description: "Last UTC day of the period, inclusive (the Sunday, for a week)", example: "2026-03-08" }),
    computedAt: z.iso.datetime().openapi({ description: "When the period was last rolled up" }),
    metrics: z.array(MetricSchema.omit({ granularity: true, periodStart: true, scope: true, scopeId: true, computedAt: true })).openapi({
      description: "Every metric of the period at scope all, dimension rows included, in metric and dimension order",
    }),
  })
  .openapi("MetricSnapshot");

const LatestSnapshots = z
  .object({
    daily: Snapshot.nullable().openapi({ description: "The most recent day rolled up; null before the first rollup" }),
    weekly: Snapshot.nullable().openapi({ description: "The most recent ISO week rolled up; null before the first rollup" }),
  })
  .openapi("LatestMetrics");

/** The most recent period of a granularity rolled up (its `events.total` marker row), with its overall rows; null for none. */
async function latestSnapshot(db: ReturnType<typeof getDb>, granularity: (typeof METRIC_GRANULARITIES)[number]) {
  const [marker] = await db
    .select({ periodStart: metrics.periodStart })
    .from(metrics)
    .where(and(eq(metrics.granularity, granularity), eq(metrics.scope, "all"), eq(metrics.scopeId, ""), eq(metrics.metric, "events.total"), eq(metrics.dimension, "")))
    .orderBy(desc(metrics.periodStart))
    .limit(1);
  if (!marker) return null;
  const rows = await db
    .select()
    .from(metrics)
    .where(and(eq(metrics.granularity, granularity), eq(metrics.periodStart, marker.periodStart), eq(metrics.scope, "all"), eq(metrics.scopeId, "")))
    .orderBy(asc(metrics.metric), asc(metrics.dimension));
  const computedAt = Math.max(...rows.map((row) => row.computedAt.getTime()));
  return {
    periodStart: marker.periodStart,
    periodEnd: granularity === "daily" ? marker.periodStart : addDays(marker.periodStart, 6),
    computedAt: new Date(computedAt).toISOString(),
    metrics: rows.map(({ metric, dimension, value, denominator }) => ({
      metric: metric as (typeof METRIC_NAMES)[number],
      dimension,
      value,
      denominator,
      rate: denominator === null ? null : rateOf(value, denominator),
    })),
  };
}

type MetricRow = typeof metrics.$inferSelect;
const toMetric = (row: MetricRow) => ({
  ...row,
  metric: row.metric as (typeof METRIC_NAMES)[number],
  rate: row.denominator === null ? null : rateOf(row.value, row.denominator),
  computedAt: row.computedAt.toISOString(),
});

export const metricRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/latest",
      tags,
      summary: "The latest daily and weekly snapshot: the most recent day and week rolled up, every metric at scope all",
      ...staffOrAdmin,
      responses: { 200: jsonResponse(LatestSnapshots, "The two snapshots"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const db = getDb(c.env.DB);
      const [daily, weekly] = await Promise.all([latestSnapshot(db, "daily"), latestSnapshot(db, "weekly")]);
      return c.json({ daily, weekly }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Rolled-up metrics for a range of days or weeks (overall, or one studio, class or city)",
      ...staffOrAdmin,
      request: { query: MetricQuery },
      responses: { 200: jsonResponse(page(MetricSchema), "Metrics in period, metric and dimension order"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const [scope, scopeId] = query.studioId
        ? (["studio", query.studioId] as const)
        : query.classId
          ? (["class", query.classId] as const)
          : query.cityId
            ? (["city", query.cityId] as const)
            : (["all", ""] as const);
      // Weeks are stored under their Monday: a range starting mid-week includes that week.
      const startDate = query.granularity === "weekly" ? weekStartOf(query.startDate) : query.startDate;
      const conditions = [
        eq(metrics.granularity, query.granularity),
        eq(metrics.scope, scope),
        eq(metrics.scopeId, scopeId),
        gte(metrics.periodStart, startDate),
        lte(metrics.periodStart, query.endDate),
        query.metric ? eq(metrics.metric, query.metric) : undefined,
      ];
      if (query.cursor) {
        const [periodStart, metric, dimension] = decodeCursor(query.cursor, 3).map(String) as [string, string, string];
        conditions.push(sql`(${metrics.periodStart}, ${metrics.metric}, ${metrics.dimension}) > (${periodStart}, ${metric}, ${dimension})`);
      }
      const rows = await getDb(c.env.DB)
        .select()
        .from(metrics)
        .where(and(...conditions))
        .orderBy(asc(metrics.periodStart), asc(metrics.metric), asc(metrics.dimension))
        .limit(query.limit + 1);
      const { data, nextCursor } = toPage(rows, query.limit, (row) => [row.periodStart, row.metric, row.dimension]);
      return c.json({ data: data.map(toMetric), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/rollup",
      tags,
      summary: `Backfill: roll up a range of at most ${MAX_BACKFILL_DAYS} ended days again, in the background (one queue message per day or week)`,
      ...adminOnly,
      request: { body: jsonBody(BackfillBody) },
      responses: {
        202: jsonResponse(BackfillAccepted, "Queued; rows appear as each chunk is processed"),
        ...errorResponses(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const { startDate, endDate, granularity } = c.req.valid("json");
      const problem = backfillRangeProblem(startDate, endDate, Date.now());
      if (problem) {
        throw validationError(new z.ZodError([{ code: "custom", path: ["endDate"], message: problem, input: endDate }]), "json");
      }
      const backfillId = `bfl_${crypto.randomUUID().replaceAll("-", "")}`;
      const requestedBy = `backfill:${backfillId} by ${c.get("principal")!.subject}`;
      const periods = backfillPeriods(startDate, endDate, granularity);
      const chunks: RollupChunk[] = periods.map((periodStart) =>
        granularity === "weekly" ? { granularity, periodStart, requestedBy, days: "recompute" } : { granularity, periodStart, requestedBy },
      );
      try {
        for (let i = 0; i < chunks.length; i += SEND_BATCH) {
          await c.env.ROLLUPS.sendBatch(chunks.slice(i, i + SEND_BATCH).map((body) => ({ body, contentType: "json" as const })));
        }
      } catch (error) {
        console.error(JSON.stringify({ level: "error", msg: "could not queue rollup chunks", backfillId, error: String(error) }));
        // Rolling a period up twice is harmless, so the whole request may simply be sent again.
        throw new ApiError("SERVICE_UNAVAILABLE", "The rollup queue is unavailable; send the request again", { backfillId });
      }
      console.log(JSON.stringify({ level: "info", msg: "rollup backfill queued", backfillId, granularity, startDate, endDate, chunks: chunks.length }));
      return c.json({ backfillId, granularity, startDate, endDate, chunks: chunks.length, firstPeriod: periods[0]!, lastPeriod: periods[periods.length - 1]! }, 202);
    },
  );
