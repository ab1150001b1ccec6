/**
 * Idempotency-Key on POST /api/v1/bookings (DESIGN invariant 4), end to end through the real
 * booking flow: a replay returns the first response and books nothing more, a reused key with
 * another body is refused, concurrent requests with one key book once, and keys are per caller.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, d1BookedSeats, d1Lines, doLedger, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, tokenFor } from "./helpers";

const newKey = () => `key-${crypto.randomUUID()}`;

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
    expect(await d1BookedSeats(session.id)).toBe(2);
    expect(await doLedger(session.id)).toEqual([{ bookingId: first.json.booking.id, seats: 2, status: "confirmed" }]);
  });

  it("refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED) and books nothing for it", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1200 });
    const key = newKey();
    const body = singleBookingBody(session.id, 1200);
    expect((await postBooking(body, { idempotencyKey: key })).status).toBe(201);

    const other = await postBooking({ ...body, guestCount: 2, totalAmountPence: 2400 }, { idempotencyKey: key });
    expect(other.status).toBe(422);
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
    expect(await doLedger(session.id)).toEqual([{ bookingId, seats: 3, status: "confirmed" }]);
    expect(await d1Lines(session.id)).toEqual(await doLedger(session.id));

    // Once the first has finished, a retry replays it.
    const retry = await postBooking(body, { idempotencyKey: key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.json.booking.id).toBe(bookingId);
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
    expect((await doLedger(session.id)).map((entry) => entry.bookingId).sort()).toEqual([...bookings].sort());
  });

  it("replays a rejected booking (422 AMOUNT_MISMATCH) as the same 422", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 2500 });
    const key = newKey();
    const body = singleBookingBody(session.id, 2500, { totalAmountPence: 2000 });
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(422);
    expect(first.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 2500, givenPence: 2000 } });

    const again = await postBooking(body, { idempotencyKey: key });
    expect(again.status).toBe(422);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await d1BookedSeats(session.id)).toBe(0);
  });

  it("keeps the key and its response for at least 24 hours", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const key = newKey();
    const before = Date.now();
    expect((await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key })).status).toBe(201);
    const row = await env.DB.prepare(`SELECT status, response_status, expires_at FROM idempotency_keys WHERE key = ?`)
      .bind(key)
      .first<{ status: string; response_status: number; expires_at: number }>();
    expect(row).toMatchObject({ status: "completed", response_status: 201 });
    expect(row!.expires_at).toBeGreaterThanOrEqual(before + 24 * 3600_000);
  });
});

describe("Idempotency-Key cannot be used to reach someone else's booking", () => {
  it("a key used again after it was purged books anew, never returning the first guest's booking", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const other = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const key = `order-${crypto.randomUUID()}`;
    const first = await postBooking(singleBookingBody(session.id, 1000), { idempotencyKey: key });
    expect(first.status).toBe(201);
    await env.DB.prepare(`DELETE FROM idempotency_keys WHERE key = ?`).bind(key).run();

    const second = await postBooking(singleBookingBody(other.session.id, 1000), { idempotencyKey: key });
    expect(second.status).toBe(201);
    expect(second.json.booking.id).not.toBe(first.json.booking.id);
    expect(second.json.manageToken).not.toBe(first.json.manageToken);
    expect(await d1Lines(session.id)).toHaveLength(1);
    expect(await d1Lines(other.session.id)).toHaveLength(1);
  });

  it("a replayed cancellation does not go to a request without the manage token", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000));
    const key = `cancel-${crypto.randomUUID()}`;
    const path = `/api/v1/bookings/${booked.json.booking.id}/cancel`;
    const withToken = await call("POST", `${path}?token=${booked.json.manageToken}`, { headers: { "Idempotency-Key": key } });
    expect(withToken.status).toBe(200);
    const withoutToken = await call("POST", path, { headers: { "Idempotency-Key": key } });
    expect(withoutToken.status).toBe(422);
    expect(withoutToken.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(JSON.stringify(withoutToken.json)).not.toContain(booked.json.booking.customer.email);
  });
});
