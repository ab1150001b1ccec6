/**
 * Promo codes cannot be probed (issue 14, item 8): every code that cannot be used answers the same,
 * AMOUNT_MISMATCH never tells a code's discount, and attempts carrying a code are rate-limited per
 * client address (PROMO_RATE_LIMITER, 10 a minute). Staff see the reasons and are exempt.
 */
import { describe, expect, it } from "vitest";
import { nextClientIp, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makePromo } from "./fixtures";
import { tokenFor } from "./helpers";

const HOUR = 3_600_000;

/** The error as the caller sees it, without the request id (which differs per request). */
function errorOf(response: { json: { error: Record<string, unknown> } }) {
  const { requestId: _id, ...error } = response.json.error;
  return error;
}

/** Four codes that cannot be used: unknown, expired, not valid yet and used up. */
async function unusableCodes(sessionId: string) {
  const expired = await makePromo({ validUntil: new Date(Date.now() - HOUR) });
  const notYet = await makePromo({ validFrom: new Date(Date.now() + HOUR) });
  const usedUp = await makePromo({ kind: "fixed", value: 100, maxUses: 1 });
  const first = await postBooking(singleBookingBody(sessionId, 1000, { promoCode: usedUp.code, totalAmountPence: 900 }));
  expect(first.status).toBe(201);
  return { unknown: `NOSUCH${crypto.randomUUID().slice(0, 8).toUpperCase()}`, expired: expired.code, notYet: notYet.code, usedUp: usedUp.code };
}

describe("unusable promo codes all look the same", () => {
  it("unknown, expired, not-yet-valid and used-up codes give an anonymous caller byte-identical errors", async () => {
    const { session } = await makeBookableSession({ capacity: 20, pricePence: 1000 });
    const codes = await unusableCodes(session.id);
    const answers = [];
    for (const code of Object.values(codes)) {
      const response = await postBooking(singleBookingBody(session.id, 1000, { promoCode: code, totalAmountPence: 900 }));
      expect(response.status, code).toBe(422);
      answers.push(JSON.stringify(errorOf(response)));
    }
    expect(new Set(answers).size).toBe(1);
    expect(JSON.parse(answers[0]!)).toEqual({ code: "PROMO_INVALID", message: "This promo code cannot be used for this booking" });
  });

  it("staff get the same code and message, with the reason in details", async () => {
    const { session } = await makeBookableSession({ capacity: 20, pricePence: 1000 });
    const codes = await unusableCodes(session.id);
    const staff = await tokenFor("staff");
    const reasons: Record<string, string> = {};
    for (const [name, code] of Object.entries(codes)) {
      const response = await postBooking(singleBookingBody(session.id, 1000, { promoCode: code, totalAmountPence: 900 }), { token: staff });
      expect(response.status, name).toBe(422);
      expect(response.json.error).toMatchObject({ code: "PROMO_INVALID", message: "This promo code cannot be used for this booking" });
      reasons[name] = response.json.error.details.reason;
    }
    expect(reasons).toEqual({ unknown: "unknown", expired: "expired", notYet: "not_yet_valid", usedUp: "exhausted" });
  });
});

describe("AMOUNT_MISMATCH with a promo code", () => {
  it("tells an anonymous caller the total is wrong, but not what the discounted total is", async () => {
    const { session } = await makeBookableSession({ capacity: 20, pricePence: 1000 });
    // 37 % off 1000 is 630: the one number a prober wants.
    const promo = await makePromo({ kind: "percent", value: 37 });
    const response = await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 1000 }));
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe("AMOUNT_MISMATCH");
    expect(response.json.error.details).not.toHaveProperty("expectedPence");
    // Everything but the request id (random hex, which may itself contain these digits).
    const said = JSON.stringify({ ...response.json, error: { ...response.json.error, requestId: undefined } });
    expect(said).not.toContain("630");
    expect(said).not.toContain("370");

    // Without a promo the expected total (the public catalog price) is still given, so clients can recover.
    const plain = await postBooking(singleBookingBody(session.id, 1000, { totalAmountPence: 999 }));
    expect(plain.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 1000, givenPence: 999 } });

    // Staff may see it.
    const staff = await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 1000 }), { token: await tokenFor("staff") });
    expect(staff.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 630 } });
  });
});

describe("PROMO_RATE_LIMITER: 10 attempts with a promo code a minute per client address", () => {
  it("answers 429 RATE_LIMITED with scope promo, leaves bookings without a code alone, and exempts staff", async () => {
    const { session } = await makeBookableSession({ capacity: 20, pricePence: 1000 });
    const ip = nextClientIp();
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 15 && !limited; i++) {
      const response = await postBooking(singleBookingBody(session.id, 1000, { promoCode: `GUESS${i}X`, totalAmountPence: 900 }), { ip });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(422));
    expect(statuses).toHaveLength(11);
    expect(limited!.json.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "promo", retryAfterSeconds: 60 } });
    expect(limited!.headers.get("Retry-After")).toBe("60");

    // The same address may still book without a code, and staff with one.
    expect((await postBooking(singleBookingBody(session.id, 1000), { ip })).status).toBe(201);
    const promo = await makePromo({ kind: "fixed", value: 100 });
    const staff = await tokenFor("staff");
    const exempt = await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 900, contact: { email: uniqueEmail(), firstName: "Sam", lastName: "Staff" } }), { ip, token: staff });
    expect(exempt.status).toBe(201);
  });
});
