/** The pure waitlist rules: who gets the freed seats, and how long an offer lasts. */
import { describe, expect, it } from "vitest";
import type { SeatLedger } from "../src/domain/seating";
import { choosePartiesToOffer, MIN_OFFER_MS, offerTimes } from "../src/domain/waitlist";

const ledger = (overrides: Partial<SeatLedger> = {}): SeatLedger => ({
  capacity: 10,
  bookedSeats: 7,
  heldSeats: 0,
  cancelled: false,
  startsAt: Date.now() + 86_400_000,
  resources: [],
  ...overrides,
});

const HOUR = 3600_000;

describe("choosePartiesToOffer", () => {
  it("offers in line order, skipping a party that does not fit for later ones that do", () => {
    const line = [
      { id: "a", guestCount: 2 },
      { id: "b", guestCount: 4 },
      { id: "c", guestCount: 1 },
      { id: "d", guestCount: 1 },
    ];
    expect(choosePartiesToOffer(line, ledger()).map((p) => p.id)).toEqual(["a", "c"]);
    expect(choosePartiesToOffer(line, ledger({ heldSeats: 3 }))).toEqual([]);
    expect(choosePartiesToOffer(line, ledger({ bookedSeats: 0 })).map((p) => p.id)).toEqual(["a", "b", "c", "d"]);
  });

  it("respects resources as well as seats", () => {
    const resources = [{ resourceId: "res_wheel", name: "wheel", quantity: 8, perStudent: 2 }];
    // 2 seats booked use 4 of the 8 wheels: 4 left, enough for 2 more students, not 3.
    const line = [
      { id: "trio", guestCount: 3 },
      { id: "pair", guestCount: 2 },
    ];
    expect(choosePartiesToOffer(line, ledger({ bookedSeats: 2, resources })).map((p) => p.id)).toEqual(["pair"]);
  });
});

describe("offerTimes", () => {
  const now = Date.UTC(2030, 0, 1, 12);
  it("uses the configured window when the session is far away, reminding at three quarters", () => {
    expect(offerTimes(now, now + 10 * 24 * HOUR, 24 * HOUR)).toEqual({ expiresAt: now + 24 * HOUR, remindAt: now + 18 * HOUR });
  });
  it("is at most half the time left when the session is near, and never past the start", () => {
    const times = offerTimes(now, now + 6 * HOUR, 24 * HOUR)!;
    expect(times.expiresAt).toBe(now + 3 * HOUR);
    const close = offerTimes(now, now + 20 * 60_000, 24 * HOUR)!;
    expect(close.expiresAt).toBe(now + MIN_OFFER_MS);
    expect(close.expiresAt).toBeLessThanOrEqual(now + 20 * 60_000);
    expect(close.remindAt).toBeNull();
  });
  it("makes no offer when the session is too near or past", () => {
    expect(offerTimes(now, now + MIN_OFFER_MS, 24 * HOUR)).toBeNull();
    expect(offerTimes(now, now - HOUR, 24 * HOUR)).toBeNull();
  });
});
