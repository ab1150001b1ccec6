/** Nobody can take a session hostage (OWASP API6): per-session seat caps and a per-minute rate limit. */
import { describe, expect, it } from "vitest";
import { availability, nextClientIp, postBooking, postHold, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { tokenFor } from "./helpers";

const holdBody = (sessionId: string, email: string, guestCount: number) => ({
  registrationType: "SINGLE_SESSION",
  sessionId,
  guestCount,
  contact: { email, firstName: "H", lastName: "Older" },
});

describe("per-session seat caps (wrangler vars MAX_SEATS_PER_EMAIL_PER_SESSION = 8, ..._PER_CLIENT_ = 16)", () => {
  it("caps what one email holds and books in a session, and allows one active reservation per email", async () => {
    const { session } = await makeBookableSession({ capacity: 40, pricePence: 1000 });
    const email = uniqueEmail("hoarder");
    const tooMany = await postHold(holdBody(session.id, email, 9));
    expect(tooMany.status).toBe(409);
    expect(tooMany.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "email", limit: 8, requested: 9 } });
    // Anyone may name the email: how much of its allowance it has used is not told.
    expect(tooMany.json.error.details.alreadyHeld).toBeUndefined();

    const first = await postHold(holdBody(session.id, email, 5));
    expect(first.status).toBe(201);
    const second = await postHold(holdBody(session.id, email, 1));
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: {} });
    // Anyone who knows the email could ask: the hold's id (which books it) is not given away.
    expect(JSON.stringify(second.json)).not.toContain(first.json.holdId);
    expect((await availability(session.id)).held).toBe(5);
  });

  it("caps what one client address holds across emails", async () => {
    const { session } = await makeBookableSession({ capacity: 40, pricePence: 1000 });
    const ip = nextClientIp();
    expect((await postHold(holdBody(session.id, uniqueEmail(), 8), { ip })).status).toBe(201);
    expect((await postHold(holdBody(session.id, uniqueEmail(), 8), { ip })).status).toBe(201);
    const third = await postHold(holdBody(session.id, uniqueEmail(), 1), { ip });
    expect(third.status).toBe(409);
    expect(third.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client", limit: 16 } });
  });

  it("exempts staff booking on a customer's behalf", async () => {
    const { session } = await makeBookableSession({ capacity: 40, pricePence: 1000 });
    const staff = await tokenFor("staff");
    const response = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 12 }), { token: staff });
    expect(response.status).toBe(201);
    expect(response.json.booking.guestCount).toBe(12);
  });
});

describe("rate limit (BOOKING_RATE_LIMITER: 30 attempts a minute per client address and per email)", () => {
  it("answers 429 RATE_LIMITED once a client address goes over, and exempts staff", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const ip = nextClientIp();
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 40 && !limited; i++) {
      const response = await postBooking(singleBookingBody(session.id, 1000, { totalAmountPence: 1 }), { ip });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(limited?.json.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "client", retryAfterSeconds: 60 } });
    expect(statuses.filter((status) => status === 422).length).toBeGreaterThanOrEqual(30);

    const staff = await tokenFor("staff");
    const exempt = await postBooking(singleBookingBody(session.id, 1000), { ip, token: staff });
    expect(exempt.status).toBe(201);
  });
});
