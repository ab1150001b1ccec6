/** Unit tests for the pure recurrence expansion (studio wall clock, IANA zones, RRULE options). */
import { describe, expect, it } from "vitest";
import { expandOccurrences, type RecurrenceSpec, toRRuleString } from "../src/domain/recurrence";

const base: RecurrenceSpec = {
  frequency: "WEEKLY",
  interval: 1,
  byWeekday: ["MO"],
  count: null,
  untilDate: null,
  startDate: "2026-03-02",
  startTime: "18:00",
  durationMinutes: 60,
  exceptionDates: [],
  timeZone: "Europe/London",
};

/** Expands and fails the test on a refusal. */
function expand(overrides: Partial<RecurrenceSpec>, limit = 500) {
  const result = expandOccurrences({ ...base, ...overrides }, limit);
  if (!result.ok) throw new Error(`expansion refused: ${JSON.stringify(result)}`);
  return result.occurrences;
}

describe("expandOccurrences", () => {
  it("keeps a Monday 18:00 London class at 18:00 local across the March clock change", () => {
    // 2026: British Summer Time starts Sunday 29 March.
    const occurrences = expand({ startDate: "2026-03-16", count: 4 });
    expect(occurrences.map((o) => o.localDate)).toEqual(["2026-03-16", "2026-03-23", "2026-03-30", "2026-04-06"]);
    expect(occurrences.map((o) => o.startsAt.toISOString())).toEqual([
      "2026-03-16T18:00:00.000Z",
      "2026-03-23T18:00:00.000Z",
      "2026-03-30T17:00:00.000Z",
      "2026-04-06T17:00:00.000Z",
    ]);
    expect(occurrences.map((o) => o.localStart)).toEqual([
      "2026-03-16T18:00:00+00:00",
      "2026-03-23T18:00:00+00:00",
      "2026-03-30T18:00:00+01:00",
      "2026-04-06T18:00:00+01:00",
    ]);
    expect(occurrences[2]!.localEnd).toBe("2026-03-30T19:00:00+01:00");
    expect(occurrences[2]!.endsAt.toISOString()).toBe("2026-03-30T18:00:00.000Z");
  });

  it("keeps it at 18:00 local across the October clock change", () => {
    // 2026: British Summer Time ends Sunday 25 October.
    const occurrences = expand({ startDate: "2026-10-12", count: 4 });
    expect(occurrences.map((o) => o.startsAt.toISOString())).toEqual([
      "2026-10-12T17:00:00.000Z",
      "2026-10-19T17:00:00.000Z",
      "2026-10-26T18:00:00.000Z",
      "2026-11-02T18:00:00.000Z",
    ]);
    expect(occurrences.every((o) => o.localStart.slice(11, 16) === "18:00")).toBe(true);
  });

  it("uses the studio's zone, not UTC, for the wall clock", () => {
    const [first] = expand({ startDate: "2026-07-06", count: 1, timeZone: "America/New_York" });
    expect(first!.startsAt.toISOString()).toBe("2026-07-06T22:00:00.000Z");
    expect(first!.localStart).toBe("2026-07-06T18:00:00-04:00");
  });

  it("moves a time inside the spring-forward gap to just after it (RFC 5545)", () => {
    // 01:30 on 29 March 2026 does not exist in London; it is read with the offset before the gap.
    const occurrences = expand({ frequency: "DAILY", byWeekday: [], startDate: "2026-03-28", startTime: "01:30", count: 3 });
    expect(occurrences.map((o) => o.localStart)).toEqual([
      "2026-03-28T01:30:00+00:00",
      "2026-03-29T02:30:00+01:00",
      "2026-03-30T01:30:00+01:00",
    ]);
    expect(occurrences[1]!.startsAt.toISOString()).toBe("2026-03-29T01:30:00.000Z");
    expect(occurrences[1]!.localDate).toBe("2026-03-29");
  });

  it("reads a time repeated at the fall-back change as its first occurrence", () => {
    const [first] = expand({ frequency: "DAILY", byWeekday: [], startDate: "2026-10-25", startTime: "01:30", count: 1 });
    expect(first!.localStart).toBe("2026-10-25T01:30:00+01:00");
    expect(first!.startsAt.toISOString()).toBe("2026-10-25T00:30:00.000Z");
  });

  it("skips exception dates without shortening an until-bounded rule", () => {
    const occurrences = expand({ startDate: "2026-01-05", untilDate: "2026-02-02", exceptionDates: ["2026-01-12", "2026-01-26"] });
    expect(occurrences.map((o) => o.localDate)).toEqual(["2026-01-05", "2026-01-19", "2026-02-02"]);
  });

  it("counts exceptions against count, as RFC 5545 EXDATE does", () => {
    const occurrences = expand({ startDate: "2026-01-05", count: 3, exceptionDates: ["2026-01-12"] });
    expect(occurrences.map((o) => o.localDate)).toEqual(["2026-01-05", "2026-01-19"]);
  });

  it("honours the interval and several weekdays", () => {
    const occurrences = expand({ startDate: "2026-01-05", interval: 2, byWeekday: ["MO", "TH"], count: 5 });
    expect(occurrences.map((o) => o.localDate)).toEqual(["2026-01-05", "2026-01-08", "2026-01-19", "2026-01-22", "2026-02-02"]);
  });

  it("stops at count or at untilDate, untilDate inclusive", () => {
    expect(expand({ startDate: "2026-01-05", count: 2 })).toHaveLength(2);
    const until = expand({ startDate: "2026-01-05", untilDate: "2026-01-19" });
    expect(until.map((o) => o.localDate)).toEqual(["2026-01-05", "2026-01-12", "2026-01-19"]);
  });

  it("repeats monthly on the start's day of month, skipping months without it", () => {
    const monthly = expand({ frequency: "MONTHLY", byWeekday: [], startDate: "2026-01-15", count: 3 });
    expect(monthly.map((o) => o.localDate)).toEqual(["2026-01-15", "2026-02-15", "2026-03-15"]);
    const thirtyFirst = expand({ frequency: "MONTHLY", byWeekday: [], startDate: "2026-01-31", untilDate: "2026-05-31" });
    expect(thirtyFirst.map((o) => o.localDate)).toEqual(["2026-01-31", "2026-03-31", "2026-05-31"]);
  });

  it("refuses the 501st occurrence and accepts exactly 500", () => {
    expect(expand({ frequency: "DAILY", byWeekday: [], startDate: "2026-01-01", count: 500 })).toHaveLength(500);
    expect(expandOccurrences({ ...base, frequency: "DAILY", byWeekday: [], startDate: "2026-01-01", count: 501 }, 500)).toEqual({
      ok: false,
      reason: "TOO_MANY_OCCURRENCES",
      limit: 500,
      unbounded: false,
    });
    expect(expandOccurrences({ ...base, frequency: "DAILY", byWeekday: [], startDate: "2026-01-01", untilDate: "2099-12-31" }, 500).ok).toBe(false);
  });

  it("refuses an unbounded rule", () => {
    expect(expandOccurrences(base, 500)).toEqual({ ok: false, reason: "TOO_MANY_OCCURRENCES", limit: 500, unbounded: true });
  });

  it("refuses an unknown time zone instead of producing invalid dates", () => {
    expect(expandOccurrences({ ...base, count: 2, timeZone: "Mars/Olympus" }, 500)).toMatchObject({ ok: false, reason: "INVALID_TIME_ZONE" });
  });
});

describe("toRRuleString", () => {
  it("writes the RFC 5545 rule", () => {
    expect(toRRuleString({ frequency: "WEEKLY", interval: 2, byWeekday: ["MO", "TH"], count: 10, untilDate: null })).toBe(
      "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=10",
    );
    expect(toRRuleString({ frequency: "DAILY", interval: 1, byWeekday: [], count: null, untilDate: "2026-12-31" })).toBe(
      "FREQ=DAILY;INTERVAL=1;UNTIL=20261231T235959",
    );
  });
});
