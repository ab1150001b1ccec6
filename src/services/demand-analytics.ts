/**
 * Demand analytics: signals counted per course, per city and course, and the courses with the
 * most unmet demand (purchases blocked + waitlist sign-ups), over a UTC instant range. One SQL
 * aggregation per view, each reading only the composite index demand_signals_analytics_idx
 * (course, city, type, created_at), which covers every column the counts need.
 */
import { and, asc, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
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

const counts = {
  total: sql<number>`count(*)`.as("total"),
  blocked: sql<number>`sum(${demandSignals.signalType} = 'PURCHASE_BLOCKED')`.as("blocked"),
  waitlist: sql<number>`sum(${demandSignals.signalType} = 'WAITLIST')`.as("waitlist"),
  views: sql<number>`sum(${demandSignals.signalType} = 'COURSE_VIEW')`.as("views"),
  checkouts: sql<number>`sum(${demandSignals.signalType} = 'CHECKOUT_STARTED')`.as("checkouts"),
};
const unmet = sql`sum(${demandSignals.signalType} IN ('PURCHASE_BLOCKED', 'WAITLIST'))`;
// Aliased: a D1 batch hands rows back keyed by column name, and both tables have `name`.
const courseName = sql<string | null>`${classes.name}`.as("course_name");
const cityName = sql<string | null>`${cities.name}`.as("city_name");

function where(filter: DemandFilter): SQL | undefined {
  return and(
    filter.courseId !== undefined ? eq(demandSignals.courseId, filter.courseId) : undefined,
    filter.cityId !== undefined ? eq(demandSignals.cityId, filter.cityId) : undefined,
    filter.from !== undefined ? gte(demandSignals.createdAt, new Date(filter.from)) : undefined,
    filter.to !== undefined ? lt(demandSignals.createdAt, new Date(filter.to)) : undefined,
  );
}

/** The three views in one D1 round trip. */
export async function demandAnalytics(db: Db, filter: DemandFilter) {
  const [byCourse, byCityAndCourse, topCourses] = await db.batch([
    db
      .select({ courseId: demandSignals.courseId, courseName, ...counts })
      .from(demandSignals)
      .leftJoin(classes, eq(classes.id, demandSignals.courseId))
      .where(where(filter))
      .groupBy(demandSignals.courseId)
      .orderBy(asc(demandSignals.courseId)),
    db
      .select({ cityId: demandSignals.cityId, cityName, courseId: demandSignals.courseId, courseName, ...counts })
      .from(demandSignals)
      .leftJoin(classes, eq(classes.id, demandSignals.courseId))
      .leftJoin(cities, eq(cities.id, demandSignals.cityId))
      .where(where(filter))
      .groupBy(demandSignals.courseId, demandSignals.cityId)
      .orderBy(asc(demandSignals.cityId), asc(demandSignals.courseId)),
    db
      .select({ courseId: demandSignals.courseId, courseName, ...counts })
      .from(demandSignals)
      .leftJoin(classes, eq(classes.id, demandSignals.courseId))
      .where(where(filter))
      .groupBy(demandSignals.courseId)
      .having(sql`${unmet} > 0`)
      .orderBy(desc(unmet), asc(demandSignals.courseId))
      .limit(TOP_COURSES),
  ]);
  return {
    byCourse: byCourse.map(withCounts),
    byCityAndCourse: byCityAndCourse.map(withCounts),
    topCourses: topCourses.map((row) => ({ ...withCounts(row), unmetDemand: Number(row.blocked) + Number(row.waitlist) })),
  };
}

/** SQLite sums come back as numbers or null; the API always says a number. */
function withCounts<T extends { total: number; blocked: number; waitlist: number; views: number; checkouts: number }>(row: T): T {
  return {
    ...row,
    total: Number(row.total ?? 0),
    blocked: Number(row.blocked ?? 0),
    waitlist: Number(row.waitlist ?? 0),
    views: Number(row.views ?? 0),
    checkouts: Number(row.checkouts ?? 0),
  };
}
