/** GET /admin/demand: demand analytics (src/services/demand-analytics.ts, the admin API's) over a range of UTC days. */
import { Hono } from "hono";
import { DateTime } from "luxon";
import { z } from "zod";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { DemandPage } from "../../pages/console/demand";
import { demandAnalytics } from "../../services/demand-analytics";
import { pageUser, renderPage } from "../page-response";

const DEFAULT_DAYS = 30;
const day = z.iso.date().optional().catch(undefined);
const Query = z.object({ from: day, to: day });

export const consoleDemandPages = new Hono<AppEnv>().get("/", async (c) => {
  const query = Query.parse(c.req.query());
  const today = DateTime.utc().startOf("day");
  const to = query.to ?? today.toISODate()!;
  const from = query.from ?? today.minus({ days: DEFAULT_DAYS - 1 }).toISODate()!;
  const problem = to < from ? "“To” is before “From”: swap the dates." : null;
  const result = problem
    ? { byCourse: [], byCityAndCourse: [], topCourses: [], soldOutCourses: [] }
    : await demandAnalytics(getDb(c.env.DB), { from: Date.parse(`${from}T00:00:00Z`), to: Date.parse(`${to}T00:00:00Z`) + 86_400_000 });
  const byCity = result.byCityAndCourse
    .filter((row) => row.hiringDemand > 0 || row.soldOutDemand > 0)
    .sort((a, b) => b.hiringDemand - a.hiringDemand || b.soldOutDemand - a.soldOutDemand);
  return renderPage(
    c,
    <DemandPage user={pageUser(c)} form={{ from, to }} problem={problem} top={result.topCourses} soldOut={result.soldOutCourses} byCourse={result.byCourse} byCity={byCity} />,
    { status: problem ? 400 : 200 },
  );
});
