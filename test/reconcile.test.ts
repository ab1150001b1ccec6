import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../src/db/client";
import { SessionDO } from "../src/durable-objects/session";
import { ledgerDrift, reconcileLedgers } from "../src/jobs/reconcile";
import { postBooking, projectionCaughtUp, sessionStub, singleBookingBody, withD1WritesRefused } from "./booking-helpers";
import { call, eventually } from "./helpers";
import { makeAlert, makeBookableSession, makeClass, makeSession } from "./fixtures";

const db = getDb(env.DB);
const HOUR = 3600_000;

/** Takes a D1 table away (renamed) while `during` runs, and always puts it back. */
async function withTableOffline<T>(table: string, during: () => Promise<T>): Promise<T> {
  await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_offline`);
  try {
    return await during();
  } finally {
    await env.DB.exec(`ALTER TABLE ${table}_offline RENAME TO ${table}`);
  }
}

/**
 * A drifting session: booked through the API, projected, then its D1 line changed behind the DO's
 * back (at the DO's own version, so it is drift at once, not a change still in flight).
 */
async function driftingSession() {
  const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
  const booked = await postBooking(singleBookingBody(session.id, 1000));
  expect(booked.status).toBe(201);
  await projectionCaughtUp(session.id);
  await env.DB.prepare(`UPDATE booking_sessions SET seats = 4 WHERE booking_id = ?`).bind(booked.json.booking.id).run();
  return session;
}

const driftAlerts = (sessionId: string) =>
  env.DB.prepare(`SELECT status, severity, resolved_by, details FROM alerts WHERE type = 'LEDGER_DRIFT' AND subject_key = ?`)
    .bind(`session:${sessionId}`)
    .all<{ status: string; severity: string; resolved_by: string | null; details: string }>();

describe("ledgerDrift", () => {
  it("reports lines missing on either side and lines that differ", () => {
    const ledger = [
      { bookingId: "a", seats: 2, status: "confirmed" },
      { bookingId: "b", seats: 1, status: "cancelled" },
      { bookingId: "c", seats: 1, status: "confirmed" },
    ];
    const lines = [
      { bookingId: "a", seats: 2, status: "confirmed" },
      { bookingId: "b", seats: 1, status: "confirmed" },
      { bookingId: "d", seats: 3, status: "confirmed" },
    ];
    expect(ledgerDrift(ledger, lines).map((drift) => drift.bookingId).sort()).toEqual(["b", "c", "d"]);
    expect(ledgerDrift(ledger.slice(0, 1), lines.slice(0, 1))).toEqual([]);
  });
});

describe("reconciliation of session DOs with D1", () => {
  it("raises one critical alert while D1 disagrees, and resolves it when they agree again", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }));
    expect(booked.status).toBe(201);
    await projectionCaughtUp(session.id);
    const db = getDb(env.DB);

    expect((await reconcileLedgers(env, db, { only: [session.id] })).drifting).toEqual([]);
    expect((await driftAlerts(session.id)).results).toEqual([]);

    const tamper = (seats: number) =>
      env.DB.prepare(`UPDATE booking_sessions SET seats = ? WHERE booking_id = ?`).bind(seats, booked.json.booking.id).run();
    await tamper(7);
    expect((await reconcileLedgers(env, db, { only: [session.id] })).drifting).toEqual([session.id]);
    const open = (await driftAlerts(session.id)).results;
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: "open", severity: "critical" });
    expect(JSON.parse(open[0]!.details).drift[0]).toMatchObject({ bookingId: booked.json.booking.id, inDurableObject: { seats: 2 }, inD1: { seats: 7 } });

    // The run had the object send its line again (the repair); once D1 holds it, the alert resolves.
    await projectionCaughtUp(session.id);
    await reconcileLedgers(env, db, { only: [session.id] });
    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });

  it("runs from the hourly Cron Trigger whatever the other hourly jobs do: one failing is logged and reported, the rest still run", async () => {
    const drifting = await driftingSession();
    const klass = await makeClass();
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO events (id, type, occurred_at, class_id, code) SELECT 'evt_sched_' || value || '_' || ?1, 'PURCHASE_BLOCKED', ?2, ?1, 'NO_TRAINER' FROM json_each('[1,2,3,4,5]')`,
    )
      .bind(klass.id, now - HOUR)
      .run();
    const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<{ outcome: string }> };
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    let result;
    try {
      // The purge's table is gone for the run.
      result = await withTableOffline("idempotency_keys", () => worker.scheduled({ cron: "0 * * * *", scheduledTime: now }));
      expect(errors.mock.calls.some(([line]) => String(line).includes('"job":"purgedIdempotencyKeys"'))).toBe(true);
    } finally {
      errors.mockRestore();
    }
    expect(result.outcome).toBe("exception");
    // Reconciliation and the alert checks ran all the same.
    expect((await driftAlerts(drifting.id)).results).toEqual([expect.objectContaining({ status: "open", severity: "critical" })]);
    const hire = await env.DB.prepare(`SELECT status FROM alerts WHERE type = 'HIRE_TRAINER' AND subject_key = ?`).bind(`class:${klass.id}`).first();
    expect(hire).toEqual({ status: "open" });
  });

  it("runs from the hourly Cron Trigger, which also purges expired idempotency keys", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000));
    await projectionCaughtUp(session.id);
    await env.DB.prepare(`UPDATE booking_sessions SET seats = 3 WHERE booking_id = ?`).bind(booked.json.booking.id).run();
    const key = `expired-${crypto.randomUUID()}`;
    await env.DB.prepare(
      `INSERT INTO idempotency_keys (scope, key, request_hash, seed, status, lease_until, expires_at) VALUES ('guest', ?, 'h', 's', 'completed', 0, ?)`,
    )
      .bind(key, Date.now() - 1000)
      .run();

    // The loopback binding's types omit the extra handlers that service_binding_extra_handlers enables.
    const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: Date.now() });

    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "open", severity: "critical" })]);
    const left = await env.DB.prepare(`SELECT count(*) AS n FROM idempotency_keys WHERE key = ?`).bind(key).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("reconciliation repairs what the object knows", () => {
  it("has the session's object send a line D1 lost or got wrong again, and resolves its alert once D1 has it", { timeout: 30_000 }, async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }));
    expect(booked.status).toBe(201);
    await projectionCaughtUp(session.id);
    // D1 loses the line (as if every delivery of it had been exhausted).
    await env.DB.prepare(`DELETE FROM booking_sessions WHERE booking_id = ?`).bind(booked.json.booking.id).run();

    const later = new Date(Date.now() + 10 * 60_000);
    expect((await reconcileLedgers(env, db, { only: [session.id], now: later })).drifting).toEqual([session.id]);
    const [alert] = (await driftAlerts(session.id)).results;
    expect(JSON.parse(alert!.details)).toMatchObject({ resentLines: 1, drift: [{ bookingId: booked.json.booking.id, inD1: null }] });

    // The object's ledger is the authority: D1 gets the line back, and the next run resolves the alert.
    await projectionCaughtUp(session.id);
    expect((await reconcileLedgers(env, db, { only: [session.id], now: later })).drifting).toEqual([]);
    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });
});

describe("reconciliation covers the whole window, whatever fails", () => {
  it("checks every session in the window, page by page in start order, and none outside it", async () => {
    const klass = await makeClass();
    const now = Date.now();
    for (const hours of [5, 1, 3, 200, 2]) await makeSession(klass.id, { startsAt: new Date(now + hours * HOUR) });
    await makeSession(klass.id, { startsAt: new Date(now + 4 * HOUR), status: "cancelled" });
    await makeSession(klass.id, { startsAt: new Date(now - 3 * 24 * HOUR) });
    const inWindow = await env.DB.prepare(`SELECT count(*) AS n FROM class_sessions WHERE status <> 'cancelled' AND starts_at >= ? AND starts_at < ?`)
      .bind(now - 2 * 24 * HOUR, now + 120 * 24 * HOUR)
      .first<{ n: number }>();
    expect(inWindow!.n).toBeGreaterThan(5);

    const asked: string[] = [];
    const ledger = vi.spyOn(SessionDO.prototype, "ledgerEntries");
    ledger.mockImplementation(async function (this: SessionDO) {
      asked.push(String((this as unknown as { ctx: DurableObjectState }).ctx.id.name));
      return [];
    });
    let report;
    try {
      report = await reconcileLedgers(env, db, { now: new Date(now), pageSize: 2, concurrency: 1 });
    } finally {
      ledger.mockRestore();
    }
    expect(report.checked + report.failed).toBe(inWindow!.n);
    expect(new Set(asked).size).toBe(inWindow!.n);
    const { results: startOrder } = await env.DB.prepare(
      `SELECT id FROM class_sessions WHERE status <> 'cancelled' AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, id`,
    )
      .bind(now - 2 * 24 * HOUR, now + 120 * 24 * HOUR)
      .all<{ id: string }>();
    expect(asked).toEqual(startOrder.map((row) => row.id));
  });

  it("counts a session whose DO cannot be asked, keeps its alert, and checks the rest", async () => {
    const failing = await driftingSession();
    const other = await driftingSession();
    expect((await reconcileLedgers(env, db, { only: [failing.id] })).drifting).toEqual([failing.id]);
    await env.DB.prepare(`UPDATE booking_sessions SET seats = 1 WHERE session_id = ?`).bind(failing.id).run();

    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    // The failing session's DO throws when asked for its ledger (as an overloaded or broken object would).
    const original = SessionDO.prototype.ledgerEntries;
    const ledger = vi.spyOn(SessionDO.prototype, "ledgerEntries").mockImplementation(async function (this: SessionDO) {
      if ((this as unknown as { ctx: DurableObjectState }).ctx.id.name === failing.id) throw new Error("simulated DO failure");
      return original.call(this);
    });
    let report;
    try {
      report = await reconcileLedgers(env, db, { only: [failing.id, other.id], concurrency: 1 });
      expect(errors.mock.calls.some(([line]) => String(line).includes("reconciliation could not check a session"))).toBe(true);
    } finally {
      ledger.mockRestore();
      errors.mockRestore();
    }
    expect(report).toMatchObject({ checked: 1, failed: 1 });
    // The other was checked (and drifts); the failing one's alert was left open, though its lines now agree.
    expect(report.drifting).toEqual([other.id]);
    expect((await driftAlerts(failing.id)).results).toEqual([expect.objectContaining({ status: "open" })]);
  });

  it("resolves drift alerts of sessions that left the window: cancelled, long over, deleted", async () => {
    const cancelled = await driftingSession();
    const past = await driftingSession();
    expect((await reconcileLedgers(env, db, { only: [cancelled.id, past.id] })).drifting.sort()).toEqual([cancelled.id, past.id].sort());
    const gone = await makeAlert({ type: "LEDGER_DRIFT", severity: "critical", subjectKey: "session:ses_deleted_long_ago" });
    await env.DB.prepare(`UPDATE class_sessions SET status = 'cancelled' WHERE id = ?`).bind(cancelled.id).run();

    // Three days after the past session started, it is out of the window too.
    const later = new Date(past.startsAt.getTime() + 3 * 24 * HOUR);
    const report = await reconcileLedgers(env, db, { now: later });
    expect(report.resolvedOutOfScope).toBeGreaterThanOrEqual(3);
    for (const id of [cancelled.id, past.id, "ses_deleted_long_ago"]) {
      expect((await driftAlerts(id)).results, id).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
    }
    expect((await db.query.alerts.findFirst({ where: (a, { eq }) => eq(a.id, gone.id) }))?.resolvedBy).toBe("system");
  });

  it("does not cry drift over a booking whose delivery to D1 is still within its deadline, but does once it is overdue", { timeout: 60_000 }, async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    // D1 refuses the projection for a while: the booking is sent to the projection Queue, whose
    // consumer keeps retrying; D1 has no line for it yet.
    await withTableOffline("bookings", async () => {
      const booked = await postBooking(singleBookingBody(session.id, 1000));
      expect(booked.status).toBe(201);
      await eventually(async () => (await sessionStub(session.id).pendingOutbox()) === 0);

      const fresh = await reconcileLedgers(env, db, { only: [session.id], recheckDelayMs: 50 });
      expect(fresh).toMatchObject({ drifting: [], deferred: [session.id] });
      expect((await driftAlerts(session.id)).results).toEqual([]);

      // Ten minutes on, the change is past its deadline and D1 still lacks it: that is drift.
      const overdue = await reconcileLedgers(env, db, { now: new Date(Date.now() + 10 * 60_000), only: [session.id], recheckDelayMs: 50 });
      expect(overdue.drifting).toEqual([session.id]);
      const [alert] = (await driftAlerts(session.id)).results;
      expect(JSON.parse(alert!.details)).toMatchObject({ driftCount: 1, drift: [{ bookingId: booked.json.booking.id, inD1: null }] });
    });
    // D1 is back and the consumer's retry lands the line: resolved.
    await projectionCaughtUp(session.id, 40_000);
    expect((await reconcileLedgers(env, db, { only: [session.id] })).drifting).toEqual([]);
    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "resolved" })]);
  });

  it("treats a cancellation on its way to D1 (D1 still has the line at its older version) as in flight until it is overdue", { timeout: 60_000 }, async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }));
    expect(booked.status).toBe(201);
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
    // D1 refuses the projection's writes (reads still work, as the cancel route reads the booking).
    await withD1WritesRefused(async () => {
      const cancelled = await call("POST", `/api/v1/bookings/${booked.json.booking.id}/cancel`, { headers: { "X-Manage-Token": booked.json.manageToken } });
      expect(cancelled.status).toBe(200);
      await eventually(async () => (await sessionStub(session.id).pendingOutbox()) === 0);
      // The DO has the line cancelled, D1 still confirmed (the consumer cannot write it yet).
      expect((await sessionStub(session.id).ledgerEntries()).map((entry) => entry.status)).toEqual(["cancelled"]);
      expect(await env.DB.prepare(`SELECT status FROM booking_sessions WHERE booking_id = ?`).bind(booked.json.booking.id).first()).toEqual({ status: "confirmed" });

      const fresh = await reconcileLedgers(env, db, { only: [session.id], recheckDelayMs: 50 });
      expect(fresh).toMatchObject({ drifting: [], deferred: [session.id] });
      expect((await driftAlerts(session.id)).results).toEqual([]);

      const overdue = await reconcileLedgers(env, db, { now: new Date(Date.now() + 10 * 60_000), only: [session.id], recheckDelayMs: 50 });
      expect(overdue.drifting).toEqual([session.id]);
      const [alert] = (await driftAlerts(session.id)).results;
      expect(JSON.parse(alert!.details)).toMatchObject({
        driftCount: 1,
        drift: [{ bookingId: booked.json.booking.id, inDurableObject: { seats: 2, status: "cancelled" }, inD1: { seats: 2, status: "confirmed" } }],
      });
    }, ["bookings", "booking_sessions"]);
    expect(await projectionCaughtUp(session.id, 40_000)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "cancelled" }]);
    expect((await reconcileLedgers(env, db, { only: [session.id] })).drifting).toEqual([]);
    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "resolved" })]);
  });
});
