/**
 * Faults: session DOs evicted or reset, D1 failing for a while, a coordinator dying mid-booking,
 * and the projection receiving redelivered or out-of-order changes. What must hold throughout:
 * capacity is never exceeded, nothing acknowledged is lost (DESIGN invariant 2), nothing
 * unacknowledged appears in D1, and a booking across sessions ends whole or not at all.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "../src/db/client";
import { type LineChange, projectLineChanges } from "../src/db/booking-projection";
import type { BookingProjection } from "../src/durable-objects/session-contract";
import { SessionDO } from "../src/durable-objects/session";
import {
  availability,
  d1BookedSeats,
  d1Lines,
  decisionFor,
  doLedger,
  dropInBookingBody,
  expireHolds,
  fullScheduleBookingBody,
  holdBody,
  makeOutboxDue,
  postBooking,
  postHold,
  scheduledAlarm,
  sessionStub,
  singleBookingBody,
  uniqueEmail,
} from "./booking-helpers";
import { makeBookableSession, makeCustomer, makeSchedule } from "./fixtures";
import { call, tokenFor } from "./helpers";

/** Takes a D1 table away (renamed) while `during` runs, and always puts it back. */
async function withTableOffline<T>(table: "booking_sessions" | "booking_decisions", during: () => Promise<T>): Promise<T> {
  await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_offline`);
  try {
    return await during();
  } finally {
    await env.DB.exec(`ALTER TABLE ${table}_offline RENAME TO ${table}`);
  }
}

/** Runs a session DO's alarm with every outbox entry due, as the backoff would eventually allow. */
async function retryDelivery(sessionId: string) {
  await makeOutboxDue(sessionId);
  return runDurableObjectAlarm(sessionStub(sessionId));
}

async function bookingRow(bookingId: string) {
  return env.DB.prepare(`SELECT id, status, version, cancelled_at FROM bookings WHERE id = ?`).bind(bookingId).first<{ id: string; status: string; version: number; cancelled_at: number | null }>();
}

async function bookingsOfEmail(email: string) {
  const { results } = await env.DB.prepare(`SELECT b.id FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE c.email = ?`).bind(email).all();
  return results;
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
    expect(await d1BookedSeats(session.id)).toBe(2);
    expect(await d1Lines(session.id)).toEqual(await doLedger(session.id));
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
      expect(await d1Lines(id)).toEqual(await doLedger(id));
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
    const ledger = await doLedger(session.id);
    expect(ledger.reduce((sum, entry) => sum + entry.seats, 0)).toBeLessThanOrEqual(10);
    const kept = new Set(ledger.map((entry) => entry.bookingId));
    for (const response of responses.filter((r) => r.status === 201)) expect(kept.has(response.json.booking.id)).toBe(true);

    // Whatever the reset interrupted, the outbox brings D1 level with the DO, driven by its alarm.
    const pending = await sessionStub(session.id).pendingOutbox();
    if (pending > 0) {
      expect(await scheduledAlarm(session.id), `${pending} outbox entries and no alarm to deliver them`).not.toBeNull();
      expect(await retryDelivery(session.id)).toBe(true);
    }
    expect(await sessionStub(session.id).pendingOutbox()).toBe(0);
    expect(await d1Lines(session.id)).toEqual(ledger);
  });
});

describe("D1 failing for a while", () => {
  it("acknowledges a booking the DO committed, keeps it in the outbox, and delivers it once D1 is back", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    const accepted = singleBookingBody(session.id, 1000, { guestCount: 2 });
    const refused = singleBookingBody(session.id, 1000);

    const [booked, full] = await withTableOffline("booking_sessions", async () => {
      const booked = await postBooking(accepted);
      expect(booked.status).toBe(201);
      expect(await availability(session.id)).toMatchObject({ booked: 2, isFull: true });
      expect(await sessionStub(session.id).pendingOutbox()).toBeGreaterThan(0);
      // The projection batch failed as a whole: not even the booking header is there.
      expect(await bookingRow(booked.json.booking.id)).toBeNull();

      const full = await postBooking(refused);
      expect(full.status).toBe(409);
      expect(full.json.error.code).toBe("SESSION_FULL");
      return [booked, full];
    });
    expect(full.status).toBe(409);
    expect(await d1Lines(session.id)).toEqual([]);

    expect(await retryDelivery(session.id), "the DO scheduled a retry").toBe(true);
    expect(await sessionStub(session.id).pendingOutbox()).toBe(0);
    expect(await d1Lines(session.id)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await bookingRow(booked.json.booking.id)).toMatchObject({ status: "confirmed" });
    expect(await d1Lines(session.id)).toEqual(await doLedger(session.id));
    // Nothing unacknowledged reached D1.
    expect(await bookingsOfEmail(refused.contact.email)).toEqual([]);
  });

  it("a multi-session booking made while D1's projection is down is delivered by every session's alarm", async () => {
    const { sessions } = await makeSchedule({ sessions: 3, capacity: 4, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const booked = await withTableOffline("booking_sessions", async () => {
      const booked = await postBooking(dropInBookingBody(ids, 1000));
      expect(booked.status).toBe(201);
      for (const id of ids) expect(await sessionStub(id).pendingOutbox()).toBeGreaterThan(0);
      return booked;
    });
    for (const id of ids) {
      expect(await d1Lines(id)).toEqual([]);
      expect(await retryDelivery(id), "the DO scheduled a retry").toBe(true);
      expect(await sessionStub(id).pendingOutbox()).toBe(0);
      expect(await d1Lines(id)).toEqual([{ bookingId: booked.json.booking.id, seats: 1, status: "confirmed" }]);
    }
  });

  it("an expired hold is kept (never oversold) while its decision cannot be recorded, and let go once it can", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    const hold = await postHold(holdBody(session.id, 2, uniqueEmail("undecided")));
    expect(hold.status).toBe(201);

    await withTableOffline("booking_decisions", async () => {
      await expireHolds(session.id);
      expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
      expect(await availability(session.id)).toMatchObject({ held: 2, availableSpots: 0 });
      const refused = await postBooking(singleBookingBody(session.id, 1000));
      expect(refused.status).toBe(409);
    });

    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 0, availableSpots: 2 });
    expect(await decisionFor(hold.json.holdId)).toMatchObject({ decision: "abort" });
  });

  it("a DO that dies after committing, before its first delivery attempt, still gets the booking to D1", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1000 });
    // Simulated crash: the process dies while the first delivery to D1 is under way.
    const crash = vi.spyOn(SessionDO.prototype as unknown as { deliverOutbox: () => Promise<void> }, "deliverOutbox").mockRejectedValueOnce(new Error("simulated crash"));
    let response;
    try {
      response = await postBooking(singleBookingBody(session.id, 1000));
    } finally {
      crash.mockRestore();
    }
    // The client was not told it succeeded, but the DO committed the seat: D1 must hear of it.
    expect(response.status).toBe(500);
    const ledger = await doLedger(session.id);
    expect(ledger).toHaveLength(1);
    await evictDurableObject(sessionStub(session.id)).catch(() => undefined);

    expect(await sessionStub(session.id).pendingOutbox()).toBe(1);
    expect(await scheduledAlarm(session.id), "an outbox entry with no alarm to retry it is delivered only if another change happens").not.toBeNull();
    expect(await retryDelivery(session.id)).toBe(true);
    expect(await d1Lines(session.id)).toEqual(ledger);
  });
});

describe("a coordinator that dies between commit and the last confirm", () => {
  /** Makes `confirm` fail in one session's DO (every attempt), as if the coordinator died there. */
  function failConfirmIn(sessionId: string) {
    const original = SessionDO.prototype.confirm;
    return vi.spyOn(SessionDO.prototype, "confirm").mockImplementation(async function (this: SessionDO, ...args) {
      const config = (this as unknown as { config(): { session_id: string } | undefined }).config();
      if (config?.session_id === sessionId) throw new Error("simulated coordinator crash");
      return original.apply(this, args);
    });
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
    const [booking] = (await bookingsOfEmail(body.contact.email)) as { id: string }[];
    expect(booking).toBeDefined();
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
      expect(await d1Lines(id)).toEqual([{ bookingId: booking!.id, seats: 1, status: "confirmed" }]);
    }
    // The lines of a booking add up to what it costs, whoever confirmed them.
    const { results } = await env.DB.prepare(`SELECT session_id, price_pence FROM booking_sessions WHERE booking_id = ?`).bind(booking!.id).all<{ price_pence: number }>();
    const total = await env.DB.prepare(`SELECT total_amount_pence AS total FROM bookings WHERE id = ?`).bind(booking!.id).first<{ total: number }>();
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
    expect(retried.status).toBe(201);
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
      expect(await d1Lines(id)).toEqual([{ bookingId: retried.json.booking.id, seats: 1, status: "confirmed" }]);
    }
  });
  it("cancelling such a booking cancels in the session still holding too: its alarm cannot bring the line back", async () => {
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
    const [booking] = (await bookingsOfEmail(body.contact.email)) as { id: string }[];

    const cancelled = await call("POST", `/api/v1/bookings/${booking!.id}/cancel`, { token: await tokenFor("staff") });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");

    await expireHolds(ids[1]!);
    await runDurableObjectAlarm(sessionStub(ids[1]!));
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
    expect(await bookingRow(booking!.id)).toMatchObject({ status: "cancelled" });
    expect(await d1BookedSeats(ids[1]!)).toBe(0);
  });
});

describe("the projection takes redelivered and out-of-order changes", () => {
  async function change(status: LineChange["status"], version: number, fields: { booking: BookingProjection; sessionId: string }): Promise<LineChange> {
    return { booking: fields.booking, sessionId: fields.sessionId, seats: fields.booking.guestCount, status, version, at: version };
  }

  async function aBooking() {
    const { session, klass } = await makeBookableSession({ pricePence: 1000 });
    const customer = await makeCustomer(uniqueEmail("projection"));
    const booking: BookingProjection = {
      id: `bkg_test_${crypto.randomUUID()}`,
      customerId: customer.id,
      classId: klass.id,
      patternId: null,
      registrationType: "SINGLE_SESSION",
      guestCount: 2,
      subtotalPence: 2000,
      discountPence: 0,
      totalAmountPence: 2000,
      currency: "GBP",
      promoCodeId: null,
      source: null,
      referralSource: null,
      notes: null,
      manageTokenHash: "hash",
      bookedBy: null,
      duplicateOverride: false,
      holdId: null,
      confirmedAt: 1_900_000_000_000,
      linePricePence: 2000,
    };
    return { booking, sessionId: session.id };
  }

  it("writes nothing twice when the same entry is delivered again", async () => {
    const fields = await aBooking();
    const db = getDb(env.DB);
    const confirmed = await change("confirmed", 1_900_000_000_000, fields);
    await projectLineChanges(db, [confirmed]);
    await projectLineChanges(db, [confirmed]);
    await projectLineChanges(db, [confirmed, confirmed]);
    expect(await d1Lines(fields.sessionId)).toEqual([{ bookingId: fields.booking.id, seats: 2, status: "confirmed" }]);
    const { results } = await env.DB.prepare(`SELECT id, status, version FROM bookings WHERE id = ?`).bind(fields.booking.id).all();
    expect(results).toEqual([{ id: fields.booking.id, status: "confirmed", version: 1_900_000_000_000 }]);
  });

  it("never lets an older delivery overwrite a newer state", async () => {
    const fields = await aBooking();
    const db = getDb(env.DB);
    const confirmed = await change("confirmed", 1_900_000_000_000, fields);
    const cancelled = await change("cancelled", 1_900_000_005_000, fields);

    // The cancellation arrives first (the confirmation's delivery was delayed), then the stale one.
    await projectLineChanges(db, [cancelled]);
    await projectLineChanges(db, [confirmed]);
    expect(await d1Lines(fields.sessionId)).toEqual([{ bookingId: fields.booking.id, seats: 2, status: "cancelled" }]);
    expect(await bookingRow(fields.booking.id)).toMatchObject({ status: "cancelled", version: 1_900_000_005_000, cancelled_at: 1_900_000_005_000 });

    // In order, then the stale confirmation redelivered: still cancelled.
    const other = await aBooking();
    await projectLineChanges(db, [await change("confirmed", 1_900_000_000_000, other), await change("cancelled", 1_900_000_005_000, other)]);
    await projectLineChanges(db, [await change("confirmed", 1_900_000_000_000, other)]);
    expect(await d1Lines(other.sessionId)).toEqual([{ bookingId: other.booking.id, seats: 2, status: "cancelled" }]);
    expect(await bookingRow(other.booking.id)).toMatchObject({ status: "cancelled" });
  });
});
