/**
 * Demand analytics: signals counted per course, per city and course, and the courses with the
 * most unmet demand (purchases blocked + waitlist sign-ups), over a UTC instant range.
 *
 * Each view is one SQL aggregation that reads only a covering composite index, chosen by the
 * filter: with a course, demand_signals_course_analytics_idx (course, created_at, city, type) seeks
 * that course and its date range; otherwise demand_signals_analytics_idx (created_at, course, city,
 * type) seeks the date range. Either covers every column the counts need, so the table is never
 * read. The index is named (INDEXED BY) because, without statistics, SQLite's planner may prefer a
 * one-column index (city) and then read every matching row from the table, over all time.
 */
import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { cities, classes, demandSignals } from "../db/schema";

export interface DemandFilter {
  courseId?: string | undefined;
  cityId?: string | undefined;
  /** Inclusive, epoch ms. */
  from?: number | undefined;
  /** Exclusive, epoch ms. */
  to?: number | undefined;
}

/** How many of the top courses by unmet demand are listed. */
export const TOP_COURSES = 10;

export interface DemandCounts {
  courseId: string;
  courseName: string | null;
  total: number;
  blocked: number;
  waitlist: number;
  views: number;
  checkouts: number;
}

const signals = demandSignals;
const type = signals.signalType;
const counts = sql`count(*) AS "total",
  sum(${type} = 'PURCHASE_BLOCKED') AS "blocked",
  sum(${type} = 'WAITLIST') AS "waitlist",
  sum(${type} = 'COURSE_VIEW') AS "views",
  sum(${type} = 'CHECKOUT_STARTED') AS "checkouts"`;
const unmet = sql`sum(${type} IN ('PURCHASE_BLOCKED', 'WAITLIST'))`;
/** The signals through the index that serves the filter (see above), with their course. */
const fromSignals = (filter: DemandFilter) =>
  filter.courseId !== undefined
    ? sql`${signals} INDEXED BY demand_signals_course_analytics_idx LEFT JOIN ${classes} ON ${classes.id} = ${signals.courseId}`
    : sql`${signals} INDEXED BY demand_signals_analytics_idx LEFT JOIN ${classes} ON ${classes.id} = ${signals.courseId}`;

function where(filter: DemandFilter): SQL {
  return (
    and(
      filter.courseId !== undefined ? eq(signals.courseId, filter.courseId) : undefined,
      filter.cityId !== undefined ? eq(signals.cityId, filter.cityId) : undefined,
      filter.from !== undefined ? gte(signals.createdAt, new Date(filter.from)) : undefined,
      filter.to !== undefined ? lt(signals.createdAt, new Date(filter.to)) : undefined,
    ) ?? sql`1`
  );
}

/** The three aggregations (EXPLAIN QUERY PLAN in the tests reads them). */
export function analyticsQueries(filter: DemandFilter) {
  const conditions = where(filter);
  const from = fromSignals(filter);
  return {
    byCourse: sql`SELECT ${signals.courseId} AS "courseId", ${classes.name} AS "courseName", ${counts}
      FROM ${from} WHERE ${conditions}
      GROUP BY ${signals.courseId} ORDER BY ${signals.courseId}`,
    byCityAndCourse: sql`SELECT ${signals.cityId} AS "cityId", ${cities.name} AS "cityName",
        ${signals.courseId} AS "courseId", ${classes.name} AS "courseName", ${counts}
      FROM ${from} LEFT JOIN ${cities} ON ${cities.id} = ${signals.cityId} WHERE ${conditions}
      GROUP BY ${signals.cityId}, ${signals.courseId} ORDER BY ${signals.cityId}, ${signals.courseId}`,
    topCourses: sql`SELECT ${signals.courseId} AS "courseId", ${classes.name} AS "courseName", ${counts}
      FROM ${from} WHERE ${conditions}
      GROUP BY ${signals.courseId} HAVING ${unmet} > 0
      ORDER BY ${unmet} DESC, ${signals.courseId} LIMIT ${sql.raw(String(TOP_COURSES))}`,
  };
}

/** The three views, queried concurrently. */
export async function demandAnalytics(db: Db, filter: DemandFilter) {
  const queries = analyticsQueries(filter);
  const [byCourse, byCityAndCourse, topCourses] = await Promise.all([
    db.all<DemandCounts>(queries.byCourse),
    db.all<DemandCounts & { cityId: string | null; cityName: string | null }>(queries.byCityAndCourse),
    db.all<DemandCounts>(queries.topCourses),
  ]);
  return {
    byCourse: byCourse.map(withCounts),
    byCityAndCourse: byCityAndCourse.map(withCounts),
    topCourses: topCourses.map((row) => ({ ...withCounts(row), unmetDemand: Number(row.blocked) + Number(row.waitlist) })),
  };
}

/** SQLite sums come back as numbers (null over no rows); the API always says a number. */
function withCounts<T extends DemandCounts>(row: T): T {
  return {
    ...row,
    total: Number(row.total ?? 0),
    blocked: Number(row.blocked ?? 0),
    waitlist: Number(row.waitlist ?? 0),
    views: Number(row.views ?? 0),
    checkouts: Number(row.checkouts ?? 0),
  };
}
