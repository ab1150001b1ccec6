import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { promoRedemptions } from "../src/db/schema";
import { ApiError } from "../src/errors";
import { checkPromo, findPromo, promoUses, redeemPromo, releaseRedemption, type PromoCode } from "../src/services/promos";
import { OUTBOX_GRACE_MS, queueOut } from "../src/durable-objects/outbox";
import { writeProjection } from "../src/jobs/projection-consumer";
import { makePromo } from "./fixtures";
import { eventuallyPasses, unique } from "./helpers";

const db = getDb(env.DB);
const bookingId = () => `bkg_${crypto.randomUUID().replaceAll("-", "")}`;
const email = () => `buyer-${unique()}@example.test`;
const HOUR = 3600_000;

/** The code's uses as its PromoRedemptionsDO counts them. */
const objectUses = (promoId: string, buyer?: string) => env.PROMO_REDEMPTIONS.getByName(promoId).uses(promoId, buyer);

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
    expect(await redeemPromo(env, { promo, bookingId: id, email: buyer, now: new Date() })).toEqual({ replayed: false });
    // Even at the limit, the same booking redeeming again is the same redemption, not a new use.
    expect(await redeemPromo(env, { promo, bookingId: id, email: buyer, now: new Date() })).toEqual({ replayed: true });
    expect(await objectUses(promo.id)).toBe(1);
    // D1 hears of it through the projection, once.
    await eventuallyPasses(async () => expect(await promoUses(db, promo.id)).toBe(1));
  });

  it("refuses beyond the total limit, saying so", async () => {
    const promo = await makePromo({ maxUses: 2 });
    await redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() });
    await redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() });
    const err = await rejection(redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() }));
    expect(err.code).toBe("PROMO_EXHAUSTED");
    expect(err.status).toBe(409);
    expect(err.details).toMatchObject({ code: promo.code, limit: "total", maxUses: 2, uses: 2 });
  });

  it("refuses beyond the per-email limit, matching emails case-insensitively, while others may still use it", async () => {
    const promo = await makePromo({ maxUsesPerEmail: 1, maxUses: 10 });
    const buyer = email();
    await redeemPromo(env, { promo, bookingId: bookingId(), email: buyer, now: new Date() });
    const err = await rejection(redeemPromo(env, { promo, bookingId: bookingId(), email: ` ${buyer.toUpperCase()} `, now: new Date() }));
    expect(err.code).toBe("PROMO_EXHAUSTED");
    expect(err.details).toMatchObject({ limit: "per_email", maxUsesPerEmail: 1, usesByEmail: 1 });
    await expect(redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() })).resolves.toEqual({ replayed: false });
  });

  it("gives a use back when the booking fails", async () => {
    const promo = await makePromo({ maxUses: 1 });
    const first = bookingId();
    await redeemPromo(env, { promo, bookingId: first, email: email(), now: new Date() });
    expect(await releaseRedemption(env, promo.id, first)).toBe(true);
    expect(await releaseRedemption(env, promo.id, first)).toBe(false);
    await expect(redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() })).resolves.toEqual({ replayed: false });
  });

  it("refuses a code that stopped being valid after it was checked", async () => {
    const inactive = await makePromo({ active: false });
    expect((await rejection(redeemPromo(env, { promo: inactive, bookingId: bookingId(), email: email(), now: new Date() }))).code).toBe("PROMO_INVALID");
    const expired = await makePromo({ validUntil: new Date(Date.now() - HOUR) });
    expect((await rejection(redeemPromo(env, { promo: expired, bookingId: bookingId(), email: email(), now: new Date() }))).code).toBe("PROMO_EXPIRED");
    expect(await objectUses(inactive.id)).toBe(0);
    expect(await objectUses(expired.id)).toBe(0);
  });

  it("never exceeds the total limit under 30 parallel redemptions", async () => {
    const promo = await makePromo({ maxUses: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() })),
    );
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(fulfilled).toHaveLength(5);
    expect(rejected).toHaveLength(25);
    for (const r of rejected) expect((r.reason as ApiError).code).toBe("PROMO_EXHAUSTED");
    expect(await objectUses(promo.id)).toBe(5);
    await eventuallyPasses(async () => expect(await promoUses(db, promo.id)).toBe(5));
  });

  it("never exceeds the per-email limit under parallel redemptions by one email", async () => {
    const promo = await makePromo({ maxUsesPerEmail: 2 });
    const buyer = email();
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, () => redeemPromo(env, { promo, bookingId: bookingId(), email: buyer, now: new Date() })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(await objectUses(promo.id, buyer)).toBe(2);
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

describe("a code's uses: its object decides, D1 holds the projection", () => {
  const d1Rows = async (promoId: string) =>
    (await env.DB.prepare(`SELECT booking_id AS bookingId, status, version FROM promo_redemptions WHERE promo_code_id = ? ORDER BY booking_id`).bind(promoId).all()).results;

  it("starts from the uses D1 holds from before the object existed (those given back do not count)", async () => {
    const promo = await makePromo({ maxUses: 2 });
    await db.insert(promoRedemptions).values([
      { bookingId: bookingId(), promoCodeId: promo.id, email: email() },
      { bookingId: bookingId(), promoCodeId: promo.id, email: email(), status: "released" },
    ]);
    await redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() });
    const err = await rejection(redeemPromo(env, { promo, bookingId: bookingId(), email: email(), now: new Date() }));
    expect(err.details).toMatchObject({ limit: "total", maxUses: 2, uses: 2 });
  });

  it("projects a use given back as released, and a new use beside it", async () => {
    const promo = await makePromo({ maxUses: 1 });
    const [first, second] = [`bkg_a_${unique()}`, `bkg_b_${unique()}`];
    await redeemPromo(env, { promo, bookingId: first, email: email(), now: new Date() });
    expect(await releaseRedemption(env, promo.id, first)).toBe(true);
    await redeemPromo(env, { promo, bookingId: second, email: email(), now: new Date() });
    await eventuallyPasses(async () =>
      expect(await d1Rows(promo.id)).toEqual([
        { bookingId: first, status: "released", version: 2 },
        { bookingId: second, status: "redeemed", version: 3 },
      ]),
    );
    expect(await promoUses(db, promo.id)).toBe(1);
  });

  it("converges whatever order the changes arrive in, and however often", async () => {
    const promo = await makePromo();
    const id = bookingId();
    const change = (status: "redeemed" | "released", version: number) => ({
      kind: "promo" as const,
      change: { promoCodeId: promo.id, bookingId: id, email: "late@example.test", status, version, redeemedAt: 1_000, at: 2_000 },
    });
    await writeProjection(env.DB, [change("released", 2)]);
    await writeProjection(env.DB, [change("redeemed", 1), change("released", 2)]);
    expect(await d1Rows(promo.id)).toEqual([{ bookingId: id, status: "released", version: 2 }]);
  });

  it("sends with its alarm what the object did not get to send (it was evicted after the commit)", async () => {
    const promo = await makePromo();
    const id = bookingId();
    const stub = env.PROMO_REDEMPTIONS.getByName(promo.id);
    await stub.uses(promo.id);
    // A committed use whose outbox entry was never sent, its send already due.
    await runInDurableObject(stub, async (_instance, state) => {
      const change = { promoCodeId: promo.id, bookingId: id, email: "evicted@example.test", status: "redeemed" as const, version: 1, redeemedAt: Date.now(), at: Date.now() };
      queueOut(state.storage.sql, { kind: "promo", change }, Date.now() - OUTBOX_GRACE_MS);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM outbox`).one().n);
    expect(left).toBe(0);
    await eventuallyPasses(async () => expect(await d1Rows(promo.id)).toEqual([{ bookingId: id, status: "redeemed", version: 1 }]));
  });
});
