import { describe, expect, it } from "vitest";
import { checkPayment, discountFor, type Quote, quoteBooking, type QuoteInput, splitPence } from "../src/domain/pricing";
import { ERROR_STATUS } from "../src/errors";

const base = { classPricePence: 2500, fullSchedulePricePence: 12000, sessionCount: 6, seats: 1 };

/** The quote, for inputs that must price. */
function quoted(input: QuoteInput): Quote {
  const result = quoteBooking(input);
  if (!result.ok) throw new Error(`expected a quote, got ${result.code}`);
  return result.quote;
}

describe("quoteBooking", () => {
  it("prices a single session as class price × seats", () => {
    expect(quoted({ ...base, registrationType: "SINGLE_SESSION", seats: 3 })).toEqual({
      unitPence: 2500,
      subtotalPence: 7500,
      discountPence: 0,
      totalPence: 7500,
      currency: "GBP",
    });
  });

  it("prices drop-ins as class price × seats × sessions", () => {
    const quote = quoted({ ...base, registrationType: "DROP_IN", sessionCount: 4, seats: 2 });
    expect(quote).toMatchObject({ unitPence: 10000, subtotalPence: 20000, totalPence: 20000 });
  });

  it("prices a full schedule as full-schedule price × seats, whatever the session count", () => {
    const quote = quoted({ ...base, registrationType: "FULL_SCHEDULE", sessionCount: 10, seats: 2 });
    expect(quote).toMatchObject({ unitPence: 12000, subtotalPence: 24000, totalPence: 24000 });
  });

  it("refuses a full schedule when the class has no full-schedule price, as plain data", () => {
    const result = quoteBooking({ ...base, registrationType: "FULL_SCHEDULE", fullSchedulePricePence: null });
    expect(result).toEqual({ ok: false, code: "BOOKING_KIND_NOT_ALLOWED", message: expect.any(String), details: { registrationType: "FULL_SCHEDULE" } });
    expect(result).not.toBeInstanceOf(Error);
    expect(ERROR_STATUS.BOOKING_KIND_NOT_ALLOWED).toBe(422);
  });

  it("applies a percent promo to the subtotal, rounding half a penny up", () => {
    // 3 × 1250 = 3750; 10 % = 375 exactly.
    expect(quoted({ ...base, classPricePence: 1250, registrationType: "SINGLE_SESSION", seats: 3, promo: { kind: "percent", value: 10 } })).toMatchObject({
      subtotalPence: 3750,
      discountPence: 375,
      totalPence: 3375,
    });
    // 15 % of 1010 = 151.5 → 152 (half up), total 858.
    expect(quoted({ ...base, classPricePence: 1010, registrationType: "SINGLE_SESSION", promo: { kind: "percent", value: 15 } })).toMatchObject({
      discountPence: 152,
      totalPence: 858,
    });
    // 15 % of 1009 = 151.35 → 151.
    expect(discountFor(1009, { kind: "percent", value: 15 })).toBe(151);
    // 33 % of 999 = 329.67 → 330.
    expect(discountFor(999, { kind: "percent", value: 33 })).toBe(330);
    // 1 % of 50 = 0.5 → 1; of 49 = 0.49 → 0.
    expect(discountFor(50, { kind: "percent", value: 1 })).toBe(1);
    expect(discountFor(49, { kind: "percent", value: 1 })).toBe(0);
  });

  it("makes a 100 % promo free", () => {
    expect(quoted({ ...base, registrationType: "DROP_IN", sessionCount: 3, promo: { kind: "percent", value: 100 } })).toMatchObject({
      subtotalPence: 7500,
      discountPence: 7500,
      totalPence: 0,
    });
  });

  it("applies a fixed promo once per booking and never below zero", () => {
    expect(quoted({ ...base, registrationType: "SINGLE_SESSION", seats: 2, promo: { kind: "fixed", value: 1000 } })).toMatchObject({
      subtotalPence: 5000,
      discountPence: 1000,
      totalPence: 4000,
    });
    expect(quoted({ ...base, registrationType: "SINGLE_SESSION", promo: { kind: "fixed", value: 999_999 } })).toMatchObject({
      subtotalPence: 2500,
      discountPence: 2500,
      totalPence: 0,
    });
  });

  it("keeps every amount a whole number of pence", () => {
    for (let price = 1; price < 400; price += 7) {
      for (const percent of [1, 7, 25, 33, 50, 99]) {
        const quote = quoted({ ...base, classPricePence: price, registrationType: "SINGLE_SESSION", seats: 3, promo: { kind: "percent", value: percent } });
        expect(Number.isInteger(quote.discountPence)).toBe(true);
        expect(quote.totalPence).toBe(quote.subtotalPence - quote.discountPence);
        expect(quote.totalPence).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it("treats non-integer or non-positive counts as a bug upstream, not a price", () => {
    expect(() => quoted({ ...base, registrationType: "SINGLE_SESSION", seats: 0 })).toThrow(RangeError);
    expect(() => quoted({ ...base, registrationType: "SINGLE_SESSION", seats: 1.5 })).toThrow(RangeError);
    expect(() => quoted({ ...base, registrationType: "DROP_IN", sessionCount: 0 })).toThrow(RangeError);
    expect(() => quoted({ ...base, registrationType: "SINGLE_SESSION", classPricePence: 10.5 })).toThrow(RangeError);
  });
});

describe("checkPayment", () => {
  const quote = (totalPence: number): Quote => ({ unitPence: 2500, subtotalPence: 2500, discountPence: 2500 - totalPence, totalPence, currency: "GBP" });

  it("accepts the exact total in GBP", () => {
    expect(checkPayment({ quote: quote(2500), totalAmountPence: 2500, currency: "GBP", promoApplied: false })).toBeNull();
  });

  it("refuses other currencies, naming the supported ones", () => {
    const problem = checkPayment({ quote: quote(2500), totalAmountPence: 2500, currency: "EUR", promoApplied: false });
    expect(problem).toEqual({ code: "CURRENCY_NOT_SUPPORTED", message: expect.any(String), details: { currency: "EUR", supported: ["GBP"] } });
    expect(ERROR_STATUS.CURRENCY_NOT_SUPPORTED).toBe(422);
    expect(checkPayment({ quote: quote(2500), totalAmountPence: 2500, currency: "gbp", promoApplied: false })?.code).toBe("CURRENCY_NOT_SUPPORTED");
  });

  it("refuses zero, negative and fractional amounts", () => {
    expect(ERROR_STATUS.INVALID_AMOUNT).toBe(422);
    for (const amount of [0, -1, -2500, 12.5, Number.NaN]) {
      const problem = checkPayment({ quote: quote(2500), totalAmountPence: amount, currency: "GBP", promoApplied: false });
      expect(problem?.code, String(amount)).toBe("INVALID_AMOUNT");
    }
  });

  it("accepts a total of 0 only when a valid promo made the booking free", () => {
    expect(checkPayment({ quote: quote(0), totalAmountPence: 0, currency: "GBP", promoApplied: true })).toBeNull();
    expect(checkPayment({ quote: quote(0), totalAmountPence: 0, currency: "GBP", promoApplied: false })?.code).toBe("INVALID_AMOUNT");
    expect(checkPayment({ quote: quote(100), totalAmountPence: 0, currency: "GBP", promoApplied: true })?.code).toBe("INVALID_AMOUNT");
  });

  it("refuses any difference, over or under, with both amounts", () => {
    expect(ERROR_STATUS.AMOUNT_MISMATCH).toBe(422);
    for (const given of [2499, 2501, 250000]) {
      const problem = checkPayment({ quote: quote(2500), totalAmountPence: given, currency: "GBP", promoApplied: false });
      expect(problem).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 2500, givenPence: given } });
    }
    // Paying the undiscounted price when a promo applies is also a mismatch, not silently accepted;
    // it does not tell the discounted total (a code's discount) unless the caller is staff.
    const withPromo = checkPayment({ quote: quote(2000), totalAmountPence: 2500, currency: "GBP", promoApplied: true });
    expect(withPromo).toMatchObject({ code: "AMOUNT_MISMATCH", details: { promoApplied: true } });
    expect(JSON.stringify(withPromo)).not.toMatch(/2000|2500|expectedPence/);
    expect(checkPayment({ quote: quote(2000), totalAmountPence: 2500, currency: "GBP", promoApplied: true, revealPromoPrice: true })).toMatchObject({
      code: "AMOUNT_MISMATCH",
      details: { expectedPence: 2000, givenPence: 2500 },
    });
  });
});

describe("splitPence", () => {
  it("splits a total over lines in whole pence that add up, the first lines taking the remainder", () => {
    expect(splitPence(10000, 3)).toEqual([3334, 3333, 3333]);
    expect(splitPence(2, 3)).toEqual([1, 1, 0]);
    expect(splitPence(0, 2)).toEqual([0, 0]);
    expect(splitPence(2500, 1)).toEqual([2500]);
    for (const [total, parts] of [[99_999, 7], [1, 12], [12_000, 12]] as const) {
      const lines = splitPence(total, parts);
      expect(lines).toHaveLength(parts);
      expect(lines.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...lines) - Math.min(...lines)).toBeLessThanOrEqual(1);
    }
  });

  it("refuses zero parts or a negative or fractional total", () => {
    expect(() => splitPence(100, 0)).toThrow(RangeError);
    expect(() => splitPence(-1, 2)).toThrow(RangeError);
    expect(() => splitPence(10.5, 2)).toThrow(RangeError);
  });
});
