/**
 * Checkout holds and the two-phase booking across sessions (DESIGN invariant 3): holds count
 * against capacity, a booking naming a hold confirms it once, expired holds are settled by the
 * DO alarm (a multi-session hold asks its coordinator DO, whose first decision wins), and a
 * crashed coordinator leaves a whole booking or nothing. D1 is the projection, read once the
 * Queue has caught up.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BookingProjection } from "../src/durable-objects/session-contract";
import { newCoordinatorName } from "../src/services/session-client";
import {
  availability,
  coordinatorStub,
  d1BookedSeats,
  decisionOfHold,
  doLines,
  dropInBookingBody,
  expireHolds,
  holdBody,
  postBooking,
  postHold,
  projectionCaughtUp,
  reservationIn,
  sessionStub,
  singleBookingBody,
  snapshotOf,
  uniqueEmail, testProjection } from "./booking-helpers";
import { makeBookableSession, makeCustomer, makeSchedule } from "./fixtures";
import { call } from "./helpers";

/** Sessions of one class (DROP_IN needs them together), each with its own instructor. */
async function sessionsOfOneClass(count: number, capacity = 5, pricePence = 2000) {
  const { klass, sessions } = await makeSchedule({ sessions: count, capacity, pricePence });
  return { klass, sessions, ids: sessions.map((session) => session.id) };
}

/** Holds `seats` in a session by calling its DO directly, as a multi-session booking does (for `coordinator`). */
async function holdViaRpc(sessionId: string, holdId: string, email: string, seats = 1, holdTtlMs = 600_000, coordinator: string | null = null) {
  return sessionStub(sessionId).reserve({
    coordinator,
    reservationId: holdId,
    mode: "hold",
    seats,
    email,
    clientKey: "203.0.113.7",
    exempt: false,
    overrideDuplicate: false,
    holdTtlMs,
    limits: { perEmail: 8, perClient: 16, sharePercent: 100 },
    snapshot: await snapshotOf(sessionId),
  });
}

/** A booking projection as the coordinator would commit it. */
function projection(fields: { id: string; customer: { id: string; email: string }; classId: string; holdId: string; guestCount?: number; linePricePence?: number }): BookingProjection {
  const guestCount = fields.guestCount ?? 1;
  return testProjection({
    id: fields.id,
    customerId: fields.customer.id,
    customer: { email: fields.customer.email, firstName: "Ada", lastName: "Customer", phone: null },
    classId: fields.classId,
    registrationType: "DROP_IN",
    guestCount,
    subtotalPence: 4000 * guestCount,
    totalAmountPence: 4000 * guestCount,
    source: "website",
    holdId: fields.holdId,
    linePricePence: fields.linePricePence ?? 2000 * guestCount,
  });
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
    // The session's DO turned the hold itself into the booking's line (one session: no coordinator).
    expect(await reservationIn(session.id, hold.json.holdId)).toMatchObject({ status: "confirmed", booking_id: booked.json.booking.id, coordinator: null });
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await d1BookedSeats(session.id)).toBe(2);
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
    // The hold's coordinator recorded the commit, naming every session with its line price.
    const decision = await decisionOfHold(ids[0]!, hold.json.holdId);
    expect(decision).toMatchObject({ decision: "commit", booking: { id: booked.json.booking.id, holdId: hold.json.holdId } });
    expect(Object.keys((decision as { linePrices: Record<string, number> }).linePrices).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ booked: 2, held: 0, availableSpots: 2 });
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId: booked.json.booking.id, seats: 2, status: "confirmed" }]);
      expect(await d1BookedSeats(id)).toBe(2);
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
    expect(await doLines(session.id)).toEqual([]);
    expect(await projectionCaughtUp(session.id)).toEqual([]);
    expect(await d1BookedSeats(session.id)).toBe(0);
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
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: first.json.booking.id, seats: 1, status: "confirmed" }]);
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

    // The unnamed session's hold runs out; its DO settles it by asking the hold's coordinator.
    const leftover = ids[2]!;
    await expireHolds(leftover);
    expect(await runDurableObjectAlarm(sessionStub(leftover))).toBe(true);
    expect(await availability(leftover), "a seat in a session the booking never named (and was not paid for)").toMatchObject({ booked: 0, held: 0 });
    expect(await reservationIn(leftover, hold.json.holdId)).toMatchObject({ status: "released" });
    expect(await projectionCaughtUp(leftover)).toEqual([]);
    expect(await d1BookedSeats(leftover)).toBe(0);
    if (booked.status === 201) {
      // What was committed names only the sessions booked (and paid for).
      const decision = await decisionOfHold(leftover, hold.json.holdId);
      expect(decision).toMatchObject({ decision: "commit", booking: { id: booked.json.booking.id } });
      expect(Object.keys((decision as { linePrices: Record<string, number> }).linePrices).sort()).toEqual([...named].sort());
      for (const id of named) expect(await projectionCaughtUp(id)).toEqual([{ bookingId: booked.json.booking.id, seats: 1, status: "confirmed" }]);
      const stored = await expectReadable(booked);
      expect(stored.lines.map((line: { sessionId: string }) => line.sessionId)).toEqual(named);
    }
  });
});

describe("expired holds are settled by the session's alarm", () => {
  it("releases a hold that is never booked, and its coordinator records the abort", async () => {
    const { session } = await makeBookableSession({ capacity: 4 });
    const holdId = `hld_test_${crypto.randomUUID()}`;
    const coordinator = newCoordinatorName();
    const held = await holdViaRpc(session.id, holdId, uniqueEmail("lapse"), 2, 1000, coordinator);
    expect(held).toMatchObject({ ok: true, reservation: { status: "held", seats: 2, expiresAt: expect.any(Number), coordinator } });
    expect(await availability(session.id)).toMatchObject({ held: 2, availableSpots: 2 });
    expect(await coordinatorStub(coordinator).decision()).toBeNull();

    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 0, availableSpots: 4 });
    expect(await reservationIn(session.id, holdId)).toMatchObject({ status: "released", booking_id: null });
    // The abort is recorded where the commit would have been: no late commit can win now.
    expect(await coordinatorStub(coordinator).decision()).toEqual({ decision: "abort" });
    // Alarms are at-least-once: running it again changes nothing.
    await runInDurableObject(sessionStub(session.id), (instance) => instance.alarm());
    expect(await availability(session.id)).toMatchObject({ held: 0, availableSpots: 4 });
    expect(await reservationIn(session.id, holdId)).toMatchObject({ status: "released" });
  });

  it("a hold from POST /holds that lapses cannot be booked afterwards, and nothing is booked", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    const email = uniqueEmail("late");
    const hold = await postHold(holdBody(session.id, 2, email));
    expect(hold.status).toBe(201);
    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await availability(session.id)).toMatchObject({ held: 0, availableSpots: 2 });
    expect(await reservationIn(session.id, hold.json.holdId)).toMatchObject({ status: "released" });

    const late = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2, contact: { email, firstName: "L", lastName: "T" }, holdId: hold.json.holdId }));
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("HOLD_EXPIRED");
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await projectionCaughtUp(session.id)).toEqual([]);
    expect(await d1BookedSeats(session.id)).toBe(0);
  });
});

describe("a crashed coordinator leaves a whole booking or nothing", () => {
  it("commit recorded, confirmed in one session only: the other session's alarm confirms it by itself", async () => {
    const { klass, ids } = await sessionsOfOneClass(2, 3);
    const [first, second] = ids as [string, string];
    const customer = await makeCustomer(uniqueEmail("crash"));
    const holdId = `hld_test_${crypto.randomUUID()}`;
    const coordinator = newCoordinatorName();
    for (const id of ids) expect((await holdViaRpc(id, holdId, customer.email, 1, 600_000, coordinator)).ok).toBe(true);

    const booking = projection({ id: `bkg_test_${crypto.randomUUID()}`, customer, classId: klass.id, holdId });
    const linePrices = Object.fromEntries(ids.map((id) => [id, booking.linePricePence]));
    expect(await coordinatorStub(coordinator).decide({ decision: "commit", booking, linePrices })).toMatchObject({ decision: "commit", booking: { id: booking.id } });
    expect(await sessionStub(first).confirm({ holdId, booking, seats: 1, email: customer.email, coordinator })).toMatchObject({ ok: true });
    // ...and the coordinator dies here.
    expect(await availability(second)).toMatchObject({ booked: 0, held: 1 });

    await expireHolds(second);
    expect(await runDurableObjectAlarm(sessionStub(second))).toBe(true);
    expect(await availability(second)).toMatchObject({ booked: 1, held: 0 });
    for (const id of ids) {
      expect(await doLines(id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
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
    const coordinator = (await reservationIn(ids[0]!, holdId))!.coordinator!;
    expect(coordinator).toEqual(expect.any(String));
    for (const id of ids) expect(await reservationIn(id, holdId)).toMatchObject({ status: "held", coordinator });

    // An expiring hold's alarm got as far as recording `abort` (and died before releasing).
    expect(await coordinatorStub(coordinator).decide({ decision: "abort" })).toEqual({ decision: "abort" });
    const customer = await makeCustomer(uniqueEmail("other"));
    const booking = projection({ id: `bkg_test_${crypto.randomUUID()}`, customer, classId: klass.id, holdId });
    const linePrices = Object.fromEntries(ids.map((id) => [id, booking.linePricePence]));
    expect(await coordinatorStub(coordinator).decide({ decision: "commit", booking, linePrices })).toEqual({ decision: "abort" });

    const refused = await postBooking(dropInBookingBody(ids, 2000, { contact: { email, firstName: "A", lastName: "B" }, holdId }));
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { holdId } });
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
      expect(await doLines(id)).toEqual([]);
      expect(await projectionCaughtUp(id)).toEqual([]);
      expect(await d1BookedSeats(id)).toBe(0);
    }
    expect(await coordinatorStub(coordinator).decision()).toEqual({ decision: "abort" });
  });

  it("one session's hold lapsed (alarm released it): a booking naming the hold is refused and the other session lets go too", async () => {
    const { ids } = await sessionsOfOneClass(2, 3, 2000);
    const email = uniqueEmail("lapsed");
    const hold = await postHold(holdBody(ids, 1, email));
    expect(hold.status).toBe(201);
    await expireHolds(ids[0]!);
    expect(await runDurableObjectAlarm(sessionStub(ids[0]!))).toBe(true);
    expect(await decisionOfHold(ids[0]!, hold.json.holdId)).toEqual({ decision: "abort" });

    const refused = await postBooking(dropInBookingBody(ids, 2000, { contact: { email, firstName: "A", lastName: "B" }, holdId: hold.json.holdId }));
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("HOLD_EXPIRED");
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 0, held: 0 });
    expect(await decisionOfHold(ids[1]!, hold.json.holdId)).toEqual({ decision: "abort" });
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
      expect(await doLines(id)).toEqual([]);
    }
    expect(await availability(full)).toMatchObject({ booked: 2, held: 0 });
    // Once the projection caught up (the full session's line is in D1), the others have nothing there.
    expect(await projectionCaughtUp(full)).toHaveLength(1);
    for (const id of ids.slice(0, 2)) {
      expect(await projectionCaughtUp(id)).toEqual([]);
      expect(await d1BookedSeats(id)).toBe(0);
    }
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
