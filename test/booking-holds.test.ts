/**
 * Checkout holds and the two-phase booking across sessions (DESIGN invariant 3): holds count
 * against capacity, a booking naming a hold confirms it once, expired holds are settled by the
 * DO alarm through D1's commit log, and a crashed coordinator leaves a whole booking or nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { decideReservation } from "../src/db/booking-projection";
import type { BookingProjection } from "../src/durable-objects/session-contract";
import {
  availability,
  d1BookedSeats,
  d1Lines,
  decisionFor,
  doLedger,
  dropInBookingBody,
  expireHolds,
  holdBody,
  postBooking,
  postHold,
  sessionStub,
  singleBookingBody,
  snapshotOf,
  uniqueEmail,
} from "./booking-helpers";
import { makeBookableSession, makeCustomer, makeSchedule } from "./fixtures";
import { call } from "./helpers";

const db = () => getDb(env.DB);

/** Sessions of one class (DROP_IN needs them together), each with its own instructor. */
async function sessionsOfOneClass(count: number, capacity = 5, pricePence = 2000) {
  const { klass, sessions } = await makeSchedule({ sessions: count, capacity, pricePence });
  return { klass, sessions, ids: sessions.map((session) => session.id) };
}

/** Holds `seats` in a session by calling its DO directly, as the coordinator does. */
async function holdViaRpc(sessionId: string, holdId: string, email: string, seats = 1, holdTtlMs = 600_000) {
  return sessionStub(sessionId).reserve({
    reservationId: holdId,
    mode: "hold",
    seats,
    email,
    clientKey: "203.0.113.7",
    exempt: false,
    overrideDuplicate: false,
    holdTtlMs,
    limits: { perEmail: 8, perClient: 16 },
    snapshot: await snapshotOf(sessionId),
  });
}

/** A booking projection as the coordinator would commit it. */
function projection(fields: { id: string; customerId: string; classId: string; holdId: string; guestCount?: number; linePricePence?: number }): BookingProjection {
  const guestCount = fields.guestCount ?? 1;
  return {
    id: fields.id,
    customerId: fields.customerId,
    classId: fields.classId,
    patternId: null,
    registrationType: "DROP_IN",
    guestCount,
    subtotalPence: 4000 * guestCount,
    discountPence: 0,
    totalAmountPence: 4000 * guestCount,
    currency: "GBP",
    promoCodeId: null,
    source: "test",
    referralSource: null,
    notes: null,
    manageTokenHash: "not-a-real-hash",
    bookedBy: null,
    duplicateOverride: false,
    holdId: fields.holdId,
    confirmedAt: Date.now(),
    linePricePence: fields.linePricePence ?? 2000 * guestCount,
  };
}

/** Every 201 must name a booking that exists: readable with its own manage token. */
async function expectReadable(response: Awaited<ReturnType<typeof postBooking>>) {
  const read = await call("GET", `/api/v1/bookings/${response.json.booking.id}`, { headers: { "X-Manage-Token": response.json.manageToken } });
  expect(read.status, `booking ${response.json.booking.id} was acknowledged but cannot be read`).toBe(200);
  return read.json;
}

describe("POST /api/v1/holds", () => {
  it("holds one session: the seats count as held, and a booking naming the hold confirms them once", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1500 });
    const email = uniqueEmail("holder");
    const before = Date.now();
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);
    expect(hold.json).toMatchObject({
      holdId: expect.any(String),
      registrationType: "SINGLE_SESSION",
      guestCount: 2,
      email,
      sessions: [{ sessionId: session.id, startsAt: session.startsAt.toISOString() }],
    });
    const expiresAt = Date.parse(hold.json.expiresAt);
    expect(expiresAt).toBeGreaterThan(before);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 2, availableSpots: 1, status: "open" });

    // Held seats are not for sale to anyone else.
    const other = await postBooking(singleBookingBody(session.id, 1500, { guestCount: 2 }));
    expect(other.status).toBe(409);
    expect(other.json.error).toMatchObject({ code: "INSUFFICIENT_CAPACITY", details: { availableSpots: 1 } });

    const contact = { email, firstName: "Hol", lastName: "Der" };
    const booked = await postBooking(singleBookingBody(session.id, 1500, { guestCount: 2, contact, holdId: hold.json.holdId }));
    expect(booked.status).toBe(201);
    expect(booked.json.booking).toMatchObject({ holdId: hold.json.holdId, guestCount: 2, lines: [{ sessionId: session.id, seats: 2, status: "confirmed" }] });
    expect(await availability(session.id)).toMatchObject({ booked: 2, held: 0, availableSpots: 1 });
    expect(await d1BookedSeats(session.id)).toBe(2);
    expect(await d1Lines(session.id)).toEqual(await doLedger(session.id));
    expect(await decisionFor(hold.json.holdId)).toMatchObject({ decision: "commit", bookingId: booked.json.booking.id });
    const stored = await expectReadable(booked);
    expect(stored).toMatchObject({ holdId: hold.json.holdId, status: "confirmed" });
  });

  it("holds several sessions at once and a DROP_IN booking naming the hold confirms every one", async () => {
    const { ids } = await sessionsOfOneClass(3, 4, 2000);
    const email = uniqueEmail("multi");
    const hold = await postHold(holdBody(ids, 2, email));
    expect(hold.status).toBe(201);
    expect(hold.json.registrationType).toBe("DROP_IN");
    expect(hold.json.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(ids);
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 0, held: 2, availableSpots: 2 });

    const booked = await postBooking(dropInBookingBody(ids, 2000, { guestCount: 2, contact: { email, firstName: "M", lastName: "S" }, holdId: hold.json.holdId }));
    expect(booked.status).toBe(201);
    expect(booked.json.booking.lines.map((line: { sessionId: string }) => line.sessionId)).toEqual(ids);
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ booked: 2, held: 0, availableSpots: 2 });
      expect(await d1BookedSeats(id)).toBe(2);
      expect(await d1Lines(id)).toEqual(await doLedger(id));
    }
    await expectReadable(booked);
  });

  it("a booking whose seats or email differ from the hold is refused (HOLD_EXPIRED, mismatch) and takes no seats", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const email = uniqueEmail("match");
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);

    const fewerSeats = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 1, contact: { email, firstName: "A", lastName: "B" }, holdId: hold.json.holdId }));
    expect(fewerSeats.status).toBe(409);
    expect(fewerSeats.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { holdId: hold.json.holdId, heldSeats: 2, reason: "mismatch" } });

    const otherEmail = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, holdId: hold.json.holdId }));
    expect(otherEmail.status).toBe(409);
    expect(otherEmail.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });

    const live = await availability(session.id);
    expect(live.booked).toBe(0);
    expect(live.held).toBeLessThanOrEqual(2);
    expect(await d1BookedSeats(session.id)).toBe(0);
    expect(await doLedger(session.id)).toEqual([]);
  });

  it("a mismatched booking naming someone's hold does not cost the holder their hold", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const email = uniqueEmail("owner");
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);

    const stranger = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, holdId: hold.json.holdId }));
    expect(stranger.status).toBe(409);
    expect(stranger.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });
    // The DO refused to touch the hold because it is not theirs; it must still be the holder's.
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 2 });

    const owner = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, contact: { email, firstName: "O", lastName: "W" }, holdId: hold.json.holdId }));
    expect(owner.status, JSON.stringify(owner.json)).toBe(201);
    expect(await availability(session.id)).toMatchObject({ booked: 2, held: 0 });
  });

  it("a second booking naming an already-confirmed hold does not acknowledge a booking that does not exist", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const email = uniqueEmail("twice");
    const contact = { email, firstName: "T", lastName: "W" };
    const hold = await postHold(holdBody(session.id, 1, email));
    const first = await postBooking(singleBookingBody(session.id, 1000, { contact, holdId: hold.json.holdId }));
    expect(first.status).toBe(201);

    const second = await postBooking(singleBookingBody(session.id, 1000, { contact, holdId: hold.json.holdId }));
    // Either refused, or the same booking again; never a fresh booking id that exists nowhere.
    if (second.status === 201) {
      await expectReadable(second);
      expect(second.json.booking.id).toBe(first.json.booking.id);
    } else {
      expect(second.status).toBe(409);
    }
    expect(await availability(session.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await d1Lines(session.id)).toEqual(await doLedger(session.id));
  });

  it("a booking naming a hold books only the sessions it names: the hold's other sessions are not sold with it", async () => {
    const { ids } = await sessionsOfOneClass(3, 5, 2000);
    const email = uniqueEmail("partial");
    const hold = await postHold(holdBody(ids, 1, email));
    expect(hold.status).toBe(201);

    const named = ids.slice(0, 2);
    const booked = await postBooking(dropInBookingBody(named, 2000, { contact: { email, firstName: "P", lastName: "A" }, holdId: hold.json.holdId }));
    // Accepting it (for the named sessions) or refusing it are both fine; what matters is below.
    expect([201, 409]).toContain(booked.status);

    // The unnamed session's hold runs out; its DO settles it through the commit log.
    const leftover = ids[2]!;
    await expireHolds(leftover);
    expect(await runDurableObjectAlarm(sessionStub(leftover))).toBe(true);
    expect(await availability(leftover), "a seat in a session the booking never named (and was not paid for)").toMatchObject({ booked: 0, held: 0 });
    expect(await d1BookedSeats(leftover)).toBe(0);
    if (booked.status === 201) {
      const stored = await expectReadable(booked);
      expect(stored.lines.map((line: { sessionId: string }) => line.sessionId)).toEqual(named);
    }
  });
});

describe("expired holds are settled by the session's alarm", () => {
  it("releases a hold that is never booked and records the abort in D1", async () => {
    const { session } = await makeBookableSession({ capacity: 4 });
    const holdId = `hld_test_${crypto.randomUUID()}`;
    const held = await holdViaRpc(session.id, holdId, uniqueEmail("lapse"), 2, 1000);
    expect(held).toMatchObject({ ok: true, reservation: { status: "held", seats: 2, expiresAt: expect.any(Number) } });
    expect(await availability(session.id)).toMatchObject({ held: 2, availableSpots: 2 });

    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 0, availableSpots: 4 });
    expect(await decisionFor(holdId)).toMatchObject({ decision: "abort", bookingId: null });
    // Alarms are at-least-once: running it again changes nothing.
    await runInDurableObject(sessionStub(session.id), (instance) => instance.alarm());
    expect(await availability(session.id)).toMatchObject({ held: 0, availableSpots: 4 });
  });

  it("a hold from POST /holds that lapses cannot be booked afterwards, and nothing is booked", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    const email = uniqueEmail("late");
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);
    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await availability(session.id)).toMatchObject({ held: 0, availableSpots: 2 });

    const late = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, contact: { email, firstName: "L", lastName: "T" }, holdId: hold.json.holdId }));
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("HOLD_EXPIRED");
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await d1BookedSeats(session.id)).toBe(0);
  });
});

describe("a crashed coordinator leaves a whole booking or nothing", () => {
  it("commit recorded, confirmed in one session only: the other session's alarm confirms it by itself", async () => {
    const { klass, ids } = await sessionsOfOneClass(2, 3);
    const [first, second] = ids as [string, string];
    const customer = await makeCustomer(uniqueEmail("crash"));
    const holdId = `hld_test_${crypto.randomUUID()}`;
    for (const id of ids) expect((await holdViaRpc(id, holdId, customer.email)).ok).toBe(true);

    const booking = projection({ id: `bkg_test_${crypto.randomUUID()}`, customerId: customer.id, classId: klass.id, holdId });
    const linePrices = Object.fromEntries(ids.map((id) => [id, booking.linePricePence]));
    expect(await decideReservation(db(), holdId, { decision: "commit", booking, linePrices })).toMatchObject({ decision: "commit" });
    expect(await sessionStub(first).confirm(holdId, booking, { seats: 1, email: customer.email })).toMatchObject({ ok: true });
    // ...and the coordinator dies here.
    expect(await availability(second)).toMatchObject({ booked: 0, held: 1 });

    await expireHolds(second);
    expect(await runDurableObjectAlarm(sessionStub(second))).toBe(true);
    expect(await availability(second)).toMatchObject({ booked: 1, held: 0 });
    for (const id of ids) {
      expect(await d1Lines(id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
      expect(await doLedger(id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
      expect(await sessionStub(id).pendingOutbox()).toBe(0);
    }
    const header = await env.DB.prepare(`SELECT status, hold_id FROM bookings WHERE id = ?`).bind(booking.id).first();
    expect(header).toEqual({ status: "confirmed", hold_id: holdId });
  });

  it("abort recorded first: the coordinator's commit loses, and a booking naming the hold is refused with nothing booked", async () => {
    const { klass, ids } = await sessionsOfOneClass(2, 3, 2000);
    const email = uniqueEmail("abort");
    const hold = await postHold(holdBody(ids, 1, email));
    expect(hold.status).toBe(201);
    const holdId = hold.json.holdId as string;

    // An expiring hold's alarm got as far as recording `abort` (and died before releasing).
    expect(await decideReservation(db(), holdId, { decision: "abort" })).toEqual({ decision: "abort" });
    const customer = await makeCustomer(uniqueEmail("other"));
    const booking = projection({ id: `bkg_test_${crypto.randomUUID()}`, customerId: customer.id, classId: klass.id, holdId });
    const linePrices = Object.fromEntries(ids.map((id) => [id, booking.linePricePence]));
    expect(await decideReservation(db(), holdId, { decision: "commit", booking, linePrices })).toEqual({ decision: "abort" });

    const refused = await postBooking(dropInBookingBody(ids, 2000, { contact: { email, firstName: "A", lastName: "B" }, holdId }));
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { holdId } });
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
      expect(await d1BookedSeats(id)).toBe(0);
      expect(await doLedger(id)).toEqual([]);
    }
    expect(await decisionFor(holdId)).toMatchObject({ decision: "abort" });
  });

  it("one session's hold lapsed (alarm released it): a booking naming the hold is refused and the other session lets go too", async () => {
    const { ids } = await sessionsOfOneClass(2, 3, 2000);
    const email = uniqueEmail("lapsed");
    const hold = await postHold(holdBody(ids, 1, email));
    expect(hold.status).toBe(201);
    await expireHolds(ids[0]!);
    expect(await runDurableObjectAlarm(sessionStub(ids[0]!))).toBe(true);
    expect(await decisionFor(hold.json.holdId)).toMatchObject({ decision: "abort" });

    const refused = await postBooking(dropInBookingBody(ids, 2000, { contact: { email, firstName: "A", lastName: "B" }, holdId: hold.json.holdId }));
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("HOLD_EXPIRED");
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
  });
});

describe("multi-session bookings are all or nothing", () => {
  it("a DROP_IN whose last session is full is refused naming that session, and the others keep nothing", async () => {
    const { ids } = await sessionsOfOneClass(3, 2, 2000);
    const full = ids[2]!;
    expect((await postBooking(dropInBookingBody([full], 2000, { guestCount: 2 }))).status).toBe(201);

    const refused = await postBooking(dropInBookingBody(ids, 2000));
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "SESSION_FULL", details: { sessionId: full } });
    for (const id of ids.slice(0, 2)) {
      expect(await availability(id)).toMatchObject({ booked: 0, held: 0, availableSpots: 2 });
      expect(await d1BookedSeats(id)).toBe(0);
      expect(await doLedger(id)).toEqual([]);
    }
    expect(await availability(full)).toMatchObject({ booked: 2, held: 0 });
  });

  it("a hold over several sessions is all or nothing too", async () => {
    const { ids } = await sessionsOfOneClass(3, 1, 2000);
    expect((await postBooking(dropInBookingBody([ids[1]!], 2000))).status).toBe(201);
    const refused = await postHold(holdBody(ids, 1));
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "SESSION_FULL", details: { sessionId: ids[1] } });
    for (const id of [ids[0]!, ids[2]!]) expect(await availability(id)).toMatchObject({ booked: 0, held: 0, availableSpots: 1 });
  });
});
