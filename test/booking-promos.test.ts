/** Promo codes through the booking flow: prices, refused codes, the usage limit under concurrency, and keyed retries (probing: test/promo-probing.test.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makePromo } from "./fixtures";
import { tokenFor } from "./helpers";

/** The code's uses as its PromoRedemptionsDO (the authority) counts them. */
const redemptions = (promoId: string) => env.PROMO_REDEMPTIONS.getByName(promoId).uses(promoId);

describe("promo codes in bookings", () => {
  it("applies a percent promo (case-insensitive) and records the discount", async () => {
    const { session } = await makeBookableSession({ pricePence: 2999 });
    const promo = await makePromo({ kind: "percent", value: 15 });
    // 2 × 2999 = 5998; 15 % = 899.7 → 900 off.
    const response = await postBooking(singleBookingBody(session.id, 2999, { guestCount: 2, promoCode: promo.code.toLowerCase(), totalAmountPence: 5098 }));
    expect(response.status).toBe(201);
    expect(response.json.booking).toMatchObject({ subtotalPence: 5998, discountPence: 900, totalAmountPence: 5098, promoCodeId: promo.id });
    expect(await redemptions(promo.id)).toBe(1);
  });

  it("accepts a total of zero only through a valid 100% promo", async () => {
    const { session } = await makeBookableSession({ pricePence: 1500 });
    const promo = await makePromo({ kind: "percent", value: 100 });
    const free = await postBooking(singleBookingBody(session.id, 1500, { promoCode: promo.code, totalAmountPence: 0 }));
    expect(free.status).toBe(201);
    expect(free.json.booking.totalAmountPence).toBe(0);
    const noPromo = await postBooking(singleBookingBody(session.id, 1500, { totalAmountPence: 0 }));
    expect(noPromo.status).toBe(422);
    expect(noPromo.json.error.code).toBe("INVALID_AMOUNT");
  });

  it("refuses unknown, expired and used-up codes (total or per email) as PROMO_INVALID, giving staff the reason", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const unknown = await postBooking(singleBookingBody(session.id, 1000, { promoCode: "NOSUCHCODE" }));
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.code).toBe("PROMO_INVALID");

    const expired = await makePromo({ validUntil: new Date(Date.now() - 1000) });
    const late = await postBooking(singleBookingBody(session.id, 1000, { promoCode: expired.code, totalAmountPence: 900 }));
    expect(late.status).toBe(422);
    expect(late.json.error.code).toBe("PROMO_INVALID");

    const once = await makePromo({ kind: "fixed", value: 200, maxUses: 1 });
    expect((await postBooking(singleBookingBody(session.id, 1000, { promoCode: once.code, totalAmountPence: 800 }))).status).toBe(201);
    const exhausted = await postBooking(singleBookingBody(session.id, 1000, { promoCode: once.code, totalAmountPence: 800 }));
    expect(exhausted.status).toBe(422);
    expect(exhausted.json.error.code).toBe("PROMO_INVALID");
    expect(exhausted.json.error.details).toBeUndefined();
    const asStaff = await postBooking(singleBookingBody(session.id, 1000, { promoCode: once.code, totalAmountPence: 800 }), { token: await tokenFor("staff") });
    expect(asStaff.json.error).toMatchObject({ code: "PROMO_INVALID", details: { reason: "exhausted", limit: "total" } });

    const perEmail = await makePromo({ kind: "fixed", value: 100, maxUsesPerEmail: 1 });
    const email = uniqueEmail("promo");
    const contact = { email, firstName: "P", lastName: "E" };
    expect((await postBooking(singleBookingBody(session.id, 1000, { contact, promoCode: perEmail.code, totalAmountPence: 900 }))).status).toBe(201);
    const other = await makeBookableSession({ pricePence: 1000 });
    const second = await postBooking(singleBookingBody(other.session.id, 1000, { contact, promoCode: perEmail.code, totalAmountPence: 900 }));
    expect(second.status).toBe(422);
    expect(second.json.error.code).toBe("PROMO_INVALID");
    const secondAsStaff = await postBooking(singleBookingBody(other.session.id, 1000, { contact, promoCode: perEmail.code, totalAmountPence: 900 }), { token: await tokenFor("staff") });
    expect(secondAsStaff.json.error).toMatchObject({ code: "PROMO_INVALID", details: { reason: "exhausted", limit: "per_email" } });
  });

  it("gives the promo use back when the booking fails after redeeming it", async () => {
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 1000 });
    const promo = await makePromo({ kind: "fixed", value: 100, maxUses: 1 });
    expect((await postBooking(singleBookingBody(session.id, 1000))).status).toBe(201);
    const full = await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 900 }));
    expect(full.json.error.code).toBe("SESSION_FULL");
    expect(await redemptions(promo.id)).toBe(0);
  });

  it("never exceeds the usage limit under concurrent bookings", async () => {
    const { session } = await makeBookableSession({ capacity: 100, pricePence: 1000 });
    const promo = await makePromo({ kind: "percent", value: 50, maxUses: 5 });
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 500 }))),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(5);
    expect(responses.filter((response) => response.status !== 201).every((response) => response.json.error.code === "PROMO_INVALID")).toBe(true);
    expect(await redemptions(promo.id)).toBe(5);
    expect((await availability(session.id)).booked).toBe(5);
  });
});

describe("promo codes and retries", () => {
  it("a keyed retry of a promo booking replays it and uses the promo once", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const promo = await makePromo({ kind: "fixed", value: 200, maxUses: 1 });
    const body = singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 800 });
    const key = `promo-${crypto.randomUUID()}`;
    const first = await postBooking(body, { idempotencyKey: key });
    expect(first.status).toBe(201);
    // The answer was lost; the client retries with the same key and body: the first answer, again.
    const again = await postBooking(body, { idempotencyKey: key });
    expect(again.status, JSON.stringify(again.json)).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.booking.id).toBe(first.json.booking.id);
    expect(await redemptions(promo.id)).toBe(1);
    expect((await availability(session.id)).booked).toBe(1);
  });
});
