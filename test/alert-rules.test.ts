import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AlertRulesConfig, bookingConversionAlerts, DEFAULT_ALERT_RULES, notificationSuccessAlerts, parseAlertRules } from "../src/domain/alert-rules";
import { addSessionAlerts, hireTrainerAlerts, lowFillAlerts } from "../src/domain/alert-rules-demand";
import { priceTamperingAlerts, quickCancellationAlerts, type SeatEvent, seatHoardingAlerts } from "../src/domain/alert-rules-suspicious";

const rules = DEFAULT_ALERT_RULES;
const session = { sessionId: "ses_1", classId: "cls_1", className: "Wheel basics", startsAt: Date.parse("2026-03-02T18:00:00Z"), capacity: 10 };

describe("ALERT_RULES configuration", () => {
  it("has documented defaults, and wrangler.toml states exactly them", () => {
    expect(rules.bookingConversion).toMatchObject({ enabled: true, below: 0.3, severity: "warning" });
    expect(rules.notificationSuccess).toMatchObject({ warningBelow: 0.95, criticalBelow: 0.8 });
    expect(rules.hireTrainer).toMatchObject({ windowDays: 7, reasons: ["NO_TRAINER"] });
    expect(rules.lowFill).toMatchObject({ withinHours: 48, below: 0.3 });
    expect(parseAlertRules(env.ALERT_RULES)).toEqual({ rules: DEFAULT_ALERT_RULES, problem: null });
  });

  it("takes the defaults for what is left out, and accepts an object as well as JSON text", () => {
    const { rules: partial, problem } = parseAlertRules('{ "lowFill": { "below": 0.5 } }');
    expect(problem).toBeNull();
    expect(partial.lowFill).toEqual({ ...DEFAULT_ALERT_RULES.lowFill, below: 0.5 });
    expect(partial.hireTrainer).toEqual(DEFAULT_ALERT_RULES.hireTrainer);
    expect(parseAlertRules({ hireTrainer: { minBlocked: 2 } }).rules.hireTrainer.minBlocked).toBe(2);
    expect(parseAlertRules(undefined)).toEqual({ rules: DEFAULT_ALERT_RULES, problem: null });
    expect(parseAlertRules("  ")).toEqual({ rules: DEFAULT_ALERT_RULES, problem: null });
  });

  it("reports an invalid setting (bad JSON, a typo, an out-of-range value) and falls back to the defaults", () => {
    for (const [raw, pattern] of [
      ["{ lowFill: ", /not valid JSON/],
      ['{ "lowFil": {} }', /lowFil/],
      ['{ "lowFill": { "below": 3 } }', /lowFill\.below/],
      ['{ "notificationSuccess": { "minAttempts": 0 } }', /notificationSuccess\.minAttempts/],
      ['{ "hireTrainer": { "severity": "loud" } }', /hireTrainer\.severity/],
      ["[1, 2]", /\(root\)/],
    ] as const) {
      const parsed = parseAlertRules(raw);
      expect(parsed.problem, raw).toMatch(pattern);
      expect(parsed.rules).toEqual(DEFAULT_ALERT_RULES);
    }
    expect(AlertRulesConfig.safeParse({ dataDrift: { holdOverdueMinutes: 1.5 } }).success).toBe(false);
  });
});

describe("rule evaluation", () => {
  it("booking conversion fires below the threshold once enough checkouts were seen, overall and per class", () => {
    const figures = [
      { classId: null, className: null, checkouts: 40, bookings: 11 },
      { classId: "cls_a", className: "Clay", checkouts: 20, bookings: 5 },
      { classId: "cls_b", className: "Yoga", checkouts: 20, bookings: 6 },
      { classId: "cls_c", className: "Rare", checkouts: 19, bookings: 0 },
    ];
    const firing = bookingConversionAlerts(figures, rules.bookingConversion);
    expect(firing.map((a) => a.subjectKey)).toEqual(["all", "class:cls_a"]);
    expect(firing[1]).toMatchObject({ type: "BOOKING_CONVERSION_LOW", severity: "warning", details: { rate: 0.25, checkouts: 20 } });
    expect(firing[1]!.title).toMatch(/Clay: booking conversion 25% .*below 30%/);
    expect(bookingConversionAlerts(figures, { ...rules.bookingConversion, enabled: false })).toEqual([]);
  });

  it("notification success is a warning below 95 % and critical below 80 %", () => {
    const rule = rules.notificationSuccess;
    expect(notificationSuccessAlerts({ sent: 95, failed: 5 }, rule)).toEqual([]);
    expect(notificationSuccessAlerts({ sent: 94, failed: 6 }, rule)[0]).toMatchObject({ severity: "warning", subjectKey: "all" });
    expect(notificationSuccessAlerts({ sent: 79, failed: 21 }, rule)[0]).toMatchObject({ severity: "critical", details: { threshold: 0.8 } });
    expect(notificationSuccessAlerts({ sent: 0, failed: 19 }, rule)).toEqual([]);
  });

  it("hire a trainer counts people, not attempts, and names the course and its cities, busiest first", () => {
    const rows = [
      { classId: "cls_a", className: "Life drawing", cityId: "cty_m", cityName: "Manchester", people: 2, attempts: 2, classPeople: 5 },
      { classId: "cls_a", className: "Life drawing", cityId: "cty_l", cityName: "London", people: 3, attempts: 7, classPeople: 5 },
      // Nine attempts by four people (one of them in both cities): not enough people.
      { classId: "cls_b", className: "Yoga", cityId: "cty_l", cityName: "London", people: 3, attempts: 6, classPeople: 4 },
      { classId: "cls_b", className: "Yoga", cityId: "cty_m", cityName: "Manchester", people: 2, attempts: 3, classPeople: 4 },
    ];
    const firing = hireTrainerAlerts(rows, rules.hireTrainer);
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ type: "HIRE_TRAINER", subjectKey: "class:cls_a", details: { blocked: 5, attempts: 9 } });
    expect(firing[0]!.title).toBe("Hire a trainer for Life drawing: 5 people could not buy in 7 days (London, Manchester)");
  });

  it("add a session fires when the seats wanted in line reach the capacity (parties of any size); low fill below 30 % of it", () => {
    expect(addSessionAlerts([{ ...session, waitlistEntries: 9, waitlistSeats: 9 }], rules.addSession)).toEqual([]);
    expect(addSessionAlerts([{ ...session, waitlistEntries: 10, waitlistSeats: 10 }], rules.addSession)[0]).toMatchObject({ type: "ADD_SESSION", subjectKey: "session:ses_1", severity: "info" });
    // Four parties of three want 12 seats of a session of 10.
    expect(addSessionAlerts([{ ...session, waitlistEntries: 4, waitlistSeats: 12 }], rules.addSession)[0]).toMatchObject({ details: { waitlistEntries: 4, waitlistSeats: 12 } });
    expect(lowFillAlerts([{ ...session, bookedSeats: 3 }], rules.lowFill)).toEqual([]);
    expect(lowFillAlerts([{ ...session, bookedSeats: 2 }], rules.lowFill)[0]).toMatchObject({ type: "LOW_FILL", details: { fill: 0.2 } });
  });

  it("seat hoarding counts guests over distinct holds and bookings (a hold and its booking once) across sessions, per email and per client address", () => {
    const t0 = Date.parse("2026-03-02T12:00:00Z");
    let n = 0;
    const seat = (type: SeatEvent["type"], email: string, clientKey: string, seats: number, sessionIds: string[], minute: number, reservationId = `r${++n}`): SeatEvent => ({
      type,
      occurredAt: t0 + minute * 60_000,
      email,
      clientKey,
      reservationId,
      seats,
      sessionIds,
    });
    const events = [
      // a@: holds of 12 on two sessions, then the booking of one of them: 24 seats, 2 sessions.
      seat("HOLD_CREATED", "a@x.test", "10.0.0.1", 12, ["s1"], 0, "hld_a1"),
      seat("HOLD_CREATED", "A@x.test", "10.0.0.2", 12, ["s2"], 5, "hld_a2"),
      seat("BOOKING_CONFIRMED", "a@x.test", "10.0.0.1", 12, ["s1"], 8, "hld_a1"),
      // b@: a lot of seats, but one session.
      seat("HOLD_CREATED", "b@x.test", "10.0.0.9", 30, ["s1"], 0),
      // c@: a full schedule for two: 2 guests over 12 sessions.
      seat("BOOKING_CONFIRMED", "c@x.test", "10.0.0.3", 2, Array.from({ length: 12 }, (_, i) => `w${i}`), 0),
    ];
    const firing = seatHoardingAlerts(events, rules.seatHoarding);
    expect(firing.map((a) => a.subjectKey).sort()).toEqual(["email:a@x.test"]);
    expect(firing[0]!.details).toMatchObject({ seats: 24, reservations: 2, sessionCount: 2 });
  });

  it("seat hoarding looks at every span of the window, so a burst across two hourly runs is seen whole, and spread-out reservations are not", () => {
    const t0 = Date.parse("2026-03-02T12:00:00Z");
    const hold = (minute: number, sessionId: string): SeatEvent => ({
      type: "HOLD_CREATED",
      occurredAt: t0 + minute * 60_000,
      email: "h@x.test",
      clientKey: null,
      reservationId: `hld_${minute}`,
      seats: 8,
      sessionIds: [sessionId],
    });
    // 12:50, 12:55 and 13:10: twenty minutes apart at most, on both sides of the 13:00 run.
    expect(seatHoardingAlerts([hold(50, "s1"), hold(55, "s2"), hold(70, "s3")], rules.seatHoarding)[0]!.details).toMatchObject({
      seats: 24,
      sessionCount: 3,
      from: "2026-03-02T12:50:00.000Z",
      to: "2026-03-02T13:10:00.000Z",
    });
    // 12:00, 12:45 and 13:30: no 60 minutes hold all three.
    expect(seatHoardingAlerts([hold(0, "s1"), hold(45, "s2"), hold(90, "s3")], rules.seatHoarding)).toEqual([]);
  });

  it("price tampering and quick cancellations fire at their counts", () => {
    const tampering = priceTamperingAlerts(
      [
        { email: "t@x.test", clientKey: "10.0.0.5", count: 2 },
        { email: "t@x.test", clientKey: "10.0.0.6", count: 1 },
        { email: null, clientKey: "10.0.0.7", count: 3 },
      ],
      rules.priceTampering,
    );
    expect(tampering.map((a) => a.subjectKey).sort()).toEqual(["client:10.0.0.7", "email:t@x.test"]);
    expect(quickCancellationAlerts([{ email: "q@x.test", count: 3 }, { email: "r@x.test", count: 2 }], rules.quickCancellations).map((a) => a.subjectKey)).toEqual(["email:q@x.test"]);
  });
});
