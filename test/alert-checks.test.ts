import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../src/db/client";
import { reconcileLedgers } from "../src/jobs/reconcile";
import { fullScheduleBookingBody, holdBody, postBooking, postHold, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeBooking, makeCity, makeClass, makeSchedule, makeSession } from "./fixtures";
import { call, eventually } from "./helpers";
import { alertsFor, check, expectFiresDedupsResolves, HOUR, testNow } from "./alert-helpers";
import { event, insertEvents } from "./metrics-helpers";

const db = getDb(env.DB);

describe("alert checks: each rule fires, dedups and resolves itself", () => {
  it("booking conversion below 30 % (overall and per class)", async () => {
    const klass = await makeClass();
    let now = 0;
    const alert = await expectFiresDedupsResolves(
      "BOOKING_CONVERSION_LOW",
      `class:${klass.id}`,
      async () => {
        now = testNow();
        // 20 bookings attempted without a hold, 5 of them went through; client signals and a
        // staff booking are outside the funnel.
        await insertEvents([
          ...Array.from({ length: 20 }, (_, i) =>
            event("CHECKOUT_STARTED", now - (i + 1) * 60_000, { classId: klass.id, data: { origin: "booking", outcome: i < 5 ? "accepted" : "rejected" } }),
          ),
          ...Array.from({ length: 5 }, (_, i) => event("BOOKING_CONFIRMED", now - (i + 1) * 60_000, { classId: klass.id })),
          ...Array.from({ length: 10 }, (_, i) => event("CHECKOUT_STARTED", now - (i + 1) * 60_000, { classId: klass.id, data: { origin: "client" } })),
          event("BOOKING_CONFIRMED", now - 60_000, { classId: klass.id, source: "staff" }),
        ]);
        return now;
      },
      async (firedAt) => {
        // Two holds, each booked: 7 of 22 checkouts converted.
        const holds = ["hld_conv_a", "hld_conv_b"].map((id) => `${id}_${klass.id}`);
        await insertEvents(
          holds.flatMap((holdId) => [
            event("CHECKOUT_STARTED", firedAt + 1000, { classId: klass.id, data: { origin: "hold", outcome: "accepted", holdId, holdExpiresAt: firedAt + 601_000 } }),
            event("BOOKING_CONFIRMED", firedAt + 2000, { classId: klass.id, data: { holdId } }),
          ]),
        );
        return firedAt + 3000;
      },
    );
    expect(JSON.parse(alert.details)).toMatchObject({ checkouts: 20, bookings: 5, rate: 0.25 });
    expect(alert.severity).toBe("warning");
    expect((await alertsFor("BOOKING_CONVERSION_LOW", "all"))[0]).toMatchObject({ status: "resolved", resolved_by: "system" });
  });

  it("notification success below 95 % is a warning, below 80 % critical (the open alert is raised, not duplicated)", async () => {
    const now = testNow();
    const notifications = (sent: number, failed: number, at: number) => [
      ...Array.from({ length: sent }, () => event("NOTIFICATION_SENT", at)),
      ...Array.from({ length: failed }, () => event("NOTIFICATION_FAILED", at)),
    ];
    await insertEvents(notifications(18, 2, now - HOUR));
    await check(now);
    expect(await alertsFor("NOTIFICATION_SUCCESS_LOW", "all")).toEqual([expect.objectContaining({ status: "open", severity: "warning" })]);
    await insertEvents(notifications(0, 5, now - HOUR));
    await check(now + 1000);
    expect(await alertsFor("NOTIFICATION_SUCCESS_LOW", "all")).toEqual([expect.objectContaining({ status: "open", severity: "critical", occurrences: 2 })]);
    // A day later the window holds nothing: resolved.
    await check(now + 25 * HOUR);
    expect(await alertsFor("NOTIFICATION_SUCCESS_LOW", "all")).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });

  it("hire a trainer: a course with 5 purchases blocked in 7 days, with its cities", async () => {
    const klass = await makeClass();
    const [leeds, york] = [await makeCity({ name: `Leeds ${crypto.randomUUID()}` }), await makeCity({ name: `York ${crypto.randomUUID()}` })];
    const alert = await expectFiresDedupsResolves(
      "HIRE_TRAINER",
      `class:${klass.id}`,
      async () => {
        const now = testNow();
        await insertEvents([
          ...[1, 2, 3].map((d) => event("PURCHASE_BLOCKED", now - d * 24 * HOUR, { classId: klass.id, cityId: leeds.id, code: "NO_TRAINER" })),
          ...[4, 6].map((d) => event("PURCHASE_BLOCKED", now - d * 24 * HOUR, { classId: klass.id, cityId: york.id, code: "NO_TRAINER" })),
          // Another reason and an older one do not count.
          event("PURCHASE_BLOCKED", now - HOUR, { classId: klass.id, cityId: york.id, code: "SOLD_OUT" }),
          event("PURCHASE_BLOCKED", now - 8 * 24 * HOUR, { classId: klass.id, cityId: york.id, code: "NO_TRAINER" }),
        ]);
        return now;
      },
      // Two days on, the block from six days ago has left the window: 4 < 5.
      async (firedAt) => firedAt + 2 * 24 * HOUR,
    );
    expect(alert.title).toBe(`Hire a trainer for ${klass.name}: 5 people could not buy in 7 days (${leeds.name}, ${york.name})`);
    expect(JSON.parse(alert.details).cities).toEqual([
      { cityId: leeds.id, name: leeds.name, blocked: 3, attempts: 3 },
      { cityId: york.id, name: york.name, blocked: 2, attempts: 2 },
    ]);
  });

  it("hire a trainer: one person trying again and again is one person", async () => {
    const klass = await makeClass();
    const now = testNow();
    const email = `again-${crypto.randomUUID()}@example.test`;
    const blocked = (fields: Record<string, string>, hoursAgo: number) => event("PURCHASE_BLOCKED", now - hoursAgo * HOUR, { classId: klass.id, code: "NO_TRAINER", ...fields });
    // Eight attempts by one email (in either case) and one client address without an email.
    await insertEvents([
      ...Array.from({ length: 6 }, (_, i) => blocked({ email: i % 2 ? email : email.toUpperCase(), clientKey: `10.1.0.${i}` }, i + 1)),
      blocked({ clientKey: "10.1.1.1" }, 1),
      blocked({ clientKey: "10.1.1.1" }, 2),
    ]);
    await check(now);
    expect(await alertsFor("HIRE_TRAINER", `class:${klass.id}`)).toEqual([]);
    // Three more people: five.
    await insertEvents([1, 2, 3].map((i) => blocked({ email: `other-${i}-${email}` }, 1)));
    await check(now + 1000);
    const [alert] = await alertsFor("HIRE_TRAINER", `class:${klass.id}`);
    expect(JSON.parse(alert!.details)).toMatchObject({ blocked: 5, attempts: 11 });
  });

  it("add a session: a waitlist wanting at least as many seats as the session has", async () => {
    const klass = await makeClass();
    let sessionId = "";
    const waitlist = (status: string, guests = 1) =>
      env.DB.prepare(
        `INSERT INTO waitlist_entries (id, session_id, class_id, email, first_name, last_name, guest_count, priority, status, version, joined_at)
         VALUES (?, ?, ?, ?, 'Wait', 'Ing', ?, 'normal', ?, 1, 0)`,
      )
        .bind(`wle_${crypto.randomUUID()}`, sessionId, klass.id, `${crypto.randomUUID()}@example.test`, guests, status)
        .run();
    const now = testNow();
    const session = await makeSession(klass.id, { startsAt: new Date(now + 3 * 24 * HOUR), capacity: 4 });
    sessionId = session.id;
    await waitlist("waiting", 2);
    await waitlist("expired", 3);
    await check(now);
    expect(await alertsFor("ADD_SESSION", `session:${session.id}`)).toEqual([]);
    // Two parties, four seats wanted: as many as the session has.
    await waitlist("offered", 2);
    await check(now);
    const [opened] = await alertsFor("ADD_SESSION", `session:${session.id}`);
    expect(opened).toMatchObject({ status: "open", severity: "info", occurrences: 1 });
    expect(JSON.parse(opened!.details)).toMatchObject({ capacity: 4, waitlistEntries: 2, waitlistSeats: 4 });
    await check(now + 1000);
    expect(await alertsFor("ADD_SESSION", `session:${session.id}`)).toEqual([expect.objectContaining({ id: opened!.id, occurrences: 2 })]);
    await env.DB.prepare(`UPDATE waitlist_entries SET status = 'booked' WHERE session_id = ? AND status = 'offered'`).bind(session.id).run();
    await check(now + 2000);
    expect(await alertsFor("ADD_SESSION", `session:${session.id}`)).toEqual([expect.objectContaining({ id: opened!.id, status: "resolved", resolved_by: "system" })]);
  });

  it("a session starting within 48 h below 30 % full", async () => {
    const klass = await makeClass();
    const now = testNow();
    const soon = await makeSession(klass.id, { startsAt: new Date(now + 24 * HOUR), capacity: 10 });
    const later = await makeSession(klass.id, { startsAt: new Date(now + 72 * HOUR), capacity: 10 });
    await makeBooking(soon.id, 2);
    const alert = await expectFiresDedupsResolves(
      "LOW_FILL",
      `session:${soon.id}`,
      async () => now,
      async (firedAt) => {
        await makeBooking(soon.id, 1);
        return firedAt + 2000;
      },
    );
    expect(JSON.parse(alert.details)).toMatchObject({ bookedSeats: 2, capacity: 10, fill: 0.2 });
    expect(await alertsFor("LOW_FILL", `session:${later.id}`)).toEqual([]);
  });

  it("seat hoarding: one email or client address holding many seats across sessions within an hour", async () => {
    const email = `hoarder-${crypto.randomUUID()}@example.test`;
    const clientKey = `10.9.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
    let now = 0;
    const alert = await expectFiresDedupsResolves(
      "SUSPICIOUS_SEAT_HOARDING",
      `email:${email}`,
      async () => {
        now = testNow();
        await insertEvents([
          event("HOLD_CREATED", now - 10 * 60_000, { email, clientKey, seats: 8, sessionId: "ses_h1" }),
          event("HOLD_CREATED", now - 20 * 60_000, { email, clientKey, seats: 8, sessionId: "ses_h2" }),
          event("HOLD_CREATED", now - 30 * 60_000, { email, clientKey, seats: 8, sessionId: "ses_h3" }),
        ]);
        return now;
      },
      // An hour and more later the holds are out of the window.
      async (firedAt) => firedAt + 2 * HOUR,
    );
    expect(JSON.parse(alert.details)).toMatchObject({ seats: 24, sessionCount: 3 });
    expect((await alertsFor("SUSPICIOUS_SEAT_HOARDING", `client:${clientKey}`))[0]).toMatchObject({ status: "resolved" });
  });

  it("seat hoarding: a burst across two hourly runs is caught by the second", async () => {
    const email = `straddle-${crypto.randomUUID()}@example.test`;
    const run = testNow(); // on the hour
    const hold = (minutesFromRun: number, sessionId: string) =>
      event("HOLD_CREATED", run + minutesFromRun * 60_000, { email, seats: 8, sessionId, data: { holdId: `hld_${sessionId}_${email}`, guestCount: 8 } });
    await insertEvents([hold(-10, "ses_s1"), hold(-5, "ses_s2")]);
    await check(run);
    expect(await alertsFor("SUSPICIOUS_SEAT_HOARDING", `email:${email}`)).toEqual([]);
    await insertEvents([hold(10, "ses_s3")]);
    await check(run + HOUR);
    const [alert] = await alertsFor("SUSPICIOUS_SEAT_HOARDING", `email:${email}`);
    expect(alert).toMatchObject({ status: "open", occurrences: 1 });
    expect(JSON.parse(alert!.details)).toMatchObject({ seats: 24, reservations: 3, sessionCount: 3 });
  });

  it("seat hoarding from real requests: one full-schedule booking for two is not hoarding, three holds of 8 seats on three sessions are", async () => {
    const { pattern, sessions } = await makeSchedule({ sessions: 12, capacity: 5, fullSchedulePricePence: 8000 });
    const couple = uniqueEmail("couple");
    const booked = await postBooking(fullScheduleBookingBody(pattern.id, 8000, { guestCount: 2, contact: { email: couple, firstName: "Two", lastName: "Guests" } }));
    expect(booked.status).toBe(201);
    expect(booked.json.booking.lines).toHaveLength(sessions.length);

    const hoarder = uniqueEmail("hoarder");
    for (let i = 0; i < 3; i++) {
      const { session } = await makeBookableSession({ capacity: 10 });
      expect((await postHold(holdBody(session.id, 8, hoarder))).status).toBe(201);
    }
    await eventually(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE (email = ? AND type = 'BOOKING_CONFIRMED') OR (email = ? AND type = 'HOLD_CREATED')`)
        .bind(couple, hoarder)
        .first<{ n: number }>();
      return row!.n === 4;
    });
    await check(Date.now() + 1000);
    expect(await alertsFor("SUSPICIOUS_SEAT_HOARDING", `email:${couple}`)).toEqual([]);
    const [alert] = await alertsFor("SUSPICIOUS_SEAT_HOARDING", `email:${hoarder}`);
    expect(alert).toMatchObject({ status: "open" });
    expect(JSON.parse(alert!.details)).toMatchObject({ seats: 24, reservations: 3, sessionCount: 3 });
  });

  it("price tampering: repeated AMOUNT_MISMATCH refusals", async () => {
    const email = `tamper-${crypto.randomUUID()}@example.test`;
    await expectFiresDedupsResolves(
      "SUSPICIOUS_PRICE_TAMPERING",
      `email:${email}`,
      async () => {
        const now = testNow();
        await insertEvents([1, 2, 3].map((i) => event("BOOKING_REJECTED", now - i * HOUR, { email, code: "AMOUNT_MISMATCH", amountPence: 1 })));
        await insertEvents([event("BOOKING_REJECTED", now - HOUR, { email: `other-${email}`, code: "SESSION_FULL" })]);
        return now;
      },
      async (firedAt) => firedAt + 22 * HOUR,
    );
    expect(await alertsFor("SUSPICIOUS_PRICE_TAMPERING", `email:other-${email}`)).toEqual([]);
  });

  it("many cancellations right after booking", async () => {
    const email = `cancel-${crypto.randomUUID()}@example.test`;
    await expectFiresDedupsResolves(
      "SUSPICIOUS_QUICK_CANCELLATIONS",
      `email:${email}`,
      async () => {
        const now = testNow();
        await insertEvents([
          ...[1, 2, 3].map((i) => event("BOOKING_CANCELLED", now - i * HOUR, { email, data: { minutesSinceConfirmation: 4 } })),
          event("BOOKING_CANCELLED", now - HOUR, { email: `late-${email}`, data: { minutesSinceConfirmation: 600 } }),
        ]);
        return now;
      },
      async (firedAt) => firedAt + 23 * HOUR,
    );
  });

  it("many cancellations right after booking, made through the API: the events the booking flow writes fire the rule", async () => {
    const email = uniqueEmail("quick-cancel");
    const contact = { email, firstName: "Quick", lastName: "Cancel" };
    for (let i = 0; i < 3; i++) {
      const { session } = await makeBookableSession({ capacity: 4, pricePence: 1000 });
      const created = await postBooking(singleBookingBody(session.id, 1000, { contact }));
      expect(created.status).toBe(201);
      const { booking, manageToken } = created.json;
      expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`)).status).toBe(200);
    }
    // The events travel through the real events queue and its consumer into D1.
    await eventually(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE type = 'BOOKING_CANCELLED' AND email = ?`).bind(email).first<{ n: number }>();
      return row!.n === 3;
    });
    await check(Date.now() + 1000);
    const [alert] = await alertsFor("SUSPICIOUS_QUICK_CANCELLATIONS", `email:${email}`);
    expect(alert).toMatchObject({ status: "open", occurrences: 1 });
    expect(JSON.parse(alert!.details)).toMatchObject({ email, cancellations: 3, withinMinutes: 15 });
  });

  it("a disabled rule resolves what it had open", async () => {
    const email = `disabled-${crypto.randomUUID()}@example.test`;
    const now = testNow();
    await insertEvents([1, 2, 3].map((i) => event("BOOKING_REJECTED", now - i * 60_000, { email, code: "AMOUNT_MISMATCH" })));
    await check(now);
    expect((await alertsFor("SUSPICIOUS_PRICE_TAMPERING", `email:${email}`))[0]).toMatchObject({ status: "open" });
    await check(now + 1000, JSON.stringify({ priceTampering: { enabled: false } }));
    expect((await alertsFor("SUSPICIOUS_PRICE_TAMPERING", `email:${email}`))[0]).toMatchObject({ status: "resolved", resolved_by: "system" });
  });
});

describe("the ALERT_RULES setting", () => {
  it("when invalid: logged as an error, a critical alert while it stays invalid, the defaults in use; resolved once fixed", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const email = `config-${crypto.randomUUID()}@example.test`;
    const now = testNow();
    await insertEvents([1, 2, 3].map((i) => event("BOOKING_REJECTED", now - i * 60_000, { email, code: "AMOUNT_MISMATCH" })));
    try {
      const report = await check(now, '{ "priceTampering": { "minAttempts": "three" } }');
      expect(report.configProblem).toMatch(/priceTampering\.minAttempts/);
      expect(errors.mock.calls.some(([line]) => String(line).includes("ALERT_RULES setting is invalid"))).toBe(true);
    } finally {
      errors.mockRestore();
    }
    expect(await alertsFor("ALERT_RULES_INVALID", "config:ALERT_RULES")).toEqual([expect.objectContaining({ status: "open", severity: "critical" })]);
    // The defaults (3 attempts) were used, so monitoring went on.
    expect((await alertsFor("SUSPICIOUS_PRICE_TAMPERING", `email:${email}`))[0]).toMatchObject({ status: "open" });

    await check(now + 1000);
    expect(await alertsFor("ALERT_RULES_INVALID", "config:ALERT_RULES")).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });
});

describe("data drift", () => {
  it("a hold still held well after it expired keeps a critical LEDGER_DRIFT alert open until it is settled", async () => {
    const { session } = await makeBookableSession({ capacity: 5 });
    const held = await postHold(holdBody(session.id, 2));
    expect(held.status).toBe(201);
    const stub = sessionStub(session.id);
    const inAnHour = new Date(Date.now() + HOUR);
    expect(await stub.staleHolds(inAnHour.getTime(), 5 * 60_000)).toBe(1);
    expect(await stub.staleHolds(Date.now(), 5 * 60_000)).toBe(0);
    // The hold's attempt and events leave through the outbox; once they are sent, the hold is the only thing left to drift on.
    await eventually(async () => (await stub.pendingOutbox()) === 0);

    expect((await reconcileLedgers(env, db, { now: inAnHour, only: [session.id], holdOverdueMs: 5 * 60_000 })).drifting).toEqual([session.id]);
    const [alert] = await alertsFor("LEDGER_DRIFT", `session:${session.id}`);
    expect(alert).toMatchObject({ status: "open", severity: "critical" });
    expect(JSON.parse(alert!.details)).toMatchObject({ overdueHolds: 1, driftCount: 0, undeliveredOutboxEntries: 0 });
    // With a longer grace the same hold is not overdue yet.
    expect((await reconcileLedgers(env, db, { now: inAnHour, only: [session.id], holdOverdueMs: 2 * HOUR })).drifting).toEqual([]);
    expect((await alertsFor("LEDGER_DRIFT", `session:${session.id}`))[0]).toMatchObject({ status: "resolved", resolved_by: "system" });
  });
});
