import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { ledgerDrift, reconcileLedgers } from "../src/jobs/reconcile";
import { postBooking, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";

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
    const db = getDb(env.DB);

    expect((await reconcileLedgers(env, db, new Date(), [session.id])).drifting).toEqual([]);
    expect((await driftAlerts(session.id)).results).toEqual([]);

    const tamper = (seats: number) =>
      env.DB.prepare(`UPDATE booking_sessions SET seats = ? WHERE booking_id = ?`).bind(seats, booked.json.booking.id).run();
    await tamper(7);
    expect((await reconcileLedgers(env, db, new Date(), [session.id])).drifting).toEqual([session.id]);
    await reconcileLedgers(env, db, new Date(), [session.id]);
    const open = (await driftAlerts(session.id)).results;
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: "open", severity: "critical" });
    expect(JSON.parse(open[0]!.details).drift[0]).toMatchObject({ bookingId: booked.json.booking.id, inDurableObject: { seats: 2 }, inD1: { seats: 7 } });

    await tamper(2);
    await reconcileLedgers(env, db, new Date(), [session.id]);
    expect((await driftAlerts(session.id)).results).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });

  it("runs from the hourly Cron Trigger, which also purges expired idempotency keys", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000));
    await env.DB.prepare(`DELETE FROM booking_sessions WHERE booking_id = ?`).bind(booked.json.booking.id).run();
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
