/**
 * What every report shares: the range it covers (UTC days, both ends included, as epoch ms
 * [startMs, endMs)), its definition (columns and a run function) and small helpers to run SQL on
 * D1. Each report's SQL lives beside it, so `mainQuery` can be shown with EXPLAIN QUERY PLAN.
 */
import { dayRange } from "../../domain/metric-periods";

/** The longest range one report may cover, in days (both ends included). */
export const MAX_REPORT_DAYS = 400;

/** How many customers `customer-lifetime-value` lists by default, and at most. */
export const DEFAULT_TOP = 100;
export const MAX_TOP = 1000;

export interface ReportRange {
  startDate: string;
  endDate: string;
  /** Start of startDate, UTC. */
  startMs: number;
  /** Start of the day after endDate, UTC (exclusive). */
  endMs: number;
}

export interface ReportOptions {
  /** Customers listed by `customer-lifetime-value`. */
  top: number;
  /** Now, epoch ms: utilisation and no-shows count only sessions that have started. */
  nowMs: number;
}

export type ReportCell = string | number | null;
export type ReportRow = Record<string, ReportCell>;

export interface ReportResult {
  data: ReportRow[];
  /** Figures about the whole range that are not rows (e.g. a distribution); not in the CSV. */
  summary?: Record<string, unknown>;
}

/** One SQL statement with its positional parameters (?1, ?2 …). */
export interface Query {
  sql: string;
  params: unknown[];
}

export interface ReportDefinition {
  description: string;
  /** Row keys, in CSV column order. */
  columns: readonly string[];
  /** The statement that reads the big tables (bookings, events): its plan is checked in tests and the bench. */
  mainQuery(range: ReportRange, options: ReportOptions): Query;
  run(db: D1Database, range: ReportRange, options: ReportOptions): Promise<ReportResult>;
}

export function reportRange(startDate: string, endDate: string): ReportRange {
  return { startDate, endDate, startMs: dayRange(startDate).startMs, endMs: dayRange(endDate).endMs };
}

/** Runs one statement and returns its rows. */
export async function rowsOf<T = ReportRow>(db: D1Database, query: Query): Promise<T[]> {
  const { results } = await db
    .prepare(query.sql)
    .bind(...query.params)
    .all<T>();
  return results;
}

/** numerator / denominator rounded to 4 places; null when there is nothing to divide by. */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;
}

/** Nearest-rank percentile (p in 0–1) of values sorted ascending; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Epoch ms as ISO 8601 UTC, null stays null. */
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

/** Bookings that count: still confirmed (a cancelled booking counts for nothing, like customer stats). */
export const COUNTED = `b.status = 'confirmed'`;

/**
 * SQL: a booking's seats and net price over its confirmed lines, kept on the header by triggers
 * (bookings.net_seats / net_pence), so a report reads them from its covering index, not the lines.
 */
export const LINE_SEATS = `b.net_seats`;
export const LINE_PENCE = `b.net_pence`;

/**
 * The two covering indexes the reports name (INDEXED BY), so the planner never picks one that
 * needs a lookup of every row: per customer, in customer order (status, customer_id, confirmed_at,
 * net_pence, class_id), and by time (confirmed_at, status, class_id, customer_id, source,
 * total_amount_pence, net_pence, net_seats) for the range's bookings grouped any other way.
 */
export const BY_CUSTOMER = `bookings b INDEXED BY bookings_customer_value_idx`;
export const BY_TIME = `bookings b INDEXED BY bookings_confirmed_at_idx`;

/**
 * SQL: the UTC month (YYYY-MM) of an epoch-ms column that lies in the range, as a CASE over the
 * month starts (cheaper than strftime on every row of a million); null outside the range.
 */
export function monthInRange(column: string, range: ReportRange): string {
  const whens: string[] = [];
  let month = range.startDate.slice(0, 7);
  const last = range.endDate.slice(0, 7);
  for (;;) {
    const [year, m] = month.split("-").map(Number) as [number, number];
    const nextStart = Date.UTC(year, m, 1);
    whens.push(`WHEN ${column} < ${Math.min(nextStart, range.endMs)} THEN '${month}'`);
    if (month === last) break;
    month = new Date(nextStart).toISOString().slice(0, 7);
  }
  return `CASE WHEN ${column} < ${range.startMs} THEN NULL ${whens.join(" ")} END`;
}

/** Milliseconds as minutes, two decimals; null stays null. */
export const minutesOf = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 600) / 100);
