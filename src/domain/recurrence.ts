/**
 * Recurrence expansion, pure: no bindings, no clock.
 *
 * The rule is expanded on the studio's wall clock ("floating" dates), and each wall-clock
 * occurrence is then placed in the studio's IANA zone. That is what keeps a Monday 18:00 London
 * class at 18:00 local on both sides of a daylight-saving change, where expanding in UTC would
 * drift it by an hour.
 */
import { DateTime, IANAZone } from "luxon";
import * as rruleModule from "rrule";
import type { Frequency as RRuleFrequency, Weekday as RRuleWeekday } from "rrule";

// rrule ships ESM (used by workerd and bundlers) and a UMD build (what Node loads for the seed
// script, where the named exports sit under `default`): take them from whichever loaded.
const { Frequency, RRule } = ("RRule" in rruleModule ? rruleModule : (rruleModule as unknown as { default: typeof rruleModule }).default);

export type RecurrenceFrequency = "DAILY" | "WEEKLY" | "MONTHLY";
export type WeekdayCode = "MO" | "TU" | "WE" | "TH" | "FR" | "SA" | "SU";

export interface RecurrenceSpec {
  frequency: RecurrenceFrequency;
  interval: number;
  /** Empty: the weekday (weekly) or day of month (monthly) of startDate. */
  byWeekday: WeekdayCode[];
  count?: number | null;
  /** Studio-local date YYYY-MM-DD, inclusive. */
  untilDate?: string | null;
  /** Studio-local date YYYY-MM-DD of the first occurrence. */
  startDate: string;
  /** Studio-local wall-clock time HH:MM. */
  startTime: string;
  durationMinutes: number;
  /** Studio-local dates on which the class does not run. */
  exceptionDates: string[];
  timeZone: string;
}

export interface Occurrence {
  startsAt: Date;
  endsAt: Date;
  /** Studio-local date YYYY-MM-DD. */
  localDate: string;
  /** Studio-local start and end as ISO 8601 with the offset in force then. */
  localStart: string;
  localEnd: string;
}

export type Expansion =
  | { ok: true; occurrences: Occurrence[] }
  | { ok: false; reason: "TOO_MANY_OCCURRENCES"; limit: number; unbounded: boolean }
  | { ok: false; reason: "INVALID_TIME_ZONE"; timeZone: string };

const FREQUENCY: Record<RecurrenceFrequency, RRuleFrequency> = {
  DAILY: Frequency.DAILY,
  WEEKLY: Frequency.WEEKLY,
  MONTHLY: Frequency.MONTHLY,
};

const WEEKDAY: Record<WeekdayCode, RRuleWeekday> = {
  MO: RRule.MO,
  TU: RRule.TU,
  WE: RRule.WE,
  TH: RRule.TH,
  FR: RRule.FR,
  SA: RRule.SA,
  SU: RRule.SU,
};

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** The RFC 5545 RRULE line for a spec (without DTSTART), for display and export. */
export function toRRuleString(spec: Pick<RecurrenceSpec, "frequency" | "interval" | "byWeekday" | "count" | "untilDate">): string {
  const parts = [`FREQ=${spec.frequency}`, `INTERVAL=${spec.interval}`];
  if (spec.byWeekday.length > 0) parts.push(`BYDAY=${spec.byWeekday.join(",")}`);
  if (spec.count) parts.push(`COUNT=${spec.count}`);
  if (spec.untilDate) parts.push(`UNTIL=${spec.untilDate.replaceAll("-", "")}T235959`);
  return parts.join(";");
}

/**
 * All occurrences of a spec, or a refusal when there would be more than `limit`
 * (an unbounded rule, with neither count nor until, is always refused).
 */
export function expandOccurrences(spec: RecurrenceSpec, limit: number): Expansion {
  if (!isValidTimeZone(spec.timeZone)) return { ok: false, reason: "INVALID_TIME_ZONE", timeZone: spec.timeZone };
  const unbounded = !spec.count && !spec.untilDate;
  if (unbounded) return { ok: false, reason: "TOO_MANY_OCCURRENCES", limit, unbounded };
  const [year, month, day] = spec.startDate.split("-").map(Number) as [number, number, number];
  const [hour, minute] = spec.startTime.split(":").map(Number) as [number, number];
  const rule = new RRule({
    freq: FREQUENCY[spec.frequency],
    interval: spec.interval,
    byweekday: spec.byWeekday.length > 0 ? spec.byWeekday.map((code) => WEEKDAY[code]) : null,
    count: spec.count ?? null,
    until: spec.untilDate ? floatingEndOfDay(spec.untilDate) : null,
    dtstart: new Date(Date.UTC(year, month - 1, day, hour, minute)),
  });

  const excluded = new Set(spec.exceptionDates);
  const floating: Date[] = [];
  let exceeded = false;
  rule.all((date) => {
    if (excluded.has(date.toISOString().slice(0, 10))) return true;
    if (floating.length === limit) {
      exceeded = true;
      return false;
    }
    floating.push(date);
    return true;
  });
  if (exceeded) return { ok: false, reason: "TOO_MANY_OCCURRENCES", limit, unbounded };
  return { ok: true, occurrences: floating.map((date) => placeInZone(date, spec.durationMinutes, spec.timeZone)) };
}

/**
 * Interprets a floating date's UTC fields as wall-clock time in `zone`, as RFC 5545 does: a time
 * skipped by a spring-forward change is read with the offset before the gap (01:30 becomes 02:30
 * summer time), and a time that happens twice at a fall-back change means the first of the two.
 */
function placeInZone(floating: Date, durationMinutes: number, zone: string): Occurrence {
  const wallClock = DateTime.fromObject(
    {
      year: floating.getUTCFullYear(),
      month: floating.getUTCMonth() + 1,
      day: floating.getUTCDate(),
      hour: floating.getUTCHours(),
      minute: floating.getUTCMinutes(),
    },
    { zone },
  );
  const start = wallClock.getPossibleOffsets().reduce((first, candidate) => (candidate.toMillis() < first.toMillis() ? candidate : first));
  const end = start.plus({ minutes: durationMinutes });
  return {
    startsAt: start.toUTC().toJSDate(),
    endsAt: end.toUTC().toJSDate(),
    localDate: start.toISODate() ?? "",
    localStart: start.toISO({ suppressMilliseconds: true }) ?? "",
    localEnd: end.toISO({ suppressMilliseconds: true }) ?? "",
  };
}

function floatingEndOfDay(date: string): Date {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day, 23, 59, 59));
}

/** A UTC instant as studio-local ISO 8601 with offset. */
export function toLocalIso(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? "";
}
