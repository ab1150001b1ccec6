/**
 * Revenue is money received, net of refunds, in the period the money moved (DESIGN invariant 5,
 * src/db/revenue.ts); booked value is what the bookings are worth. Bookings are made through the
 * booking API (at-studio class: confirmed at once) and projected to D1; their money is written as
 * the payment layer writes it (payment rows with paid_pence / paid_at, refund rows), since the
 * online and desk flows that write those rows are being built beside this.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { addDays, dayRange, utcDateOf } from "../src/domain/metric-periods";
import { ROLLUP_QUERIES, rollupDay } from "../src/jobs/rollups";
import { REPORTS, reportRange } from "../src/services/reports";
import { postBooking, projectionCaughtUp, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, eventuallyPasses, tokenFor } from "./helpers";
import { metricRows } from "./metrics-helpers";

const PRICE = 2500;
const MINUTE = 60_000;

let seq = 0;
/** A payment row as the payment layer leaves it once the provider said the money arrived. */
async function payment(bookingId: string, provider: "stripe" | "desk", paidAt: number, options: { refundedPence?: number; updatedAt?: number } = {}) {
  const id = `pay_rev${++seq}${crypto.randomUUID().slice(0, 8)}`;
  const refunded = options.refundedPence ?? 0;
  const status = refunded >= PRICE ? "refunded" : refunded > 0 ? "partially_refunded" : "paid";
  await env.DB.prepare(
    // With its booking's class and source, as the payment layer writes them (none for a booking D1 does not know).
    `INSERT INTO payments (id, booking_id, class_id, source, amount_pence, currency, description, status, provider, provider_ref, idempotency_key, expires_at, paid_pence, paid_at, refunded_pence, version, created_at, updated_at)
     VALUES (?1, ?2, (SELECT class_id FROM bookings WHERE id = ?2), (SELECT COALESCE(source, 'website') FROM bookings WHERE id = ?2), ?3, 'GBP', 'Revenue test class', ?4, ?5, ?6, ?1, ?7, ?3, ?7, ?8, 1, ?9, ?10)`,
  )
    .bind(id, bookingId, PRICE, status, provider, provider === "desk" ? null : `cs_${id}`, paidAt, refunded, paidAt - MINUTE, options.updatedAt ?? paidAt)
    .run();
  return id;
}

/** A refund row: reserved at `at`; a settled one got its outcome (updated_at) at `settledAt`. */
async function refund(paymentId: string, amountPence: number, status: "pending" | "succeeded" | "failed", at: number, settledAt = at) {
  await env.DB.prepare(
    `INSERT INTO refunds (id, payment_id, amount_pence, reason, requested_by, status, provider_ref, failure, created_at, updated_at)
     VALUES (?, ?, ?, 'test', 'staff:revenue', ?, NULL, NULL, ?, ?)`,
  )
    .bind(`rfd_rev${++seq}${crypto.randomUUID().slice(0, 8)}`, paymentId, amountPence, status, at, settledAt)
    .run();
  // The payment folds what succeeded into its running total, as src/services/payments/refunds.ts does.
  if (status === "succeeded") {
    await env.DB.prepare(`UPDATE payments SET refunded_pence = refunded_pence + ?2, version = version + 1, updated_at = ?3 WHERE id = ?1`).bind(paymentId, amountPence, settledAt).run();
  }
}

let token: string;
let studioId: string;
let classId: string;
/** The UTC day the bookings were confirmed and paid, and a later day when more went back. */
let day: string;
let later: string;

async function report(name: string, startDate: string, endDate: string) {
  const response = await call("GET", `/api/v1/admin/reports/${name}?startDate=${startDate}&endDate=${endDate}`, { token });
  expect(response.status).toBe(200);
  return response.json as { data: Record<string, unknown>[]; summary?: Record<string, unknown>; columns: string[] };
}

beforeAll(async () => {
  token = await tokenFor("staff");
  const { session, klass } = await makeBookableSession({ pricePence: PRICE, capacity: 20 });
  studioId = klass.studioId;
  classId = klass.id;
  const book = async (source?: "walk_in" | "phone") => {
    const response = await postBooking(singleBookingBody(session.id, PRICE, source ? { source } : {}), source ? { token } : {});
    expect(response.status).toBe(201);
    return response.json.booking.id as string;
  };
  // Website guests: paid online (A), partly refunded (D), refunded in full later (E), refunded in
  // the provider's dashboard later (F); at the studio: paid at the desk (B), not paid yet (C).
  const [a, d, e, f] = [await book(), await book(), await book(), await book()];
  const [b, c] = [await book("walk_in"), await book("phone")];
  await projectionCaughtUp(session.id);
  const confirmed = await env.DB.prepare(`SELECT min(confirmed_at) AS first, max(confirmed_at) AS last, count(*) AS n FROM bookings WHERE class_id = ?`)
    .bind(classId)
    .first<{ first: number; last: number; n: number }>();
  expect(confirmed!.n).toBe(6);
  day = utcDateOf(confirmed!.first);
  // Booking around midnight UTC would split them over two days: the figures below want one.
  expect(utcDateOf(confirmed!.last)).toBe(day);
  later = addDays(day, 3);
  const t = dayRange(day).startMs + 60 * MINUTE;
  const l = dayRange(later).startMs + 9 * 60 * MINUTE;

  const payA = await payment(a, "stripe", t);
  await refund(payA, 700, "pending", t + 5 * MINUTE); // not given back (yet): nothing counts
  await refund(payA, 300, "failed", t + 6 * MINUTE); // refused: nothing went back
  await payment(b, "desk", t + 10 * MINUTE);
  void c; // booked, unpaid: booked value only
  const payD = await payment(d, "stripe", t + 20 * MINUTE);
  await refund(payD, 1000, "succeeded", t + 30 * MINUTE);
  const payE = await payment(e, "stripe", t + 40 * MINUTE);
  await refund(payE, PRICE, "succeeded", dayRange(later).startMs - 2 * 60 * MINUTE, l); // reserved the day before, went back on the later day
  await payment(f, "stripe", t + 50 * MINUTE, { refundedPence: 500, updatedAt: l + 60 * MINUTE }); // no refund row of ours
});

describe("revenue: money received net of refunds, by when it moved; booked value apart", () => {
  it("geography: the day of the bookings has their booked value, what was received and what went back that day", async () => {
    const row = (await report("geography", day, day)).data.find((r) => r.studioId === studioId);
    // Six bookings worth 6 × 2500; five paid (the phone booking is unpaid), 1000 refunded that day.
    expect(row).toMatchObject({ bookings: 6, seats: 6, bookedValuePence: 15_000, receivedPence: 12_500, refundedPence: 1000, revenuePence: 11_500 });
  });

  it("geography: a refund counts in the period it happened, not the booking's or the payment's", async () => {
    const laterRow = (await report("geography", later, later)).data.find((r) => r.studioId === studioId);
    // E's full refund (2500: it succeeded that day, reserved the day before) and the 500 the provider
    // reported for F: nothing was booked or received that day.
    expect(laterRow).toMatchObject({ bookings: 0, seats: 0, bookedValuePence: 0, receivedPence: 0, refundedPence: 3000, revenuePence: -3000 });
    // The days between hold E's refund only while it was pending: nothing went back then.
    const between = (await report("geography", addDays(day, 1), addDays(day, 2))).data.find((r) => r.studioId === studioId);
    expect(between).toBeUndefined();
    const whole = (await report("geography", day, later)).data.find((r) => r.studioId === studioId);
    expect(whole).toMatchObject({ bookings: 6, bookedValuePence: 15_000, receivedPence: 12_500, refundedPence: 4000, revenuePence: 8500 });
  });

  it("revenue-by-source: booked gross and net beside received, refunded and revenue per source", async () => {
    const body = await report("revenue-by-source", day, day);
    const bySource = Object.fromEntries(body.data.map((r) => [r.source, r]));
    expect(bySource.website).toMatchObject({ bookings: 4, cancelled: 0, grossPence: 10_000, netPence: 10_000, seats: 4, receivedPence: 10_000, refundedPence: 1000, revenuePence: 9000 });
    expect(bySource.walk_in).toMatchObject({ bookings: 1, grossPence: 2500, netPence: 2500, receivedPence: 2500, refundedPence: 0, revenuePence: 2500 });
    // Booked at the studio and not paid: booked value, no revenue.
    expect(bySource.phone).toMatchObject({ bookings: 1, grossPence: 2500, netPence: 2500, receivedPence: 0, refundedPence: 0, revenuePence: 0, shareOfRevenue: 0 });
    expect(bySource.website!.shareOfRevenue).toBe(Math.round((9000 / 11_500) * 10_000) / 10_000);
    expect(bySource.website!.shareOfNet).toBe(Math.round((10_000 / 15_000) * 10_000) / 10_000);
    expect(body.summary).toEqual({ bookedNetPence: 15_000, receivedPence: 12_500, refundedPence: 1000, revenuePence: 11_500 });
    expect(body.columns).toEqual(["source", "bookings", "cancelled", "grossPence", "netPence", "seats", "shareOfNet", "receivedPence", "refundedPence", "revenuePence", "shareOfRevenue"]);

    const laterBody = await report("revenue-by-source", later, later);
    expect(laterBody.data.find((r) => r.source === "website")).toMatchObject({ bookings: 0, netPence: 0, receivedPence: 0, refundedPence: 3000, revenuePence: -3000, shareOfRevenue: null });
    expect(laterBody.summary).toEqual({ bookedNetPence: 0, receivedPence: 0, refundedPence: 3000, revenuePence: -3000 });
  });

  it("money for a booking D1 does not have yet counts, under no studio and source unknown", async () => {
    const next = addDays(day, 1);
    const at = dayRange(next).startMs + 12 * 60 * MINUTE;
    // Not in the between-days figures above: those look at this test's studio only.
    await payment(`bkg_notyet${crypto.randomUUID().slice(0, 8)}`, "stripe", at);
    const geo = await report("geography", next, next);
    expect(geo.data.find((r) => r.studioId === null)).toMatchObject({ cityId: null, bookings: 0, bookedValuePence: 0, receivedPence: PRICE, refundedPence: 0, revenuePence: PRICE });
    const bySource = await report("revenue-by-source", next, next);
    expect(bySource.data.at(-1)).toMatchObject({ source: "unknown", bookings: 0, receivedPence: PRICE, revenuePence: PRICE, shareOfRevenue: 1 });
    expect(bySource.summary).toMatchObject({ revenuePence: PRICE });
  });

  it("the daily rollup: revenue from the money that moved each day, booked value from the events, the same when run again", async () => {
    // The bookings' events reach D1 through the events queue.
    await eventuallyPasses(async () => {
      const n = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE type = 'BOOKING_CONFIRMED' AND class_id = ?`).bind(classId).first<{ n: number }>();
      expect(n!.n).toBe(6);
    });
    const after = dayRange(addDays(later, 1)).startMs;
    await rollupDay(env.DB, day, after);
    const value = (rows: Awaited<ReturnType<typeof metricRows>>, metric: string, scope = "all", scopeId = "", dimension = "") =>
      rows.find((r) => r.metric === metric && r.scope === scope && r.scope_id === scopeId && r.dimension === dimension)?.value;
    const first = await metricRows("daily", day);
    for (const [scope, scopeId] of [["all", ""], ["studio", studioId], ["class", classId]]) {
      expect(value(first, "revenue.received_pence", scope, scopeId), scope).toBe(12_500);
      expect(value(first, "revenue.refunded_pence", scope, scopeId), scope).toBe(1000);
      expect(value(first, "revenue.pence", scope, scopeId), scope).toBe(11_500);
      expect(value(first, "bookings.value_pence", scope, scopeId), scope).toBe(15_000);
    }
    expect(value(first, "revenue.pence_by_source", "all", "", "website")).toBe(9000);
    expect(value(first, "revenue.pence_by_source", "all", "", "walk_in")).toBe(2500);
    expect(value(first, "revenue.pence_by_source", "all", "", "phone")).toBeUndefined();
    expect(value(first, "bookings.value_pence_by_source", "all", "", "phone")).toBe(2500);

    // Redelivered, or run again after the later refunds: the day's rows do not move.
    await rollupDay(env.DB, day, after + MINUTE);
    const strip = (rows: typeof first) => rows.map(({ computed_at: _, ...row }) => row);
    expect(strip(await metricRows("daily", day))).toEqual(strip(first));

    await rollupDay(env.DB, later, after);
    const laterRows = await metricRows("daily", later);
    expect(value(laterRows, "revenue.received_pence")).toBe(0);
    expect(value(laterRows, "revenue.refunded_pence")).toBe(3000);
    expect(value(laterRows, "revenue.pence")).toBe(-3000);
    expect(value(laterRows, "revenue.pence", "class", classId)).toBe(-3000);
    expect(value(laterRows, "bookings.value_pence")).toBe(0);
  });

  it("query plans: bookings from their covering index; payments and refunds searched by when the money moved, never scanned", async () => {
    const range = reportRange(day, day);
    const plans: Record<string, string> = {};
    for (const name of ["geography", "revenue-by-source"] as const) {
      const query = REPORTS[name].mainQuery(range, { top: 100, nowMs: Date.now() });
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).bind(...query.params).all<{ detail: string }>();
      plans[name] = results.map((r) => r.detail).join("\n");
    }
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${ROLLUP_QUERIES.dayMoney}`).bind(range.startMs, range.endMs).all<{ detail: string }>();
    plans.rollup = results.map((r) => r.detail).join("\n");
    for (const [name, plan] of Object.entries(plans)) {
      if (name !== "rollup") expect(plan, name).toMatch(/SEARCH b USING COVERING INDEX bookings_confirmed_at_idx/);
      // No booking is looked up (a payment carries its class and source); a refund's payment is a key lookup; a payment's refunds use their index.
      expect(plan, name).not.toMatch(/SEARCH pb /);
      expect(plan, name).toMatch(/SEARCH pay USING INDEX sqlite_autoindex_payments_1 \(id=\?\)/);
      expect(plan, name).toMatch(/SEARCH r USING INDEX refunds_payment_idx \(payment_id=\? AND status=\?\)/);
      // Migration 0011's indexes on when money moved: a period reads its own payments and refunds only.
      // Money received is read from its index alone (it covers class, source and paid_pence).
      expect(plan, name).toMatch(/SEARCH pay USING COVERING INDEX payments_paid_at_idx \(paid_at>\? AND paid_at<\?\)/);
      expect(plan, name).toMatch(/SEARCH pay USING INDEX payments_refunded_idx \(updated_at>\? AND updated_at<\?\)/);
      expect(plan, name).toMatch(/SEARCH r USING COVERING INDEX refunds_settled_idx \(updated_at>\? AND updated_at<\?\)/);
      expect(plan, name).not.toMatch(/^SCAN (pay|r)$/m);
      expect(plan, name).not.toMatch(/^SCAN (b|pb|bookings)\b/m);
    }
  });
});
