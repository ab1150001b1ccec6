/** POST /api/v1/quotes: the server's price and what fits, the same rules as a booking, nothing held. */
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import { availability, nextClientIp, postBooking, singleBookingBody } from "./booking-helpers";
import { makeBookableSession, makeClass, makePromo, makeRole, makeSchedule, makeSession, makeStaff } from "./fixtures";

function postQuote(body: unknown) {
  return call("POST", "/api/v1/quotes", { body, headers: { "CF-Connecting-IP": nextClientIp() } });
}

describe("POST /api/v1/quotes", () => {
  it("prices one session by seats and says what is left, holding nothing", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 4, pricePence: 1800 });
    const response = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 3 });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      registrationType: "SINGLE_SESSION",
      classId: klass.id,
      guestCount: 3,
      unitPence: 1800,
      subtotalPence: 5400,
      discountPence: 0,
      totalPence: 5400,
      currency: "GBP",
      fits: true,
      sessions: [{ sessionId: session.id, availableSpots: 4, status: "open", problem: null, pricePence: 5400 }],
    });
    expect((await availability(session.id)).availableSpots).toBe(4);
  });

  it("reports seats and resources that do not fit as a problem, not a refusal", async () => {
    const { session } = await makeBookableSession({ capacity: 10, resource: { quantity: 4, perStudent: 2 } });
    const tooMany = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 3 });
    expect(tooMany.status).toBe(200);
    expect(tooMany.json.fits).toBe(false);
    expect(tooMany.json.sessions[0].problem).toMatchObject({ code: "RESOURCE_UNAVAILABLE", details: { needed: 6, available: 4 } });
    expect(tooMany.json.sessions[0].resources[0]).toMatchObject({ needed: 6, available: 4 });

    const small = await makeBookableSession({ capacity: 2 });
    const over = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: small.session.id, guestCount: 3 });
    expect(over.json.sessions[0].problem).toMatchObject({ code: "INSUFFICIENT_CAPACITY", details: { availableSpots: 2, requested: 3 } });

    // One party's share of a session (MAX_SEATS_PER_EMAIL_PER_SESSION is 8 here), as the session's object would refuse it.
    const big = await makeBookableSession({ capacity: 20 });
    const party = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: big.session.id, guestCount: 9 });
    expect(party.json.sessions[0].problem).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { limit: 8, requested: 9 } });
    const refused = await postBooking(singleBookingBody(big.session.id, 2500, { guestCount: 9 }));
    expect(refused.json.error.code).toBe("SEAT_LIMIT_EXCEEDED");
  });

  it("says FULL when the last seat went, and the quoted total books", async () => {
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 2000 });
    const quote = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1 });
    const booked = await postBooking(singleBookingBody(session.id, 2000, { totalAmountPence: quote.json.totalPence }));
    expect(booked.status).toBe(201);
    const after = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1 });
    expect(after.json).toMatchObject({ fits: false, sessions: [{ availableSpots: 0, status: "full", problem: { code: "SESSION_FULL" } }] });
  });

  it("prices drop-ins per session and a whole schedule at its own price", async () => {
    const { pattern, sessions } = await makeSchedule({ sessions: 3, pricePence: 2500, fullSchedulePricePence: 6000 });
    const dropIn = await postQuote({ registrationType: "DROP_IN", sessionIds: [sessions[0]!.id, sessions[2]!.id], guestCount: 2 });
    expect(dropIn.status).toBe(200);
    expect(dropIn.json).toMatchObject({ sessionCount: 2, unitPence: 5000, totalPence: 10000 });
    expect(dropIn.json.sessions.map((s: { pricePence: number }) => s.pricePence)).toEqual([5000, 5000]);

    const whole = await postQuote({ registrationType: "FULL_SCHEDULE", patternId: pattern.id, guestCount: 1 });
    expect(whole.json).toMatchObject({ registrationType: "FULL_SCHEDULE", patternId: pattern.id, sessionCount: 3, totalPence: 6000, fits: true });
  });

  it("applies a promo code, and refuses an unknown one with the one promo message", async () => {
    const { session } = await makeBookableSession({ pricePence: 2000 });
    const promo = await makePromo({ kind: "percent", value: 25 });
    const withPromo = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 2, promoCode: promo.code.toLowerCase() });
    expect(withPromo.json).toMatchObject({ subtotalPence: 4000, discountPence: 1000, totalPence: 3000, promoApplied: true });
    const unknown = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, promoCode: "NOPE-NOT-A-CODE" });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.code).toBe("PROMO_INVALID");
  });

  it("refuses what a booking would refuse before seats: no trainer, unknown session, wrong kind, bad input", async () => {
    const role = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id, bookingKinds: ["SINGLE_SESSION"] });
    const unqualified = await makeStaff([]);
    const untaught = await makeSession(klass.id, { instructorId: unqualified.id });
    const noTrainer = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: untaught.id, guestCount: 1 });
    expect(noTrainer.status).toBe(409);
    expect(noTrainer.json.error).toMatchObject({ code: "NO_TRAINER", details: { courseId: klass.id, canRegisterInterest: true } });

    const missing = await postQuote({ registrationType: "SINGLE_SESSION", sessionId: "ses_nope", guestCount: 1 });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("SESSION_NOT_FOUND");

    const wrongKind = await postQuote({ registrationType: "DROP_IN", sessionIds: [untaught.id], guestCount: 1 });
    expect(wrongKind.status).toBe(422);
    expect(wrongKind.json.error.code).toBe("BOOKING_KIND_NOT_ALLOWED");

    const invalid = await postQuote({ registrationType: "SINGLE_SESSION", guestCount: 0 });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe("VALIDATION_FAILED");
  });

  it("is listed in the OpenAPI document", async () => {
    const doc = await call("GET", "/api/v1/openapi.json");
    expect(doc.json.paths["/api/v1/quotes"].post.requestBody).toBeDefined();
    expect(doc.json.components.schemas.Quote).toBeDefined();
  });
});
