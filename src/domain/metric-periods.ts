/**
 * Periods of the metric rollups, pure and in UTC: a day is [00:00, 24:00) UTC, a week is the ISO
 * week (Monday to Sunday). Dates are `YYYY-MM-DD` strings, instants epoch milliseconds.
 */
import { DateTime } from "luxon";

export type Granularity = "daily" | "weekly";

/** A unit of rollup work on the metric-rollups Queue: one day or one ISO week (UTC). */
export interface RollupChunk {
  granularity: Granularity;
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

/** The longest range one backfill request may cover, in days. */
export const MAX_BACKFILL_DAYS = 366;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function utcDate(date: string): DateTime {
  const parsed = DATE.test(date) ? DateTime.fromISO(date, { zone: "utc" }) : DateTime.invalid("not YYYY-MM-DD");
  if (!parsed.isValid) throw new RangeError(`${date} is not a calendar date (YYYY-MM-DD)`);
  return parsed;
}

const format = (date: DateTime) => date.toISODate()!;

/** True for a real calendar date written YYYY-MM-DD (2025-02-30 is not one). */
export function isCalendarDate(date: string): boolean {
  return DATE.test(date) && DateTime.fromISO(date, { zone: "utc" }).isValid;
}

/** The UTC date an instant falls on. */
export function utcDateOf(instantMs: number): string {
  return format(DateTime.fromMillis(instantMs, { zone: "utc" }));
}

/** The instants of a UTC day: [startMs, endMs). */
export function dayRange(date: string): { startMs: number; endMs: number } {
  const start = utcDate(date);
  return { startMs: start.toMillis(), endMs: start.plus({ days: 1 }).toMillis() };
}

/** `date` moved by `days` (negative for earlier). */
export function addDays(date: string, days: number): string {
  return format(utcDate(date).plus({ days }));
}

/** The Monday that starts the ISO week `date` is in. */
export function weekStartOf(date: string): string {
  return format(utcDate(date).startOf("week"));
}

/** The seven dates of the week starting on `monday`. */
export function daysOfWeek(monday: string): string[] {
  const start = utcDate(monday);
  if (start.weekday !== 1) throw new RangeError(`${monday} is not a Monday`);
  return Array.from({ length: 7 }, (_, i) => format(start.plus({ days: i })));
}

/** The day before the one `nowMs` falls on: what the daily cron rolls up. */
export function previousDay(nowMs: number): string {
  return addDays(utcDateOf(nowMs), -1);
}

/** The Monday of the week before the one `nowMs` falls in: what the weekly cron rolls up. */
export function previousWeekStart(nowMs: number): string {
  return addDays(weekStartOf(utcDateOf(nowMs)), -7);
}

/** True once the whole UTC day has passed at `nowMs`: only such days are rolled up. */
export function dayHasEnded(date: string, nowMs: number): boolean {
  return dayRange(date).endMs <= nowMs;
}

/** Days from `start` to `end`, both included (0 when end is before start). */
export function daysInRange(start: string, end: string): number {
  return Math.max(0, Math.round(utcDate(end).diff(utcDate(start), "days").days) + 1);
}

/**
 * The periods a backfill over [startDate, endDate] (both included) is split into, one queue
 * message each: every day, or every ISO week that overlaps the range (by its Monday).
 */
export function backfillPeriods(startDate: string, endDate: string, granularity: Granularity): string[] {
  const first = granularity === "daily" ? startDate : weekStartOf(startDate);
  const step = granularity === "daily" ? 1 : 7;
  const periods: string[] = [];
  for (let period = first; period <= endDate; period = addDays(period, step)) periods.push(period);
  return periods;
}

/** Why a backfill range is refused, or null when it is fine. `nowMs` decides which days have ended. */
export function backfillRangeProblem(startDate: string, endDate: string, nowMs: number): string | null {
  if (endDate < startDate) return "endDate is before startDate";
  if (daysInRange(startDate, endDate) > MAX_BACKFILL_DAYS) return `the range is longer than ${MAX_BACKFILL_DAYS} days`;
  if (!dayHasEnded(endDate, nowMs)) return `endDate must be a day that has ended (at most ${previousDay(nowMs)}, UTC)`;
  return null;
}
