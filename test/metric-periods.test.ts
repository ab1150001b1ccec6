import { describe, expect, it } from "vitest";
import {
  addDays,
  backfillPeriods,
  backfillRangeProblem,
  dayHasEnded,
  dayRange,
  daysInRange,
  daysOfWeek,
  isCalendarDate,
  previousDay,
  previousWeekStart,
  utcDateOf,
  weekStartOf,
} from "../src/domain/metric-periods";

const at = (iso: string) => Date.parse(iso);

describe("metric periods (UTC)", () => {
  it("knows a day's instants and which day an instant is on, at the boundaries", () => {
    expect(dayRange("2026-03-29")).toEqual({ startMs: at("2026-03-29T00:00:00Z"), endMs: at("2026-03-30T00:00:00Z") });
    expect(utcDateOf(at("2026-03-29T23:59:59.999Z"))).toBe("2026-03-29");
    expect(utcDateOf(at("2026-03-30T00:00:00.000Z"))).toBe("2026-03-30");
    // The day London's clocks go forward is still 24 hours in UTC.
    const { startMs, endMs } = dayRange("2026-03-29");
    expect(endMs - startMs).toBe(86_400_000);
  });

  it("accepts real calendar dates only", () => {
    expect(isCalendarDate("2024-02-29")).toBe(true);
    for (const bad of ["2025-02-29", "2024-13-01", "2024-1-01", "20240101", "2024-01-01T00:00:00Z", ""]) expect(isCalendarDate(bad)).toBe(false);
    expect(() => dayRange("2025-02-29")).toThrow(RangeError);
  });

  it("finds ISO weeks (Monday to Sunday) across month and year ends", () => {
    expect(weekStartOf("2026-03-02")).toBe("2026-03-02");
    expect(weekStartOf("2026-03-08")).toBe("2026-03-02");
    expect(weekStartOf("2027-01-01")).toBe("2026-12-28");
    expect(daysOfWeek("2026-12-28")).toEqual(["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03"]);
    expect(() => daysOfWeek("2026-12-29")).toThrow(/not a Monday/);
  });

  it("tells the crons which period to roll up", () => {
    expect(previousDay(at("2026-03-01T01:00:00Z"))).toBe("2026-02-28");
    expect(previousDay(at("2024-03-01T01:00:00Z"))).toBe("2024-02-29");
    expect(previousWeekStart(at("2026-03-09T02:00:00Z"))).toBe("2026-03-02");
    expect(previousWeekStart(at("2027-01-04T02:00:00Z"))).toBe("2026-12-28");
    expect(dayHasEnded("2026-03-01", at("2026-03-02T00:00:00Z"))).toBe(true);
    expect(dayHasEnded("2026-03-01", at("2026-03-01T23:59:59.999Z"))).toBe(false);
  });

  it("splits a backfill into days or the ISO weeks that overlap the range", () => {
    expect(backfillPeriods("2026-02-27", "2026-03-02", "daily")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(backfillPeriods("2026-02-27", "2026-03-02", "weekly")).toEqual(["2026-02-23", "2026-03-02"]);
    expect(backfillPeriods("2026-03-03", "2026-03-03", "weekly")).toEqual(["2026-03-02"]);
    expect(backfillPeriods("2025-01-01", "2025-12-31", "daily")).toHaveLength(365);
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });

  it("limits a backfill to 366 ended days in order", () => {
    const now = at("2026-03-10T12:00:00Z");
    expect(daysInRange("2024-01-01", "2024-12-31")).toBe(366);
    expect(backfillRangeProblem("2024-01-01", "2024-12-31", now)).toBeNull();
    expect(backfillRangeProblem("2024-01-01", "2025-01-01", now)).toMatch(/366 days/);
    expect(backfillRangeProblem("2026-03-02", "2026-03-01", now)).toMatch(/before startDate/);
    expect(backfillRangeProblem("2026-03-01", "2026-03-09", now)).toBeNull();
    expect(backfillRangeProblem("2026-03-01", "2026-03-10", now)).toMatch(/at most 2026-03-09/);
  });
});
