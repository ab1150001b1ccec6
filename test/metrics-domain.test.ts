import { describe, expect, it } from "vitest";
import { dailyMetricRows, type EventAggregate, METRIC_NAMES, METRICS, type MetricRow, rateOf } from "../src/domain/metrics";

const group = (type: string, fields: Partial<EventAggregate> = {}): EventAggregate => ({
  type,
  classId: null,
  studioId: null,
  cityId: null,
  code: null,
  source: null,
  count: 1,
  seats: 0,
  amountPence: 0,
  checkouts: 0,
  converted: 0,
  sampledRequests: 0,
  offersWithdrawn: 0,
  ...fields,
});

const find = (rows: MetricRow[], metric: string, scope = "all", scopeId = "", dimension = "") =>
  rows.find((r) => r.metric === metric && r.scope === scope && r.scopeId === scopeId && r.dimension === dimension);

describe("dailyMetricRows", () => {
  it("writes every overall metric as zero on an empty day, rates as 0/0, and nothing else", () => {
    const rows = dailyMetricRows([], []);
    const undimensioned = METRIC_NAMES.filter((name) => !("dimension" in METRICS[name]));
    expect(rows.map((r) => r.metric).sort()).toEqual([...undimensioned].sort());
    for (const row of rows) {
      expect(row).toMatchObject({ scope: "all", scopeId: "", dimension: "", value: 0 });
      expect(row.denominator).toBe(METRICS[row.metric].kind === "rate" ? 0 : null);
    }
  });

  it("counts per scope, keeps money in pence by source and refusals by code, and works out rates per scope", () => {
    const rows = dailyMetricRows(
      [
        // Five CHECKOUT_STARTED, one of them a client's signal: four funnel checkouts, two converted.
        group("CHECKOUT_STARTED", { classId: "c1", studioId: "s1", cityId: "y1", count: 5, checkouts: 4, converted: 2 }),
        group("BOOKING_CONFIRMED", { classId: "c1", studioId: "s1", cityId: "y1", source: "web", count: 2, seats: 3, amountPence: 7500 }),
        group("BOOKING_CONFIRMED", { classId: "c2", studioId: "s1", source: null, count: 1, seats: 1, amountPence: 2500 }),
        group("BOOKING_REJECTED", { classId: "c1", studioId: "s1", code: "SESSION_FULL", count: 5 }),
        group("PURCHASE_BLOCKED", { classId: "c3", studioId: "s2", cityId: "y2", code: "NO_TRAINER", count: 6 }),
        group("NOTIFICATION_SENT", { count: 19 }),
        group("NOTIFICATION_FAILED", { count: 1 }),
        group("REQUEST_FAILED", { code: "INTERNAL_ERROR", count: 2 }),
        group("REQUEST_SAMPLED", { count: 5, sampledRequests: 50 }),
        group("UNHEARD_OF", { count: 2 }),
      ],
      [{ classId: "c1", studioId: "s1", sessions: 2, capacity: 20, bookedSeats: 15 }],
    );
    expect(find(rows, "events.total")?.value).toBe(5 + 2 + 1 + 5 + 6 + 19 + 1 + 2 + 5 + 2);
    expect(find(rows, "funnel.checkouts")?.value).toBe(4);
    expect(find(rows, "bookings.confirmed")?.value).toBe(3);
    // Conversion is counted on the checkouts: the booking of c2 (staff, say) had none and is not in it.
    expect(find(rows, "funnel.checkout_to_booking")).toMatchObject({ value: 2, denominator: 4 });
    expect(find(rows, "funnel.checkout_to_booking", "class", "c1")).toMatchObject({ value: 2, denominator: 4 });
    expect(find(rows, "funnel.checkout_to_booking", "city", "y1")).toMatchObject({ value: 2, denominator: 4 });
    expect(find(rows, "funnel.checkout_to_booking", "class", "c2")).toBeUndefined();
    expect(find(rows, "bookings.confirmed", "class", "c2")?.value).toBe(1);
    // Failures over the requests the sample stands for.
    expect(find(rows, "requests.sampled_estimate")?.value).toBe(50);
    expect(find(rows, "requests.error_rate")).toMatchObject({ value: 2, denominator: 50 });
    // What was booked is booked value; with no money moved that day, revenue is nothing.
    expect(find(rows, "bookings.value_pence", "studio", "s1")?.value).toBe(10_000);
    expect(find(rows, "bookings.value_pence_by_source", "all", "", "web")?.value).toBe(7500);
    expect(find(rows, "bookings.value_pence_by_source", "all", "", "unknown")?.value).toBe(2500);
    expect(find(rows, "revenue.pence")?.value).toBe(0);
    expect(find(rows, "revenue.pence", "studio", "s1")).toBeUndefined();
    expect(find(rows, "bookings.seats", "class", "c1")?.value).toBe(3);
    expect(find(rows, "bookings.rejected_by_code", "class", "c1", "SESSION_FULL")?.value).toBe(5);
    expect(find(rows, "purchases.blocked_by_city", "class", "c3", "y2")?.value).toBe(6);
    expect(find(rows, "purchases.blocked", "city", "y2")?.value).toBe(6);
    expect(find(rows, "notifications.success_rate")).toMatchObject({ value: 19, denominator: 20 });
    expect(find(rows, "capacity.utilisation", "studio", "s1")).toMatchObject({ value: 15, denominator: 20 });
    // Metrics that are overall only have no studio rows, and city scope only exists where it means something.
    expect(find(rows, "notifications.sent", "studio", "s1")).toBeUndefined();
    expect(find(rows, "bookings.value_pence", "city", "y1")).toBeUndefined();
    // No zero rows outside scope "all".
    expect(rows.filter((r) => r.scope !== "all" && r.value === 0 && !r.denominator)).toEqual([]);
  });

  it("counts revenue from the money that moved (received − refunded), per scope and source, apart from booked value", () => {
    const rows = dailyMetricRows(
      [group("BOOKING_CONFIRMED", { classId: "c1", studioId: "s1", source: "website", count: 1, seats: 1, amountPence: 4000 })],
      [],
      [
        { classId: "c1", studioId: "s1", source: "website", receivedPence: 4000, refundedPence: 1500 },
        { classId: "c2", studioId: "s1", source: "phone", receivedPence: 0, refundedPence: 2000 },
        // Money for a booking D1 does not know yet: overall only.
        { classId: null, studioId: null, source: null, receivedPence: 700, refundedPence: 0 },
      ],
    );
    expect(find(rows, "revenue.received_pence")?.value).toBe(4700);
    expect(find(rows, "revenue.refunded_pence")?.value).toBe(3500);
    expect(find(rows, "revenue.pence")?.value).toBe(1200);
    expect(find(rows, "revenue.pence", "studio", "s1")?.value).toBe(500);
    expect(find(rows, "revenue.pence", "class", "c1")?.value).toBe(2500);
    // A class that only refunded that day reads below zero.
    expect(find(rows, "revenue.pence", "class", "c2")?.value).toBe(-2000);
    expect(find(rows, "revenue.refunded_pence", "class", "c2")?.value).toBe(2000);
    expect(find(rows, "revenue.received_pence", "class", "c2")).toBeUndefined();
    expect(find(rows, "revenue.pence_by_source", "all", "", "website")?.value).toBe(2500);
    expect(find(rows, "revenue.pence_by_source", "all", "", "phone")?.value).toBe(-2000);
    expect(find(rows, "revenue.pence_by_source", "all", "", "unknown")?.value).toBe(700);
    expect(find(rows, "bookings.value_pence")?.value).toBe(4000);
  });

  it("turns a rate into a number only when it has a denominator", () => {
    expect(rateOf(1, 4)).toBe(0.25);
    expect(rateOf(0, 0)).toBeNull();
    expect(rateOf(5, null)).toBeNull();
  });
});
