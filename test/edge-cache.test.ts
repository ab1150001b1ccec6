/**
 * The Worker's short-lived memory (src/services/edge-cache.ts): entries expire and are bounded;
 * with FULL_SESSION_CACHE_MS on, a session its object reported full is refused without asking the
 * object (shown by freeing a seat behind the Worker's back), the refusal still leaves its trace,
 * and a cancellation through the Worker forgets it. The suite runs with the caches off
 * (vitest.config.ts), so these tests turn them on for their own calls.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { ApiError } from "../src/errors";
import { type Caller, createBooking } from "../src/services/bookings";
import { cancelBooking } from "../src/services/cancellations";
import { forgetCatalog, fullSessions, ShortLived } from "../src/services/edge-cache";
import { availability, sessionStub, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { eventuallyPasses } from "./helpers";

describe("ShortLived", () => {
  it("forgets an entry after its time and keeps at most its limit", () => {
    const cache = new ShortLived<number>(2);
    cache.set("a", 1, 1000, 0);
    expect(cache.get("a", 499)).toBe(1);
    // Past half its life: one caller is sent to refresh it, the others still have it until it expires.
    expect(cache.get("a", 500)).toBeUndefined();
    expect(cache.get("a", 501)).toBe(1);
    expect(cache.get("a", 999)).toBe(1);
    expect(cache.get("a", 1000)).toBeUndefined();
    // The refresher's value starts a new life.
    cache.set("a", 2, 1000, 600);
    expect([cache.get("a", 1099), cache.get("a", 1100), cache.get("a", 1101)]).toEqual([2, undefined, 2]);
    cache.set("a", 1, 1000, 0);
    cache.set("b", 2, 1000, 0);
    cache.set("c", 3, 1000, 0);
    expect([cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)]).toEqual([undefined, 2, 3]);
    cache.set("d", 4, 0, 0);
    expect(cache.get("d", 0)).toBeUndefined();
  });
});

describe("a session seen full", () => {
  const cachingEnv = { ...env, FULL_SESSION_CACHE_MS: "1000", CATALOG_CACHE_MS: "1000" };
  const caller = (): Caller => ({ env: cachingEnv, db: getDb(env.DB), principal: undefined, clientKey: `10.9.${Math.floor(Math.random() * 250)}.1`, idempotency: undefined, requestId: crypto.randomUUID() });
  const booking = (sessionId: string) => ({
    selection: { registrationType: "SINGLE_SESSION" as const, sessionId },
    guestCount: 1,
    contact: { email: uniqueEmail("edge"), firstName: "Edge", lastName: "Cache" },
    totalAmountPence: 1000,
    currency: "GBP",
  });

  it("is refused without asking its object for a moment, with the refusal recorded; a cancellation here forgets it", async () => {
    forgetCatalog();
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 1000 });
    const first = await createBooking(caller(), booking(session.id));
    expect(fullSessions.get(session.id)).toBeDefined();

    // A seat freed behind this Worker's back (straight in the object): the Worker still says full,
    // so it did not ask the object. This is the control that the refusal came from the cache.
    await sessionStub(session.id).cancel({ bookingId: first.booking.id });
    expect(await availability(session.id)).toMatchObject({ booked: 0, availableSpots: 1 });
    const refusedCall = caller();
    const refused = await createBooking(refusedCall, booking(session.id)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("SESSION_FULL");
    await eventuallyPasses(async () => {
      const row = await env.DB.prepare(`SELECT outcome, error_code FROM booking_attempts WHERE request_id = ?`).bind(refusedCall.requestId).first();
      expect(row).toEqual({ outcome: "rejected", error_code: "SESSION_FULL" });
    });

    // No older than the setting: after it the object is asked again, and takes the freed seat.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await createBooking(caller(), booking(session.id));
    expect(fullSessions.get(session.id)).toBeDefined();
    // A cancellation through this Worker forgets at once.
    expect(second.booking.status).toBe("confirmed");
    await cancelBooking(caller(), second.booking);
    expect(fullSessions.get(session.id)).toBeUndefined();
    const third = await createBooking(caller(), booking(session.id));
    expect(third.booking.status).toBe("confirmed");
  });
});
