/** GET /admin/metrics: one overall metric over a range of days or weeks, charted with its numbers beside it. */
import { Hono } from "hono";
import { DateTime } from "luxon";
import { z } from "zod";
import { getDb } from "../../db/client";
import { daysInRange, isCalendarDate, MAX_BACKFILL_DAYS } from "../../domain/metric-periods";
import { type MetricName, METRICS } from "../../domain/metrics";
import type { AppEnv } from "../../env";
import { MetricsPage } from "../../pages/console/metrics";
import { metricSeries, SERIES_METRICS } from "../../services/metric-series";
import { pageUser, renderPage } from "../page-response";

const DEFAULT_DAYS = 30;
const day = z.string().refine(isCalendarDate).optional().catch(undefined);
const Query = z.object({
  metric: z.enum(SERIES_METRICS as [MetricName, ...MetricName[]]).catch("bookings.confirmed"),
  granularity: z.enum(["daily", "weekly"]).catch("daily"),
  from: day,
  to: day,
});

export const consoleMetricPages = new Hono<AppEnv>().get("/", async (c) => {
  const query = Query.parse(c.req.query());
  const today = DateTime.utc().startOf("day");
  const to = query.to ?? today.toISODate()!;
  const from = query.from ?? today.minus({ days: query.granularity === "weekly" ? DEFAULT_DAYS * 4 : DEFAULT_DAYS - 1 }).toISODate()!;
  const problem =
    to < from ? "“To” is before “From”: swap the dates." : daysInRange(from, to) > MAX_BACKFILL_DAYS ? `Choose at most ${MAX_BACKFILL_DAYS} days.` : null;
  const points = problem ? [] : await metricSeries(getDb(c.env.DB), { metric: query.metric, granularity: query.granularity, startDate: from, endDate: to });
  const definition = METRICS[query.metric];
  return renderPage(
    c,
    <MetricsPage
      user={pageUser(c)}
      metrics={SERIES_METRICS.map((name) => ({ name, description: METRICS[name].description }))}
      form={{ metric: query.metric, granularity: query.granularity, from, to }}
      kind={definition.kind}
      description={definition.description}
      points={points}
      problem={problem}
    />,
    { status: problem ? 400 : 200 },
  );
});
