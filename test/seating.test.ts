import { clientKeyOf } from "../src/domain/client-identity";
import { describe, expect, it } from "vitest";
import { availabilityOf, capsFor, refuseClosed, refuseOverLimit, refuseSeats, type SeatLedger } from "../src/domain/seating";

const now = Date.UTC(2026, 10, 22, 12);
const ledger = (overrides: Partial<SeatLedger> = {}): SeatLedger => ({
  capacity: 10,
  bookedSeats: 0,
  heldSeats: 0,
  cancelled: false,
  startsAt: now + 3600_000,
  resources: [],
  ...overrides,
});

describe("availabilityOf", () => {
  it("counts booked and held seats alike and follows the seats from open to full", () => {
    expect(availabilityOf(ledger({ bookedSeats: 6, heldSeats: 3 }))).toMatchObject({ availableSpots: 1, status: "open", isFull: false, booked: 6, held: 3 });
    expect(availabilityOf(ledger({ bookedSeats: 7, heldSeats: 3 }))).toMatchObject({ availableSpots: 0, status: "full", isFull: true });
    expect(availabilityOf(ledger({ cancelled: true }))).toMatchObject({ status: "cancelled" });
  });

  it("never reports negative spots when capacity was lowered below what is taken", () => {
    expect(availabilityOf(ledger({ capacity: 2, bookedSeats: 3 })).availableSpots).toBe(0);
  });

  it("derives each resource's units left from seats × units per student", () => {
    const result = availabilityOf(ledger({ bookedSeats: 2, heldSeats: 1, resources: [{ resourceId: "r", name: "Wheel", quantity: 8, perStudent: 2 }] }));
    expect(result.resources).toEqual([{ resourceId: "r", name: "Wheel", perStudent: 2, quantity: 8, available: 2 }]);
  });
});

describe("refusals", () => {
  it("refuses cancelled and started sessions", () => {
    expect(refuseClosed(ledger({ cancelled: true }), now)?.details).toMatchObject({ reason: "cancelled" });
    expect(refuseClosed(ledger({ startsAt: now }), now)?.details).toMatchObject({ reason: "started" });
    expect(refuseClosed(ledger(), now)).toBeNull();
  });

  it("says SESSION_FULL when nothing is left and INSUFFICIENT_CAPACITY when too little is", () => {
    expect(refuseSeats(ledger({ bookedSeats: 10 }), 1)).toMatchObject({ code: "SESSION_FULL", details: { availableSpots: 0 } });
    expect(refuseSeats(ledger({ bookedSeats: 8 }), 3)).toMatchObject({ code: "INSUFFICIENT_CAPACITY", details: { availableSpots: 2, requested: 3 } });
    expect(refuseSeats(ledger({ bookedSeats: 8 }), 2)).toBeNull();
  });

  it("names the resource that does not fit", () => {
    const wheels = { resourceId: "r", name: "Wheel", quantity: 5, perStudent: 2 };
    expect(refuseSeats(ledger({ bookedSeats: 2, resources: [wheels] }), 1)).toMatchObject({
      code: "RESOURCE_UNAVAILABLE",
      details: { resourceId: "r", needed: 2, available: 1 },
    });
  });

  it("caps seats per email, then per client", () => {
    const limits = { perEmail: 4, perClient: 6, sharePercent: 100 };
    expect(refuseOverLimit({ byEmail: 3, byClient: 3 }, 2, 100, limits)).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "email" } });
    expect(refuseOverLimit({ byEmail: 0, byClient: 5 }, 2, 100, limits)).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client" } });
    expect(refuseOverLimit({ byEmail: 2, byClient: 4 }, 2, 100, limits)).toBeNull();
  });

  it("caps one party at a share of the session's capacity, at least one seat, never above the absolute cap", () => {
    const limits = { perEmail: 8, perClient: 16, sharePercent: 25 };
    expect(capsFor(8, limits)).toEqual({ perEmail: 2, perClient: 2 });
    expect(capsFor(3, limits)).toEqual({ perEmail: 1, perClient: 1 });
    expect(capsFor(100, limits)).toEqual({ perEmail: 8, perClient: 16 });
    expect(refuseOverLimit({ byEmail: 0, byClient: 2 }, 1, 8, limits)).toMatchObject({ details: { scope: "client", limit: 2 } });
    expect(refuseOverLimit({ byEmail: 1, byClient: 1 }, 1, 8, limits)).toBeNull();
  });
});

describe("clientKeyOf", () => {
  it("counts an IPv4 address as itself and an IPv6 client's /64 as one, however it is written", () => {
    expect(clientKeyOf("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKeyOf(undefined)).toBe("unknown");
    expect(clientKeyOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKeyOf("2001:DB8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(clientKeyOf("2001:0db8:0001:0002::")).toBe("2001:db8:1:2::/64");
    expect(clientKeyOf("::ffff:192.0.2.1")).toBe("0:0:0:0::/64");
    expect(clientKeyOf("2001:db8:1:3::1")).not.toBe(clientKeyOf("2001:db8:1:2::1"));
    expect(clientKeyOf("not:an:address:::")).toBe("not:an:address:::");
  });
});
