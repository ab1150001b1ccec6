/** SeatQuotaDO on its own: windows are per subject, though many subjects share one object. */
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

  it("spreads subjects over every shard, each always to the same one", async () => {
    const names = new Set<string>();
    for (let i = 0; i < 2000; i++) names.add(await seatQuotaShardOf(`client:198.51.${i >> 8}.${i & 255}`));
    expect(names.size).toBe(SEAT_QUOTA_SHARDS);
    expect(await seatQuotaShardOf("email:ann@example.test")).toBe(await seatQuotaShardOf("email:ann@example.test"));
  });
});
