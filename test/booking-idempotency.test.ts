/**
 * Idempotency-Key on POST /api/v1/bookings (DESIGN invariant 4), end to end through the real
 * booking flow: a replay returns the first response and books nothing more, a reused key with
 * another body is refused, concurrent requests with one key book once, and keys are per caller.
 * The key's record lives beside the write it protects: in the session's DO (same transaction as
 * the reservation) for one session, in the attempt's coordinator DO for several; no D1 row. A
 * refusal decided in the Worker before any DO is asked (AMOUNT_MISMATCH, ...) is not kept under the
 * key (nothing was written; a retry is evaluated afresh); a DO's refusal is kept and replayed.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_RETENTION_MS } from "../src/durable-objects/session/idempotency";
import {
  availability,
  d1BookedSeats,
  doLines,
  dropInBookingBody,
  idempotencyRecordsIn,
  postBooking,
  projectionCaughtUp,
  sessionStub,
  singleBookingBody,
  uniqueEmail,
} from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { call, tokenFor } from "./helpers";

const newKey = () => `key-${crypto.randomUUID()}`;

async function d1KeyRows(key: string) {
  const { results } = await env.DB.prepare(`SELECT key FROM idempotency_keys WHERE key = ?`).bind(key).all();
  return results;
}

/** Ages a session DO's key records by `ms`, as if they had been written that long ago. */
async function ageKeyRecords(sessionId: string, ms: number) {
  await runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    state.storage.sql.exec(`UPDATE idempotency SET created_at = created_at - ?`, ms);
  });
}

describe("Idempotency-Key on POST /api/v1/bookings", () => {
  it("replays the first response for the same key and body, and books once", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1200 });
    const key = newKey();
    const body = singleBookingBody(session.id, 1200, { guestCount: 2 });
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();

    const again = await postBooking(body, { idempotencyKey: key });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.booking.id).toBe(first.json.booking.id);
    expect(again.json.manageToken).toBe(first.json.manageToken);
    expect(again.json).toEqual(first.json);

    expect(await availability(session.id)).toMatchObject({ booked: 2, held: 0 });
    expect(await doLines(session.id)).toEqual([{ bookingId: first.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: first.json.booking.id, seats: 2, status: "confirmed" }]);
    expect(await d1BookedSeats(session.id)).toBe(2);
    // The record is the session DO's, written with the booking; D1 holds none for this route.
    expect((await idempotencyRecordsIn(session.id)).map((record) => record.key)).toEqual([key]);
    expect(await d1KeyRows(key)).toEqual([]);
  });

  it("refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED) and books nothing for it", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1200 });
    const key = newKey();
    const body = singleBookingBody(session.id, 1200);
    expect((await postBooking(body, { idempotencyKey: key })).status).toBe(201);

    const other = await postBooking({ ...body, guestCount: 2, totalAmountPence: 2400 }, { idempotencyKey: key });
    expect(other.status).toBe(422);
    expect(other.headers.get("Idempotent-Replayed")).toBeNull();
    expect(other.json.error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", details: { idempotencyKey: key } });
    expect(await availability(session.id)).toMatchObject({ booked: 1 });
  });

  it("10 concurrent requests with one key book exactly once", async () => {
    const { session } = await makeBookableSession({ capacity: 20, pricePence: 1000 });
    const key = newKey();
    const body = singleBookingBody(session.id, 1000, { guestCount: 3 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => postBooking(body, { idempotencyKey: key })));

    const created = responses.filter((response) => response.status === 201);
    const executed = created.filter((response) => response.headers.get("Idempotent-Replayed") !== "true");
    expect(executed).toHaveLength(1);
    const bookingId = executed[0]!.json.booking.id;
    for (const response of responses) {
      if (response.status === 201) {
        expect(response.json.booking.id).toBe(bookingId);
      } else {
        expect(response.status).toBe(409);
        expect(response.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
        expect(Number(response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(await availability(session.id)).toMatchObject({ booked: 3, held: 0 });
    expect(await doLines(session.id)).toEqual([{ bookingId, seats: 3, status: "confirmed" }]);
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId, seats: 3, status: "confirmed" }]);

    // Once the first has finished, a retry replays it.
    const retry = await postBooking(body, { idempotencyKey: key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.json.booking.id).toBe(bookingId);
  });

  it("10 concurrent multi-session requests with one key book exactly once (the coordinator's claim)", async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 20, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const key = newKey();
    const body = dropInBookingBody(ids, 1000, { guestCount: 2 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => postBooking(body, { idempotencyKey: key })));

    const executed = responses.filter((response) => response.status === 201 && response.headers.get("Idempotent-Replayed") !== "true");
    expect(executed).toHaveLength(1);
    const bookingId = executed[0]!.json.booking.id;
    for (const response of responses) {
      if (response.status === 201) expect(response.json.booking.id).toBe(bookingId);
      else {
        expect(response.status, JSON.stringify(response.json)).toBe(409);
        expect(response.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
        expect(Number(response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      }
    }
    for (const id of ids) {
      expect(await availability(id)).toMatchObject({ booked: 2, held: 0 });
      expect(await projectionCaughtUp(id)).toEqual([{ bookingId, seats: 2, status: "confirmed" }]);
    }
    const retry = await postBooking(body, { idempotencyKey: key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.json).toEqual(executed[0]!.json);
    // Another body under the key is refused there too, and books nothing.
    const other = await postBooking({ ...body, guestCount: 1, totalAmountPence: 2000 }, { idempotencyKey: key });
    expect(other.status).toBe(422);
    expect(other.json.error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    for (const id of ids) expect(await availability(id)).toMatchObject({ booked: 2, held: 0 });
    expect(await d1KeyRows(key)).toEqual([]);
  });

  it("scopes keys to the caller: two customers with the same key each book", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const key = newKey();
    const bookings = [];
    for (const label of ["alice", "bob"]) {
      const email = uniqueEmail(label);
      const token = await tokenFor("customer", email);
      const response = await postBooking(singleBookingBody(session.id, 1000, { contact: { email, firstName: label, lastName: "X" } }), { token, idempotencyKey: key });
      expect(response.status).toBe(201);
      expect(response.headers.get("Idempotent-Replayed")).toBeNull();
      bookings.push(response.json.booking.id);
    }
    expect(bookings[0]).not.toBe(bookings[1]);
    expect(await availability(session.id)).toMatchObject({ booked: 2 });
    expect((await doLines(session.id)).map((entry) => entry.bookingId).sort()).toEqual([...bookings].sort());
  });

  it("replays a refusal the session's DO decided (409 DUPLICATE_BOOKING) as the same 409, even once it no longer applies", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const email = uniqueEmail("twice");
    const contact = { email, firstName: "Du", lastName: "Plicate" };
    const taken = await postBooking(singleBookingBody(session.id, 1000, { contact }));
    expect(taken.status).toBe(201);
    const key = newKey();
    const body = singleBookingBody(session.id, 1000, { contact });
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(409);
    expect(first.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: {} });
    // The session's DO kept the refusal under the key, with the reservation it refused.
    expect((await idempotencyRecordsIn(session.id)).map((record) => ({ key: record.key, outcome: JSON.parse(record.outcome) }))).toEqual([
      { key, outcome: expect.objectContaining({ ok: false, code: "DUPLICATE_BOOKING" }) },
    ]);

    // The first booking is cancelled, so the request would now succeed; its repeat still gets the first answer.
    const cancelled = await call("POST", `/api/v1/bookings/${taken.json.booking.id}/cancel`, { headers: { "X-Manage-Token": taken.json.manageToken } });
    expect(cancelled.status).toBe(200);
    const again = await postBooking(body, { idempotencyKey: key });
    expect(again.status).toBe(409);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.error).toMatchObject({ code: first.json.error.code, message: first.json.error.message, details: first.json.error.details });
    expect(await availability(session.id)).toMatchObject({ booked: 0 });
    expect(await doLines(session.id)).toEqual([{ bookingId: taken.json.booking.id, seats: 1, status: "cancelled" }]);
  });

  it("does not keep a refusal decided before any DO was asked (422 AMOUNT_MISMATCH): a repeat is evaluated again, a corrected retry books", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 2500 });
    const key = newKey();
    const body = singleBookingBody(session.id, 2500, { totalAmountPence: 2000 });
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(422);
    expect(first.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 2500, givenPence: 2000 } });

    // Nothing was written, so nothing is replayed: the same request is refused again, afresh.
    const again = await postBooking(body, { idempotencyKey: key });
    expect(again.status).toBe(422);
    expect(again.headers.get("Idempotent-Replayed")).toBeNull();
    expect(again.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 2500, givenPence: 2000 } });
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await idempotencyRecordsIn(session.id)).toEqual([]);

    // The client fixes the amount and retries under the same key: it books (the key was never used for a write).
    const corrected = await postBooking({ ...body, totalAmountPence: 2500 }, { idempotencyKey: key });
    expect(corrected.status, JSON.stringify(corrected.json)).toBe(201);
    expect(corrected.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await availability(session.id)).toMatchObject({ booked: 1 });
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: corrected.json.booking.id, seats: 1, status: "confirmed" }]);
  });

  it("keeps the key and its response for at least 24 hours", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const key = newKey();
    const body = singleBookingBody(session.id, 1000);
    const before = Date.now();
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(201);
    const [record] = await idempotencyRecordsIn(session.id);
    expect(record).toMatchObject({ key });
    expect(record!.created_at).toBeGreaterThanOrEqual(before);
    expect(IDEMPOTENCY_RETENTION_MS).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(JSON.parse(record!.outcome)).toMatchObject({ ok: true });

    // A day and an hour later (the alarm's purge included), the repeat still gets the first answer.
    await ageKeyRecords(session.id, 25 * 3600_000);
    await runDurableObjectAlarm(sessionStub(session.id));
    const later = await postBooking(body, { idempotencyKey: key });
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBe("true");
    expect(later.json).toEqual(first.json);
    expect(await availability(session.id)).toMatchObject({ booked: 1 });
  });
});

describe("Idempotency-Key cannot be used to reach someone else's booking", () => {
  it("a key used again after it was purged books anew, never returning the first guest's booking", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const key = `order-${crypto.randomUUID()}`;
    const first = await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key });
    expect(first.status).toBe(201);

    // Past its retention, the alarm purges the record.
    await ageKeyRecords(session.id, IDEMPOTENCY_RETENTION_MS + 60_000);
    await runDurableObjectAlarm(sessionStub(session.id));
    expect(await idempotencyRecordsIn(session.id)).toEqual([]);

    const second = await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key });
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    expect(second.json.booking.id).not.toBe(first.json.booking.id);
    expect(second.json.manageToken).not.toBe(first.json.manageToken);
    expect(JSON.stringify(second.json)).not.toContain(first.json.booking.customer.email);
    expect((await projectionCaughtUp(session.id)).map((line) => line.bookingId).sort()).toEqual([first.json.booking.id, second.json.booking.id].sort());
  });

  it("a record past its retention that the alarm has not purged yet is treated as absent", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const key = `order-${crypto.randomUUID()}`;
    const first = await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key });
    expect(first.status).toBe(201);
    await ageKeyRecords(session.id, IDEMPOTENCY_RETENTION_MS + 60_000);

    const second = await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key });
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    expect(second.json.booking.id).not.toBe(first.json.booking.id);
    expect(await availability(session.id)).toMatchObject({ booked: 2 });
  });

  it("a replayed cancellation does not go to a request without the manage token", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000));
    const key = `cancel-${crypto.randomUUID()}`;
    const path = `/api/v1/bookings/${booked.json.booking.id}/cancel`;
    const withToken = await call("POST", `${path}?token=${booked.json.manageToken}`, { headers: { "Idempotency-Key": key } });
    expect(withToken.status).toBe(200);
    const withoutToken = await call("POST", path, { headers: { "Idempotency-Key": key } });
    // Refused: unauthenticated (the booking is authorised before any key record is consulted) or another request under the key.
    expect([401, 422]).toContain(withoutToken.status);
    expect(["UNAUTHENTICATED", "IDEMPOTENCY_KEY_REUSED"]).toContain(withoutToken.json.error.code);
    expect(withoutToken.headers.get("Idempotent-Replayed")).toBeNull();
    expect(JSON.stringify(withoutToken.json)).not.toContain(booked.json.booking.customer.email);
    expect(JSON.stringify(withoutToken.json)).not.toContain(booked.json.booking.id);
  });

  it("a keyed cancellation replays to its repeat, and the key cannot cancel another booking", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const staff = await tokenFor("staff");
    const a = await postBooking(singleBookingBody(session.id, 1000));
    const b = await postBooking(singleBookingBody(session.id, 1000));
    expect([a.status, b.status]).toEqual([201, 201]);
    const key = `cancel-${crypto.randomUUID()}`;

    const first = await call("POST", `/api/v1/bookings/${a.json.booking.id}/cancel`, { token: staff, headers: { "Idempotency-Key": key } });
    expect(first.status).toBe(200);
    expect(first.json.status).toBe("cancelled");
    const repeat = await call("POST", `/api/v1/bookings/${a.json.booking.id}/cancel`, { token: staff, headers: { "Idempotency-Key": key } });
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get("Idempotent-Replayed")).toBe("true");
    expect(repeat.json).toEqual(first.json);

    // The same key on another booking's cancellation is another request: refused, and B stays booked.
    const other = await call("POST", `/api/v1/bookings/${b.json.booking.id}/cancel`, { token: staff, headers: { "Idempotency-Key": key } });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await availability(session.id)).toMatchObject({ booked: 1 });
    expect(await doLines(session.id)).toEqual(
      [
        { bookingId: a.json.booking.id, seats: 1, status: "cancelled" },
        { bookingId: b.json.booking.id, seats: 1, status: "confirmed" },
      ].sort((x, y) => (x.bookingId < y.bookingId ? -1 : 1)),
    );
  });
});
