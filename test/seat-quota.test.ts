/** SeatQuotaDO on its own: windows are per subject, though many subjects share one object. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SEAT_QUOTA_SHARDS, seatQuotaShardOf } from "../src/durable-objects/seat-quota-contract";

const WINDOW = 60_000;

describe("SeatQuotaDO", () => {
  it("counts each subject on its own in a shared object, a repeated charge id once, and gives a refund back", async () => {
    const quota = env.SEAT_QUOTA.getByName(`quota-test-${crypto.randomUUID()}`);
    const charge = (subject: string, chargeId: string, amount: number) => quota.charge({ subject, chargeId, kind: "seats", amount, limit: 4, windowMs: WINDOW });
    expect(await charge("client:a", "one", 3)).toEqual({ ok: true });
    expect(await charge("client:a", "one", 3)).toEqual({ ok: true, repeated: true });
    expect(await charge("client:a", "two", 2)).toMatchObject({ ok: false, used: 3, limit: 4, retryAfterSeconds: expect.any(Number) });
    // Another subject in the same object has its own window, and waitlist joins are counted apart from seats.
    expect(await charge("client:b", "two", 4)).toEqual({ ok: true });
    expect(await quota.charge({ subject: "client:a", chargeId: "join", kind: "waitlist", amount: 1, limit: 1, windowMs: WINDOW })).toEqual({ ok: true });
    await quota.refund("client:a", "one");
    expect(await charge("client:a", "two", 2)).toEqual({ ok: true });
  });

  it("gives the room back as charges leave the window, charges a charge id anew after it, and drops old charges", async () => {
    const quota = env.SEAT_QUOTA.getByName(`quota-test-${crypto.randomUUID()}`);
    const charge = (chargeId: string, amount: number) => quota.charge({ subject: "email:ann", chargeId, kind: "seats", amount, limit: 2, windowMs: 1_000 });
    expect(await charge("one", 2)).toEqual({ ok: true });
    expect(await charge("two", 1)).toMatchObject({ ok: false, used: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Out of the window: "one" is a new charge now (not a repeat), and the room is back.
    expect(await charge("one", 1)).toEqual({ ok: true });
    expect(await charge("two", 1)).toEqual({ ok: true });
    expect(await charge("three", 1)).toMatchObject({ ok: false, used: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await charge("four", 1)).toEqual({ ok: true });
    const rows = await runInDurableObject(quota, (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM subject_charges").one().n);
    expect(rows).toBe(1);
  });

  it("spreads subjects over every shard, each always to the same one", async () => {
    const perShard = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const shard = seatQuotaShardOf(`client:198.51.${i >> 8}.${i & 255}`);
      perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    }
    expect(perShard.size).toBe(SEAT_QUOTA_SHARDS);
    // Evenly enough: no shard takes twice its share of neighbouring addresses.
    expect(Math.max(...perShard.values())).toBeLessThan((2 * 2000) / SEAT_QUOTA_SHARDS);
    expect(seatQuotaShardOf("email:ann@example.test")).toBe(seatQuotaShardOf("email:ann@example.test"));
  });
});
