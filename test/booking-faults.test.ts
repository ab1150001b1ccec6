/**
 * Faults: session DOs evicted or reset, D1 refusing writes for a while, an outbox pump that dies
 * before sending, a coordinator dying mid-booking, and the projection receiving redelivered or
 * out-of-order changes. What must hold throughout: capacity is never exceeded, nothing
 * acknowledged is lost (DESIGN invariant 2: bookings go on while D1 refuses writes, and D1
 * converges once it takes them), nothing unacknowledged appears in D1, and a booking across
 * sessions ends whole or not at all.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../src/db/client";
import type { LineChange } from "../src/db/booking-projection";
import { BookingCoordinatorDO } from "../src/durable-objects/coordinator";
import { OUTBOX_GRACE_MS, OutboxPump } from "../src/durable-objects/outbox";
import type { BookingProjection } from "../src/durable-objects/session-contract";
import { SessionDO } from "../src/durable-objects/session";
import { writeProjection } from "../src/jobs/projection-consumer";
import {
  availability,
  d1BookedSeats,
  d1Lines,
  decisionOfHold,
  doLines,
  dropInBookingBody,
  expireHolds,
  fullScheduleBookingBody,
  holdBody,
  makeOutboxDue,
  postBooking,
  postHold,
  projectionCaughtUp,
  reservationIn,
  scheduledAlarm,
  sessionStub,
  singleBookingBody,
  uniqueEmail,
  withD1WritesRefused, testProjection } from "./booking-helpers";
import { makeBookableSession, makeCustomer, makeSchedule } from "./fixtures";
import { call, eventually, eventuallyPasses, tokenFor } from "./helpers";

/** How long D1 may take to catch up after an outage: the consumer retries with 1 s doubling backoff. */
const CONVERGE_MS = 30_000;
const OUTAGE_TEST_MS = 60_000;

/** Runs a session DO's alarm with every outbox entry due, as the backoff would eventually allow. */
async function retryDelivery(sessionId: string) {
  await makeOutboxDue(sessionId);
  return runDurableObjectAlarm(sessionStub(sessionId));
}

async function bookingRow(bookingId: string) {
  return env.DB.prepare(`SELECT id, status, version, cancelled_at FROM bookings WHERE id = ?`).bind(bookingId).first<{ id: string; status: string; version: number; cancelled_at: number | null }>();
}

async function bookingsOfEmail(email: string) {
  const { results } = await env.DB.prepare(`SELECT b.id FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE c.email = ?`).bind(email).all<{ id: string }>();
  return results;
}

async function attemptsOfEmail(email: string) {
  const { results } = await env.DB.prepare(`SELECT kind, outcome, error_code AS errorCode FROM booking_attempts WHERE email = ? ORDER BY created_at`)
    .bind(email)
    .all<{ kind: string; outcome: string; errorCode: string | null }>();
  return results;
}

/** The projection consumer has had its go at what was sent (batch timeout 1 s), so an empty D1 means D1 refused it. */
const consumerHadAGo = () => new Promise((resolve) => setTimeout(resolve, 2_000));

/** Proves the outage is real: a plain write to D1 is refused. */
async function expectD1RefusesWrites() {
  await expect(env.DB.prepare(`INSERT INTO cities (id, name, country_code) VALUES (?, 'Nowhere', 'GB')`).bind(`cty_${crypto.randomUUID()}`).run()).rejects.toThrow(/refuses writes/);
}

describe("session DOs restarting between a hold and its booking", () => {
  it("evicted: the booking that names the hold still succeeds, and counts are right", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1000 });
    const email = uniqueEmail("evict");
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);

    await evictDurableObject(sessionStub(session.id));
    expect(await availability(session.id)).toMatchObject({ held: 2, booked: 0, availableSpots: 1 });
    await evictDurableObject(sessionStub(session.id));

    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, contact: { email, firstName: "E", lastName: "V" }, holdId: hold.json.holdId }));
    expect(booked.status).toBe(201);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 2, availableSpots: 1 });
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await d1BookedSeats(session.id)).toBe(2);
  });

  it("aborted (every DO reset): the multi-session booking that names the hold still succeeds", async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 3, pricePence: 1500 });
    const ids = sessions.map((session) => session.id);
    const email = uniqueEmail("abort");
    const hold = await postHold(holdBody(ids, 1, email));
    expect(hold.status).toBe(201);

    await abortAllDurableObjects();
    for (const id of ids) expect(await availability(id)).toMatchObject({ held: 1, booked: 0 });
    await abortAllDurableObjects();

    const booked = await postBooking(dropInBookingBody(ids, 1500, { contact: { email, firstName: "A", lastName: "B" }, holdId: hold.json.holdId }));
    expect(booked.status).toBe(201);
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ held: 0, booked: 1, availableSpots: 2 });
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId: booked.json.booking.id, seats: 1, status: "confirmed" }]);
    }
  });

  it("reset while bookings are in flight: capacity holds, every acknowledged booking is kept, and the outbox still reaches D1", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    await availability(session.id); // the DO is up before the burst
    const requests = Array.from({ length: 30 }, () => postBooking(singleBookingBody(session.id, 1000)));
    // Reset every DO as soon as the first answer is back, while the rest are still in flight.
    await Promise.race(requests);
    await abortAllDurableObjects();
    const responses = await Promise.all(requests);

    for (const response of responses) {
      // A reset may fail a request in flight (5xx); it must never be mistaken for success.
      if (response.status !== 201) expect([409, 500, 503]).toContain(response.status);
    }
    const ledger = await doLines(session.id);
    expect(ledger.reduce((sum, entry) => sum + entry.seats, 0)).toBeLessThanOrEqual(10);
    const kept = new Set(ledger.map((entry) => entry.bookingId));
    for (const response of responses.filter((r) => r.status === 201)) expect(kept.has(response.json.booking.id)).toBe(true);

    // Whatever the reset interrupted (a pump mid-send), the outbox brings D1 level with the DO, driven by its alarm.
    const pending = await sessionStub(session.id).pendingOutbox();
    if (pending > 0) {
      expect(await scheduledAlarm(session.id), `${pending} outbox entries and no alarm to deliver them`).not.toBeNull();
      expect(await retryDelivery(session.id)).toBe(true);
    }
    expect(await projectionCaughtUp(session.id)).toEqual(ledger);
  });
});

describe("D1 refusing writes for a while", () => {
  it("acknowledges bookings during the outage, refuses only what the DO refuses, and D1 converges to exactly what was acknowledged", { timeout: OUTAGE_TEST_MS }, async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    const accepted = singleBookingBody(session.id, 1000, { guestCount: 2 });
    const refused = singleBookingBody(session.id, 1000);

    const booked = await withD1WritesRefused(async () => {
      await expectD1RefusesWrites();
      const booked = await postBooking(accepted);
      expect(booked.status, JSON.stringify(booked.json)).toBe(201);
      expect(await availability(session.id)).toMatchObject({ booked: 2, isFull: true });

      // The session's DO is the authority: full is full, whatever D1 is doing.
      const full = await postBooking(refused);
      expect(full.status).toBe(409);
      expect(full.json.error.code).toBe("SESSION_FULL");

      // D1 refusing writes does not hold the DO back: its outbox is handed to the Queue all the same...
      await eventually(async () => (await sessionStub(session.id).pendingOutbox()) === 0);
      await consumerHadAGo();
      // ...but nothing reached D1 (the projection consumer keeps retrying).
      expect(await bookingRow(booked.json.booking.id)).toBeNull();
      expect(await d1Lines(session.id)).toEqual([]);
      return booked;
    });

    // D1 is back: the consumer's retries (1 s doubling) write exactly what was acknowledged.
    expect(await projectionCaughtUp(session.id, CONVERGE_MS)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await bookingRow(booked.json.booking.id)).toMatchObject({ status: "confirmed" });
    // Nothing unacknowledged reached D1; the refusal is in the audit trail as a refusal.
    expect(await bookingsOfEmail(refused.contact.email)).toEqual([]);
    await eventuallyPasses(async () => {
      expect(await attemptsOfEmail(refused.contact.email)).toEqual([{ kind: "booking", outcome: "rejected", errorCode: "SESSION_FULL" }]);
      expect(await attemptsOfEmail(accepted.contact.email)).toEqual([{ kind: "booking", outcome: "accepted", errorCode: null }]);
    }, CONVERGE_MS, 250);
  });

  it("a multi-session booking made while D1 refuses writes is acknowledged, and reaches D1 in every session once it takes them", { timeout: OUTAGE_TEST_MS }, async () => {
    const { sessions } = await makeSchedule({ sessions: 3, capacity: 4, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const booked = await withD1WritesRefused(async () => {
      await expectD1RefusesWrites();
      const booked = await postBooking(dropInBookingBody(ids, 1000));
      expect(booked.status, JSON.stringify(booked.json)).toBe(201);
      for (const id of ids) {
        expect(await availability(id)).toMatchObject({ booked: 1, held: 0 });
        await eventually(async () => (await sessionStub(id).pendingOutbox()) === 0);
      }
      await consumerHadAGo();
      for (const id of ids) expect(await d1Lines(id)).toEqual([]);
      return booked;
    });
    for (const id of ids) {
      expect(await projectionCaughtUp(id, CONVERGE_MS)).toEqual([{ bookingId: booked.json.booking.id, seats: 1, status: "confirmed" }]);
    }
    expect(await bookingRow(booked.json.booking.id)).toMatchObject({ status: "confirmed" });
  });

  it("an expired multi-session hold is kept (never oversold) while its coordinator cannot be asked, and let go once it can", async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 2, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const [first, second] = ids as [string, string];
    const hold = await postHold(holdBody(ids, 2, uniqueEmail("undecided")));
    expect(hold.status).toBe(201);

    const unreachable = vi.spyOn(BookingCoordinatorDO.prototype, "decide").mockRejectedValue(new Error("simulated: coordinator unreachable"));
    try {
      await expireHolds(first);
      expect(await runDurableObjectAlarm(sessionStub(first))).toBe(true);
      expect(unreachable).toHaveBeenCalled();
      // Not knowing whether the booking was committed, the DO keeps the seats held.
      expect(await availability(first)).toMatchObject({ held: 2, availableSpots: 0 });
      expect(await reservationIn(first, hold.json.holdId)).toMatchObject({ status: "held" });
      const refused = await postBooking(singleBookingBody(first, 1000));
      expect(refused.status).toBe(409);
      // ...and asks again soon: the alarm stays set.
      expect(await scheduledAlarm(first)).not.toBeNull();
    } finally {
      unreachable.mockRestore();
    }

    await expireHolds(first);
    expect(await runDurableObjectAlarm(sessionStub(first))).toBe(true);
    expect(await availability(first)).toMatchObject({ held: 0, booked: 0, availableSpots: 2 });
    expect(await reservationIn(first, hold.json.holdId)).toMatchObject({ status: "released" });
    // The abort is the coordinator's decision now: the other session lets go too, and no commit can win.
    expect(await decisionOfHold(first, hold.json.holdId)).toEqual({ decision: "abort" });
    await expireHolds(second);
    expect(await runDurableObjectAlarm(sessionStub(second))).toBe(true);
    expect(await availability(second)).toMatchObject({ held: 0, booked: 0, availableSpots: 2 });
  });

  it("a DO that dies after committing, before its outbox pump sends anything, still gets the booking to D1", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1000 });
    // Simulated crash: the object is gone right after its commit, before the pump starts sending.
    const crash = vi.spyOn(OutboxPump.prototype, "pump").mockImplementationOnce(() => undefined);
    let response;
    let pumpsSkipped = 0;
    const before = Date.now();
    try {
      response = await postBooking(singleBookingBody(session.id, 1000));
      pumpsSkipped = crash.mock.calls.length;
    } finally {
      crash.mockRestore();
    }
    expect(pumpsSkipped, "the simulated crash happened").toBeGreaterThan(0);
    // Nothing on the answer's way waits for delivery: the commit is the acknowledgement.
    expect(response.status).toBe(201);
    const ledger = await doLines(session.id);
    expect(ledger).toEqual([{ bookingId: response.json.booking.id, seats: 1, status: "confirmed" }]);
    await evictDurableObject(sessionStub(session.id)).catch(() => undefined);

    expect(await sessionStub(session.id).pendingOutbox()).toBeGreaterThan(0);
    // Not sent for a while: still unsent once D1 had its chance to get it some other way.
    await consumerHadAGo();
    expect(await d1Lines(session.id)).toEqual([]);
    const alarm = await scheduledAlarm(session.id);
    expect(alarm, "an outbox entry with no alarm to retry it is delivered only if another change happens").not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(before + OUTBOX_GRACE_MS + 5_000);
    expect(await retryDelivery(session.id)).toBe(true);
    expect(await projectionCaughtUp(session.id)).toEqual(ledger);
  });
});

describe("a coordinator that dies between commit and the last confirm", () => {
  /** Makes `confirm` fail in one session's DO (every attempt), as if the coordinator died there. */
  function failConfirmIn(sessionId: string) {
    const original = SessionDO.prototype.confirm;
    return vi.spyOn(SessionDO.prototype, "confirm").mockImplementation(async function (this: SessionDO, ...args) {
      const { ctx } = this as unknown as { ctx: DurableObjectState };
      const config = ctx.storage.sql.exec<{ session_id: string }>(`SELECT session_id FROM config WHERE id = 1`).toArray()[0];
      if (config?.session_id === sessionId) throw new Error("simulated coordinator crash");
      return original.apply(this, args);
    });
  }

  /** The one booking D1 has (eventually) for an email: the half-confirmed booking's first line reaches D1 through the Queue. */
  async function onlyBookingOf(email: string) {
    const rows = await eventually(async () => {
      const rows = await bookingsOfEmail(email);
      return rows.length > 0 && rows;
    });
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it("the session left holding confirms by its alarm, so the booking ends whole with its price intact", async () => {
    const { pattern, sessions } = await makeSchedule({ sessions: 3, capacity: 3, pricePence: 1000, fullSchedulePricePence: 10_000 });
    const ids = sessions.map((session) => session.id);
    const last = ids[2]!;
    const body = fullScheduleBookingBody(pattern.id, 10_000);
    const spy = failConfirmIn(last);
    let response;
    try {
      response = await postBooking(body, { idempotencyKey: `crash-${crypto.randomUUID()}` });
    } finally {
      spy.mockRestore();
    }
    expect(response.status).toBe(500);
    expect(await availability(last)).toMatchObject({ held: 1, booked: 0 });

    await expireHolds(last);
    expect(await runDurableObjectAlarm(sessionStub(last))).toBe(true);
    const booking = await onlyBookingOf(body.contact.email);
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
    }
    // The lines of a booking add up to what it costs, whoever confirmed them.
    const { results } = await env.DB.prepare(`SELECT session_id, price_pence FROM booking_sessions WHERE booking_id = ?`).bind(booking.id).all<{ price_pence: number }>();
    const total = await env.DB.prepare(`SELECT total_amount_pence AS total FROM bookings WHERE id = ?`).bind(booking.id).first<{ total: number }>();
    expect(total!.total).toBe(10_000);
    expect(results.reduce((sum, row) => sum + row.price_pence, 0), JSON.stringify(results)).toBe(10_000);
  });

  it("a retry with the same Idempotency-Key completes the booking instead of making another", async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 3, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const key = `crash-${crypto.randomUUID()}`;
    const body = dropInBookingBody(ids, 1000);
    const spy = failConfirmIn(ids[1]!);
    let crashed;
    try {
      crashed = await postBooking(body, { idempotencyKey: key });
    } finally {
      spy.mockRestore();
    }
    expect(crashed.status).toBe(500);

    const retried = await postBooking(body, { idempotencyKey: key });
    expect(retried.status, JSON.stringify(retried.json)).toBe(201);
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId: retried.json.booking.id, seats: 1, status: "confirmed" }]);
    }
    expect(await bookingsOfEmail(body.contact.email)).toEqual([{ id: retried.json.booking.id }]);
  });

  it("cancelling such a booking cancels in the session still holding too: its alarm cannot bring the line back", { timeout: 30_000 }, async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 3, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const body = dropInBookingBody(ids, 1000);
    const spy = failConfirmIn(ids[1]!);
    let crashed;
    try {
      crashed = await postBooking(body);
    } finally {
      spy.mockRestore();
    }
    expect(crashed.status).toBe(500);
    const booking = await onlyBookingOf(body.contact.email);

    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { token: await tokenFor("staff") });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");

    await expireHolds(ids[1]!);
    await runDurableObjectAlarm(sessionStub(ids[1]!));
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
    await projectionCaughtUp(ids[0]!);
    await projectionCaughtUp(ids[1]!);
    expect(await bookingRow(booking.id)).toMatchObject({ status: "cancelled" });
    expect(await d1BookedSeats(ids[1]!)).toBe(0);
  });
});

describe("the projection takes redelivered and out-of-order changes", () => {
  function change(status: LineChange["status"], version: number, fields: { booking: BookingProjection; sessionId: string }) {
    return { kind: "line" as const, change: { booking: fields.booking, sessionId: fields.sessionId, seats: fields.booking.guestCount, status, version, at: version } };
  }

  async function aBooking() {
    const { session, klass } = await makeBookableSession({ pricePence: 1000 });
    const customer = await makeCustomer(uniqueEmail("projection"));
    const booking = testProjection({
      id: `bkg_test_${crypto.randomUUID()}`,
      customerId: customer.id,
      customer: { email: customer.email, firstName: customer.firstName, lastName: customer.lastName, phone: null },
      classId: klass.id,
      guestCount: 2,
      subtotalPence: 2000,
      totalAmountPence: 2000,
      confirmedAt: 1_900_000_000_000,
      linePricePence: 2000,
    });
    return { booking, sessionId: session.id };
  }

  it("writes nothing twice when the same entry is delivered again", async () => {
    const fields = await aBooking();
    const db = getDb(env.DB);
    const confirmed = change("confirmed", 1_900_000_000_000, fields);
    await writeProjection(db, [confirmed]);
    await writeProjection(db, [confirmed]);
    await writeProjection(db, [confirmed, confirmed]);
    expect(await d1Lines(fields.sessionId)).toEqual([{ bookingId: fields.booking.id, seats: 2, status: "confirmed" }]);
    const { results } = await env.DB.prepare(`SELECT id, status, version FROM bookings WHERE id = ?`).bind(fields.booking.id).all();
    expect(results).toEqual([{ id: fields.booking.id, status: "confirmed", version: 1_900_000_000_000 }]);
    // One customer profile for the email, the one the booking names.
    const customers = await env.DB.prepare(`SELECT c.id FROM customers c WHERE c.email = ?`).bind(fields.booking.customer!.email).all();
    expect(customers.results).toEqual([{ id: fields.booking.customerId }]);
  });

  it("never lets an older delivery overwrite a newer state", async () => {
    const fields = await aBooking();
    const db = getDb(env.DB);
    const confirmed = change("confirmed", 1_900_000_000_000, fields);
    const cancelled = change("cancelled", 1_900_000_005_000, fields);

    // The cancellation arrives first (the confirmation's delivery was delayed), then the stale one.
    await writeProjection(db, [cancelled]);
    await writeProjection(db, [confirmed]);
    expect(await d1Lines(fields.sessionId)).toEqual([{ bookingId: fields.booking.id, seats: 2, status: "cancelled" }]);
    expect(await bookingRow(fields.booking.id)).toMatchObject({ status: "cancelled", version: 1_900_000_005_000, cancelled_at: 1_900_000_005_000 });

    // In order, then the stale confirmation redelivered: still cancelled.
    const other = await aBooking();
    await writeProjection(db, [change("confirmed", 1_900_000_000_000, other), change("cancelled", 1_900_000_005_000, other)]);
    await writeProjection(db, [change("confirmed", 1_900_000_000_000, other)]);
    expect(await d1Lines(other.sessionId)).toEqual([{ bookingId: other.booking.id, seats: 2, status: "cancelled" }]);
    expect(await bookingRow(other.booking.id)).toMatchObject({ status: "cancelled" });

    // Out of order within one batch: the consumer applies a line's changes oldest first.
    const third = await aBooking();
    await writeProjection(db, [change("cancelled", 1_900_000_005_000, third), change("confirmed", 1_900_000_000_000, third)]);
    expect(await d1Lines(third.sessionId)).toEqual([{ bookingId: third.booking.id, seats: 2, status: "cancelled" }]);
    expect(await bookingRow(third.booking.id)).toMatchObject({ status: "cancelled" });
  });
});
