/**
 * Demand analytics: signals counted per course, per city and course, and unmet demand split by
 * why it went unmet (src/domain/demand-signals.ts): the courses to hire a trainer for (refused
 * NO_TRAINER, or notify-me registrations) and, beside them and never added to them, the courses
 * that sold out (refused for seats, or session waitlist sign-ups: add a session), over a UTC
 * instant range.
 *
 * Each view is one SQL aggregation that reads only a covering composite index, chosen by the
 * filter: with a course, demand_signals_course_analytics_idx (course, created_at, city, type,
 * reason) seeks that course and its date range; otherwise demand_signals_analytics_idx
 * (created_at, course, city, type, reason) seeks the date range. Either covers every column the
 * counts need, so the table is never read. The index is named (INDEXED BY) because, without
 * statistics, SQLite's planner may prefer a one-column index (city) and then read every matching
 * row from the table, over all time.
 */
import { and, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { cities, classes, demandSignals } from "../db/schema";
import { HIRING_DEMAND, SOLD_OUT_DEMAND } from "../domain/demand-signals";

export interface DemandFilter {
  courseId?: string | undefined;
  cityId?: string | undefined;
  /** Inclusive, epoch ms. */
  from?: number | undefined;
  /** Exclusive, epoch ms. */
  to?: number | undefined;
}

/** How many courses each of the two unmet-demand lists (hiring, sold out) holds. */
export const TOP_COURSES = 10;

export interface DemandCounts {
  courseId: string;
  courseName: string | null;
  total: number;
  blocked: number;
  waitlist: number;
  views: number;
  checkouts: number;
  /** PURCHASE_BLOCKED for NO_TRAINER. */
  blockedNoTrainer: number;
  /** WAITLIST for a course nobody teaches yet (notify-me). */
  notifyMe: number;
  /** PURCHASE_BLOCKED for seats (SESSION_FULL, INSUFFICIENT_CAPACITY). */
  blockedSoldOut: number;
  /** WAITLIST on a full session. */
  sessionWaitlist: number;
}

const COUNT_FIELDS = ["total", "blocked", "waitlist", "views", "checkouts", "blockedNoTrainer", "notifyMe", "blockedSoldOut", "sessionWaitlist"] as const;

const signals = demandSignals;
const type = signals.signalType;
const reason = signals.reason;
const blockedFor = (reasons: readonly string[]) => sql`(${type} = 'PURCHASE_BLOCKED' AND ${inArray(reason, [...reasons])})`;
const waitlistFor = (reasons: readonly string[]) => sql`(${type} = 'WAITLIST' AND ${inArray(reason, [...reasons])})`;
const hiring = sql`sum(${blockedFor(HIRING_DEMAND.blockedReasons)} OR ${waitlistFor(HIRING_DEMAND.waitlistReasons)})`;
const soldOut = sql`sum(${blockedFor(SOLD_OUT_DEMAND.blockedReasons)} OR ${waitlistFor(SOLD_OUT_DEMAND.waitlistReasons)})`;
const counts = sql`count(*) AS "total",
  sum(${type} = 'PURCHASE_BLOCKED') AS "blocked",
  sum(${type} = 'WAITLIST') AS "waitlist",
  sum(${type} = 'COURSE_VIEW') AS "views",
  sum(${type} = 'CHECKOUT_STARTED') AS "checkouts",
  sum(${blockedFor(HIRING_DEMAND.blockedReasons)}) AS "blockedNoTrainer",
  sum(${waitlistFor(HIRING_DEMAND.waitlistReasons)}) AS "notifyMe",
  sum(${blockedFor(SOLD_OUT_DEMAND.blockedReasons)}) AS "blockedSoldOut",
  sum(${waitlistFor(SOLD_OUT_DEMAND.waitlistReasons)}) AS "sessionWaitlist"`;
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

/** The four aggregations (EXPLAIN QUERY PLAN in the tests reads them). */
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
      GROUP BY ${signals.courseId} HAVING ${hiring} > 0
      ORDER BY ${hiring} DESC, ${signals.courseId} LIMIT ${sql.raw(String(TOP_COURSES))}`,
    soldOutCourses: sql`SELECT ${signals.courseId} AS "courseId", ${classes.name} AS "courseName", ${counts}
      FROM ${from} WHERE ${conditions}
      GROUP BY ${signals.courseId} HAVING ${soldOut} > 0
      ORDER BY ${soldOut} DESC, ${signals.courseId} LIMIT ${sql.raw(String(TOP_COURSES))}`,
  };
}

/** The four views, queried concurrently. */
export async function demandAnalytics(db: Db, filter: DemandFilter) {
  const queries = analyticsQueries(filter);
  const [byCourse, byCityAndCourse, topCourses, soldOutCourses] = await Promise.all([
    db.all<DemandCounts>(queries.byCourse),
    db.all<DemandCounts & { cityId: string | null; cityName: string | null }>(queries.byCityAndCourse),
    db.all<DemandCounts>(queries.topCourses),
    db.all<DemandCounts>(queries.soldOutCourses),
  ]);
  return {
    byCourse: byCourse.map(withCounts),
    byCityAndCourse: byCityAndCourse.map(withCounts),
    // Hiring demand only: a sold-out course does not need a trainer, however many were turned away.
    topCourses: topCourses.map(withCounts).map((row) => ({ ...row, unmetDemand: row.hiringDemand, recommendation: "HIRE_TRAINER" as const })),
    soldOutCourses: soldOutCourses.map(withCounts).map((row) => ({ ...row, recommendation: "ADD_SESSION" as const })),
  };
}

/** SQLite sums come back as numbers (null over no rows); the API always says a number, and the two demand figures. */
function withCounts<T extends DemandCounts>(row: T): T & { hiringDemand: number; soldOutDemand: number } {
  const numbers = Object.fromEntries(COUNT_FIELDS.map((field) => [field, Number(row[field] ?? 0)])) as Pick<DemandCounts, (typeof COUNT_FIELDS)[number]>;
  return { ...row, ...numbers, hiringDemand: numbers.blockedNoTrainer + numbers.notifyMe, soldOutDemand: numbers.blockedSoldOut + numbers.sessionWaitlist };
}
