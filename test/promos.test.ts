import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { promoRedemptions } from "../src/db/schema";
import { ApiError } from "../src/errors";
import { checkPromo, findPromo, promoUses, redeemPromo, releaseRedemption, type PromoCode } from "../src/services/promos";
import { makePromo } from "./fixtures";
import { unique } from "./helpers";

const db = getDb(env.DB);
const bookingId = () => `bkg_${crypto.randomUUID().replaceAll("-", "")}`;
const email = () => `buyer-${unique()}@example.test`;
const HOUR = 3600_000;

/** The ApiError a promise rejects with (fails the test if it resolves or throws something else). */
async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("findPromo", () => {
  it("finds a code whatever the case or surrounding spaces", async () => {
    const promo = await makePromo();
    expect((await findPromo(db, promo.code.toLowerCase()))?.id).toBe(promo.id);
    expect((await findPromo(db, `  ${promo.code} `))?.id).toBe(promo.id);
    expect(await findPromo(db, `NOPE${unique()}`)).toBeUndefined();
    expect(await findPromo(db, "   ")).toBeUndefined();
  });
});

describe("checkPromo", () => {
  const now = new Date("2026-06-01T12:00:00Z");
  const promo = (overrides: Partial<PromoCode>): PromoCode => ({
    id: "prm_x",
    code: "SPRING",
    kind: "percent",
    value: 10,
    validFrom: null,
    validUntil: null,
    maxUses: null,
    maxUsesPerEmail: null,
    active: true,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });

  it("accepts an active code inside its window", () => {
    expect(checkPromo(promo({}), now)).toBeNull();
    expect(checkPromo(promo({ validFrom: new Date(now.getTime() - HOUR), validUntil: new Date(now.getTime() + HOUR) }), now)).toBeNull();
    // The window's ends are inclusive.
    expect(checkPromo(promo({ validFrom: now, validUntil: now }), now)).toBeNull();
  });

  it("calls unknown, inactive and not-yet-valid codes invalid, and past ones expired", () => {
    expect(checkPromo(undefined, now)).toMatchObject({ code: "PROMO_INVALID", status: 422, details: { reason: "unknown" } });
    expect(checkPromo(promo({ active: false }), now)).toMatchObject({ code: "PROMO_INVALID", details: { reason: "inactive" } });
    expect(checkPromo(promo({ validFrom: new Date(now.getTime() + 1) }), now)).toMatchObject({
      code: "PROMO_INVALID",
      details: { reason: "not_yet_valid" },
    });
    expect(checkPromo(promo({ validUntil: new Date(now.getTime() - 1) }), now)).toMatchObject({
      code: "PROMO_EXPIRED",
      status: 422,
      details: { validUntil: "2026-06-01T11:59:59.999Z" },
    });
  });
});

describe("redeemPromo", () => {
  it("records one redemption per booking, and a repeat for the same booking is a success", async () => {
    const promo = await makePromo({ maxUses: 1 });
    const id = bookingId();
    const buyer = email();
    expect(await redeemPromo(db, { promo, bookingId: id, email: buyer, now: new Date() })).toEqual({ replayed: false });
    // Even at the limit, the same booking redeeming again is the same redemption, not a new use.
    expect(await redeemPromo(db, { promo, bookingId: id, email: buyer, now: new Date() })).toEqual({ replayed: true });
    expect(await promoUses(db, promo.id)).toBe(1);
  });

  it("refuses beyond the total limit, saying so", async () => {
    const promo = await makePromo({ maxUses: 2 });
    await redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() });
    await redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() });
    const err = await rejection(redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() }));
    expect(err.code).toBe("PROMO_EXHAUSTED");
    expect(err.status).toBe(409);
    expect(err.details).toMatchObject({ code: promo.code, limit: "total", maxUses: 2, uses: 2 });
  });

  it("refuses beyond the per-email limit, matching emails case-insensitively, while others may still use it", async () => {
    const promo = await makePromo({ maxUsesPerEmail: 1, maxUses: 10 });
    const buyer = email();
    await redeemPromo(db, { promo, bookingId: bookingId(), email: buyer, now: new Date() });
    const err = await rejection(redeemPromo(db, { promo, bookingId: bookingId(), email: ` ${buyer.toUpperCase()} `, now: new Date() }));
    expect(err.code).toBe("PROMO_EXHAUSTED");
    expect(err.details).toMatchObject({ limit: "per_email", maxUsesPerEmail: 1, usesByEmail: 1 });
    await expect(redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() })).resolves.toEqual({ replayed: false });
  });

  it("gives a use back when the booking fails", async () => {
    const promo = await makePromo({ maxUses: 1 });
    const first = bookingId();
    await redeemPromo(db, { promo, bookingId: first, email: email(), now: new Date() });
    expect(await releaseRedemption(db, first)).toBe(true);
    expect(await releaseRedemption(db, first)).toBe(false);
    await expect(redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() })).resolves.toEqual({ replayed: false });
  });

  it("refuses a code that stopped being valid after it was checked", async () => {
    const inactive = await makePromo({ active: false });
    expect((await rejection(redeemPromo(db, { promo: inactive, bookingId: bookingId(), email: email(), now: new Date() }))).code).toBe("PROMO_INVALID");
    const expired = await makePromo({ validUntil: new Date(Date.now() - HOUR) });
    expect((await rejection(redeemPromo(db, { promo: expired, bookingId: bookingId(), email: email(), now: new Date() }))).code).toBe("PROMO_EXPIRED");
    expect(await promoUses(db, inactive.id)).toBe(0);
    expect(await promoUses(db, expired.id)).toBe(0);
  });

  it("never exceeds the total limit under 30 parallel redemptions", async () => {
    const promo = await makePromo({ maxUses: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => redeemPromo(db, { promo, bookingId: bookingId(), email: email(), now: new Date() })),
    );
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(fulfilled).toHaveLength(5);
    expect(rejected).toHaveLength(25);
    for (const r of rejected) expect((r.reason as ApiError).code).toBe("PROMO_EXHAUSTED");
    expect(await promoUses(db, promo.id)).toBe(5);
  });

  it("never exceeds the per-email limit under parallel redemptions by one email", async () => {
    const promo = await makePromo({ maxUsesPerEmail: 2 });
    const buyer = email();
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, () => redeemPromo(db, { promo, bookingId: bookingId(), email: buyer, now: new Date() })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(await promoUses(db, promo.id, buyer)).toBe(2);
  });

  it("control: a naive read-count-then-insert does exceed the limit, so the test above can see a race", async () => {
    const promo = await makePromo({ maxUses: 5 });
    async function naiveRedeem() {
      const uses = await promoUses(db, promo.id);
      if (uses >= promo.maxUses!) throw new ApiError("PROMO_EXHAUSTED", "used up");
      await db.insert(promoRedemptions).values({ bookingId: bookingId(), promoCodeId: promo.id, email: email() });
    }
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => naiveRedeem()));
    const succeeded = results.filter((r) => r.status === "fulfilled").length;
    expect(succeeded).toBeGreaterThan(5);
    expect(await promoUses(db, promo.id)).toBeGreaterThan(5);
  });
});
