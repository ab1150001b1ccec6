/**
 * Monitoring alerts of issue 12: low waitlist-offer acceptance and a class or studio with no
 * booking in 14 days (each opens once per subject and resolves itself), their ALERT_RULES
 * thresholds, and POST /api/v1/admin/alerts/check, which runs the hourly checks now.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES, parseAlertRules, RULE_ALERT_TYPES } from "../src/domain/alert-rules";
import { noRecentBookingAlerts, waitlistAcceptanceAlerts } from "../src/domain/alert-rules-demand";
import { ALERT_CHECK_TYPES } from "../src/jobs/alert-checks";
import { makeBooking, makeCancelledBooking, makeClass, makeSession, makeStudio } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { alertsFor, check, DAY, HOUR, testNow } from "./alert-helpers";
import { event, insertEvents } from "./metrics-helpers";

const CHECK = "/api/v1/admin/alerts/check";

/** Moves a booking's confirmation to `at` (fixtures confirm at the real now). */
const confirmedAt = (bookingId: string, at: number) => env.DB.prepare(`UPDATE bookings SET confirmed_at = ? WHERE id = ?`).bind(at, bookingId).run();

let admin: string;
beforeAll(async () => {
  admin = await tokenFor("admin");
});

describe("ALERT_RULES: the two new rules", () => {
  it("default to 50 % over 7 days with at least 10 offers, and 14 days without a booking; wrangler.toml states exactly them", () => {
    expect(DEFAULT_ALERT_RULES.waitlistAcceptance).toEqual({ enabled: true, windowDays: 7, minOffers: 10, below: 0.5, severity: "warning" });
    expect(DEFAULT_ALERT_RULES.noRecentBookings).toEqual({ enabled: true, days: 14, severity: "warning" });
    expect(parseAlertRules(env.ALERT_RULES)).toEqual({ rules: DEFAULT_ALERT_RULES, problem: null });
    expect(parseAlertRules('{ "waitlistAcceptance": { "below": 1.5 } }').problem).toMatch(/waitlistAcceptance\.below/);
    expect(parseAlertRules('{ "noRecentBookings": { "days": 0 } }').problem).toMatch(/noRecentBookings\.days/);
  });

  it("waitlist acceptance fires below the threshold only with the minimum sample, overall and per class", () => {
    const rule = DEFAULT_ALERT_RULES.waitlistAcceptance;
    const figures = [
      { classId: null, className: null, accepted: 12, declined: 6, expired: 6 },
      { classId: "cls_low", className: "Low", accepted: 4, declined: 3, expired: 3 },
      { classId: "cls_small", className: "Small", accepted: 0, declined: 5, expired: 4 },
      { classId: "cls_even", className: "Even", accepted: 5, declined: 5, expired: 0 },
    ];
    const firing = waitlistAcceptanceAlerts(figures, rule);
    expect(firing.map((alert) => alert.subjectKey)).toEqual(["class:cls_low"]);
    expect(firing[0]).toMatchObject({ type: "WAITLIST_ACCEPTANCE_LOW", details: { accepted: 4, decided: 10, rate: 0.4 } });
    // At 60 %, overall (12 of 24) and an even class fire too.
    expect(waitlistAcceptanceAlerts(figures, { ...rule, below: 0.6 }).map((alert) => alert.subjectKey)).toEqual(["all", "class:cls_low", "class:cls_even"]);
    expect(waitlistAcceptanceAlerts(figures, { ...rule, enabled: false })).toEqual([]);
  });

  it("no recent bookings names the class or studio as its subject", () => {
    const [alert] = noRecentBookingAlerts([{ scope: "studio", id: "stu_1", name: "North", lastBookingAt: null, nextSessionAt: Date.UTC(2030, 0, 1), upcomingSessions: 3 }], DEFAULT_ALERT_RULES.noRecentBookings);
    expect(alert).toMatchObject({ type: "NO_RECENT_BOOKINGS", subjectKey: "studio:stu_1", details: { lastBookingAt: null, upcomingSessions: 3, days: 14 } });
    expect(noRecentBookingAlerts([], DEFAULT_ALERT_RULES.noRecentBookings)).toEqual([]);
  });
});

describe("low waitlist-offer acceptance", () => {
  it("opens once per class (and overall), counts repeats on the same alert, and resolves itself when acceptance recovers", async () => {
    const now = testNow();
    const klass = await makeClass();
    const session = await makeSession(klass.id, { startsAt: new Date(now + 2 * DAY) });
    const offer = (type: "OFFER_ACCEPTED" | "OFFER_DECLINED" | "OFFER_EXPIRED", at: number) => event(type, at, { sessionId: session.id, data: { entryId: `wle_${crypto.randomUUID()}` } });
    // 4 accepted of 10 decided in the last 7 days; one more acceptance 8 days ago is outside.
    await insertEvents([
      ...[1, 2, 3, 4].map((d) => offer("OFFER_ACCEPTED", now - d * DAY)),
      ...[1, 2, 3].map((d) => offer("OFFER_DECLINED", now - d * HOUR)),
      ...[1, 2, 3].map((d) => offer("OFFER_EXPIRED", now - d * HOUR)),
      offer("OFFER_ACCEPTED", now - 8 * DAY),
    ]);
    const first = await check(now);
    expect(first.rules.WAITLIST_ACCEPTANCE_LOW).toEqual({ firing: 2, opened: 2, updated: 0, resolved: 0 });
    const [opened] = await alertsFor("WAITLIST_ACCEPTANCE_LOW", `class:${klass.id}`);
    expect(opened).toMatchObject({ status: "open", occurrences: 1, severity: "warning" });
    expect(JSON.parse(opened!.details)).toMatchObject({ classId: klass.id, accepted: 4, declined: 3, expired: 3, decided: 10, rate: 0.4, windowDays: 7 });
    expect(await alertsFor("WAITLIST_ACCEPTANCE_LOW", "all")).toEqual([expect.objectContaining({ status: "open" })]);

    const second = await check(now + 1000);
    expect(second.rules.WAITLIST_ACCEPTANCE_LOW).toEqual({ firing: 2, opened: 0, updated: 2, resolved: 0 });
    expect(await alertsFor("WAITLIST_ACCEPTANCE_LOW", `class:${klass.id}`)).toEqual([expect.objectContaining({ id: opened!.id, occurrences: 2 })]);

    // Two more acceptances: 6 of 12 is 50 %, not below it.
    await insertEvents([offer("OFFER_ACCEPTED", now + 2000), offer("OFFER_ACCEPTED", now + 3000)]);
    const third = await check(now + 4000);
    expect(third.rules.WAITLIST_ACCEPTANCE_LOW).toEqual({ firing: 0, opened: 0, updated: 0, resolved: 2 });
    expect(await alertsFor("WAITLIST_ACCEPTANCE_LOW", `class:${klass.id}`)).toEqual([expect.objectContaining({ id: opened!.id, status: "resolved", resolved_by: "system" })]);
  });

  it("stays quiet below the minimum sample, however low the rate", async () => {
    const now = testNow();
    const klass = await makeClass();
    await insertEvents(Array.from({ length: 9 }, (_, i) => event("OFFER_DECLINED", now - (i + 1) * HOUR, { classId: klass.id })));
    expect((await check(now)).rules.WAITLIST_ACCEPTANCE_LOW).toMatchObject({ firing: 0 });
    expect(await alertsFor("WAITLIST_ACCEPTANCE_LOW", `class:${klass.id}`)).toEqual([]);
    // With the minimum lowered in ALERT_RULES it fires.
    await check(now + 1000, JSON.stringify({ waitlistAcceptance: { minOffers: 9 } }));
    expect(await alertsFor("WAITLIST_ACCEPTANCE_LOW", `class:${klass.id}`)).toEqual([expect.objectContaining({ status: "open" })]);
  });
});

describe("a class or studio with no booking in 14 days", () => {
  it("fires for what is on sale and old enough, not for a new class, one with nothing ahead or one booked lately; a booking resolves it", async () => {
    const now = testNow();
    const old = new Date(now - 30 * DAY);
    const quiet = await makeStudio({ createdAt: old });
    const unbooked = await makeClass({ studioId: quiet.id, createdAt: old });
    await makeSession(unbooked.id, { startsAt: new Date(now + 3 * DAY) });
    await makeSession(unbooked.id, { startsAt: new Date(now + 10 * DAY) });
    // Booked 20 days ago only (and a cancelled booking of 20 days ago): no booking in 14 days.
    const lastBooking = await makeBooking((await makeSession(unbooked.id, { startsAt: new Date(now - 19 * DAY) })).id);
    await confirmedAt(lastBooking, now - 20 * DAY);
    // In the same studio: too new to judge; and one with nothing on sale.
    const fresh = await makeClass({ studioId: quiet.id, createdAt: new Date(now - 5 * DAY) });
    await makeSession(fresh.id, { startsAt: new Date(now + 2 * DAY) });
    const nothingAhead = await makeClass({ studioId: quiet.id, createdAt: old });
    await makeSession(nothingAhead.id, { startsAt: new Date(now - DAY) });
    await makeSession(nothingAhead.id, { startsAt: new Date(now + 2 * DAY), status: "cancelled" });
    // Another studio, booked 3 days ago (a booking cancelled since still shows demand).
    const busy = await makeStudio({ createdAt: old });
    const booked = await makeClass({ studioId: busy.id, createdAt: old });
    const upcoming = await makeSession(booked.id, { startsAt: new Date(now + 4 * DAY) });
    await confirmedAt(await makeCancelledBooking(upcoming.id), now - 3 * DAY);

    await check(now);
    const [classAlert] = await alertsFor("NO_RECENT_BOOKINGS", `class:${unbooked.id}`);
    expect(classAlert).toMatchObject({ status: "open", occurrences: 1, severity: "warning" });
    expect(JSON.parse(classAlert!.details)).toMatchObject({
      scope: "class",
      id: unbooked.id,
      lastBookingAt: new Date(now - 20 * DAY).toISOString(),
      nextSessionAt: new Date(now + 3 * DAY).toISOString(),
      upcomingSessions: 2,
      days: 14,
    });
    expect(classAlert!.title).toContain(unbooked.name);
    const [studioAlert] = await alertsFor("NO_RECENT_BOOKINGS", `studio:${quiet.id}`);
    expect(JSON.parse(studioAlert!.details)).toMatchObject({ scope: "studio", upcomingSessions: 3, nextSessionAt: new Date(now + 2 * DAY).toISOString() });
    for (const subject of [`class:${fresh.id}`, `class:${nothingAhead.id}`, `class:${booked.id}`, `studio:${busy.id}`]) {
      expect(await alertsFor("NO_RECENT_BOOKINGS", subject), subject).toEqual([]);
    }

    await check(now + 1000);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `class:${unbooked.id}`)).toEqual([expect.objectContaining({ id: classAlert!.id, occurrences: 2 })]);

    // A booking of the fresh class clears the studio; the unbooked class stays open until it is booked too.
    await confirmedAt(await makeBooking((await makeSession(fresh.id, { startsAt: new Date(now + 5 * DAY) })).id), now + 1500);
    await check(now + 2000);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `studio:${quiet.id}`)).toEqual([expect.objectContaining({ id: studioAlert!.id, status: "resolved", resolved_by: "system" })]);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `class:${unbooked.id}`)).toEqual([expect.objectContaining({ status: "open", occurrences: 3 })]);
    await confirmedAt(await makeBooking((await makeSession(unbooked.id, { startsAt: new Date(now + 6 * DAY) })).id), now + 2500);
    await check(now + 3000);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `class:${unbooked.id}`)).toEqual([expect.objectContaining({ id: classAlert!.id, status: "resolved", resolved_by: "system" })]);
  });
});

describe("POST /api/v1/admin/alerts/check", () => {
  it("runs every rule now without a body, answering what ran", async () => {
    expect([...ALERT_CHECK_TYPES].sort()).toEqual([...RULE_ALERT_TYPES].sort());
    for (const body of [undefined, {}]) {
      const response = await call("POST", CHECK, { token: admin, body });
      expect(response.status).toBe(200);
      expect(response.json.checks.map((c: { checkType: string }) => c.checkType)).toEqual([...ALERT_CHECK_TYPES]);
      expect(response.json.configProblem).toBeNull();
      for (const field of ["opened", "updated", "resolved"] as const) {
        expect(response.json.totals[field]).toBe(response.json.checks.reduce((sum: number, c: Record<string, number>) => sum + c[field]!, 0));
      }
    }
  });

  it("runs one rule by name: opens, then updates, then resolves its alerts, and touches no other rule", async () => {
    // At the real now: a class on sale, 20 days old, never booked.
    const old = new Date(Date.now() - 20 * DAY);
    const studio = await makeStudio({ createdAt: old });
    const klass = await makeClass({ studioId: studio.id, createdAt: old });
    await makeSession(klass.id, { startsAt: new Date(Date.now() + 3 * DAY) });

    const run = async () => {
      const response = await call("POST", CHECK, { token: admin, body: { checkType: "NO_RECENT_BOOKINGS" } });
      expect(response.status).toBe(200);
      expect(response.json.checks).toHaveLength(1);
      return response.json.checks[0];
    };
    const first = await run();
    expect(first).toMatchObject({ checkType: "NO_RECENT_BOOKINGS", ok: true, error: null });
    expect(first.opened).toBeGreaterThanOrEqual(2);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `class:${klass.id}`)).toEqual([expect.objectContaining({ status: "open" })]);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `studio:${studio.id}`)).toEqual([expect.objectContaining({ status: "open" })]);

    const second = await run();
    expect(second).toMatchObject({ opened: 0, updated: first.firing, resolved: 0 });

    await makeBooking((await makeSession(klass.id, { startsAt: new Date(Date.now() + 4 * DAY) })).id);
    const third = await run();
    expect(third.resolved).toBeGreaterThanOrEqual(2);
    expect(third.firing).toBe(first.firing - 2);
    expect(await alertsFor("NO_RECENT_BOOKINGS", `class:${klass.id}`)).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });

  it("refuses an unknown rule with 400, listing the valid names", async () => {
    const response = await call("POST", CHECK, { token: admin, body: { checkType: "NO_SUCH_RULE" } });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("VALIDATION_FAILED");
    const [issue] = response.json.error.details.issues;
    expect(issue.path).toBe("checkType");
    for (const name of RULE_ALERT_TYPES) expect(issue.message).toContain(name);
    expect((await call("POST", CHECK, { token: admin, body: { checkType: 7 } })).status).toBe(400);
  });

  it("is documented with its rule names, behind bearerAuth, as is the latest metrics snapshot", async () => {
    const { json: doc } = await call("GET", "/api/v1/openapi.json");
    const checkOp = doc.paths["/api/v1/admin/alerts/check"].post;
    expect(checkOp.security).toEqual([{ bearerAuth: [] }]);
    expect(checkOp.requestBody.content["application/json"].schema).toBeDefined();
    expect(JSON.stringify(doc.components.schemas.AlertCheckRequest)).toContain("NO_RECENT_BOOKINGS");
    expect(Object.keys(checkOp.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "403"]));
    expect(doc.paths["/api/v1/admin/metrics/latest"].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.schemas.MetricSnapshot).toBeDefined();
  });

  it("is for admins only: staff and customers are refused, an anonymous caller must sign in", async () => {
    expect((await call("POST", CHECK, { token: await tokenFor("staff"), body: {} })).status).toBe(403);
    expect((await call("POST", CHECK, { token: await tokenFor("customer"), body: {} })).status).toBe(403);
    expect((await call("POST", CHECK, { body: {} })).status).toBe(401);
  });
});
