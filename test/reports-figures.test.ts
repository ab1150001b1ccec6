/**
 * Every report's figures against a straightforward recount in JS of data generated here (bookings,
 * lines, events, attendance, alerts written straight into D1), over a past range with data on both
 * sides of it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, tokenFor } from "./helpers";
import { DAY, generateReportData, minutes, nearestRank, type ReportData, round4 } from "./reports-helpers";

const START = "2019-02-01";
const END = "2019-10-31";
const fromMs = Date.parse(`${START}T00:00:00Z`);
const toMs = Date.parse(`${END}T00:00:00Z`) + DAY;
const inRange = (ms: number) => ms >= fromMs && ms < toMs;
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);

let data: ReportData;
let token: string;

beforeAll(async () => {
  data = await generateReportData(12, fromMs, toMs);
  token = await tokenFor("staff");
});

async function report(name: string, extra = "") {
  const response = await call("GET", `/api/v1/admin/reports/${name}?startDate=${START}&endDate=${END}${extra}`, { token });
  expect(response.status).toBe(200);
  expect(response.json).toMatchObject({ report: name, startDate: START, endDate: END });
  return response.json as { data: Record<string, unknown>[]; summary?: Record<string, unknown>; columns: string[] };
}

const counted = () => data.bookings.filter((b) => b.status === "confirmed");
const countedInRange = () => counted().filter((b) => inRange(b.confirmedAt));
const netLines = (b: ReportData["bookings"][number]) => b.lines.filter((l) => l.status === "confirmed");
const netPence = (b: ReportData["bookings"][number]) => netLines(b).reduce((s, l) => s + l.pricePence, 0);
const netSeats = (b: ReportData["bookings"][number]) => netLines(b).reduce((s, l) => s + l.seats, 0);
const classOf = (id: string) => data.classes.find((c) => c.id === id)!;
const sessionOf = (id: string) => data.sessions.find((s) => s.id === id)!;
const groupBy = <T>(items: T[], key: (item: T) => string) => {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
};

describe("report figures match a recount", () => {
  it("booking-frequency: customers by bookings in the range", async () => {
    const perCustomer = [...groupBy(countedInRange(), (b) => b.customerId).values()].map((list) => list.length);
    const bucketOf = (n: number) => (n === 1 ? "1" : n === 2 ? "2" : n <= 5 ? "3-5" : "6+");
    const expected = ["1", "2", "3-5", "6+"].map((bucket) => {
      const members = perCustomer.filter((n) => bucketOf(n) === bucket);
      return { bucket, customers: members.length, bookings: members.reduce((s, n) => s + n, 0), shareOfCustomers: round4(members.length, perCustomer.length) };
    });
    expect(expected.reduce((s, e) => s + e.customers, 0)).toBeGreaterThan(5);
    expect((await report("booking-frequency")).data).toEqual(expected);
  });

  it("customer-lifetime-value: the top customers and the spend distribution", async () => {
    const values = [...groupBy(countedInRange(), (b) => b.customerId).entries()].map(([customerId, list]) => ({
      customerId,
      bookings: list.length,
      netSpendPence: list.reduce((s, b) => s + netPence(b), 0),
      firstBookingAt: new Date(Math.min(...list.map((b) => b.confirmedAt))).toISOString(),
      lastBookingAt: new Date(Math.max(...list.map((b) => b.confirmedAt))).toISOString(),
    }));
    values.sort((a, b) => b.netSpendPence - a.netSpendPence || b.bookings - a.bookings || (a.customerId < b.customerId ? -1 : 1));
    const body = await report("customer-lifetime-value", "&top=5");
    expect(body.data).toEqual(
      values.slice(0, 5).map((v, i) => {
        const customer = data.customers.find((c) => c.id === v.customerId)!;
        return { rank: i + 1, ...v, email: customer.email, firstName: customer.firstName, lastName: customer.lastName };
      }),
    );
    const spends = values.map((v) => v.netSpendPence);
    const bands = [0, 5_000, 10_000, 25_000, 50_000];
    expect(body.summary).toMatchObject({
      customers: values.length,
      netSpendPence: spends.reduce((s, n) => s + n, 0),
      medianPence: nearestRank(spends, 0.5),
      p90Pence: nearestRank(spends, 0.9),
    });
    const bandCounts = (body.summary!.bands as { customers: number }[]).map((b) => b.customers);
    expect(bandCounts).toEqual(bands.map((from, i) => spends.filter((s) => s >= from && s < (bands[i + 1] ?? Infinity)).length));
  });

  it("retention: cohorts by the month of the first booking ever, and who booked again in each later month", async () => {
    const firstAt = new Map<string, number>();
    for (const b of counted()) firstAt.set(b.customerId, Math.min(firstAt.get(b.customerId) ?? Infinity, b.confirmedAt));
    const cohorts = groupBy(
      [...firstAt.entries()].filter(([, at]) => inRange(at)).map(([customerId]) => customerId),
      (customerId) => month(firstAt.get(customerId)!),
    );
    const months = Array.from({ length: 9 }, (_, i) => `2019-${String(i + 2).padStart(2, "0")}`);
    const expected = [...cohorts.keys()].sort().flatMap((cohortMonth) => {
      const members = cohorts.get(cohortMonth)!;
      return months
        .filter((m) => m >= cohortMonth)
        .map((m, monthsAfter) => {
          const customers = members.filter((id) => counted().some((b) => b.customerId === id && month(b.confirmedAt) === m && b.confirmedAt < toMs)).length;
          return { cohortMonth, cohortCustomers: members.length, month: m, monthsAfter, customers, retentionRate: round4(customers, members.length) };
        });
    });
    expect(expected.some((row) => row.monthsAfter > 0 && row.customers > 0)).toBe(true);
    expect((await report("retention")).data).toEqual(expected);
  });

  it("popular-courses: bookings, seats and new vs returning customers per class", async () => {
    const expected = [...groupBy(countedInRange(), (b) => b.classId).entries()].map(([classId, list]) => {
      const byCustomer = [...groupBy(list, (b) => b.customerId).entries()];
      const returning = byCustomer.filter(([customerId, own]) => {
        const firstHere = Math.min(...own.map((b) => b.confirmedAt));
        return counted().some((b) => b.customerId === customerId && b.confirmedAt < firstHere);
      }).length;
      const c = classOf(classId);
      return {
        classId,
        className: c.name,
        studioId: c.studioId,
        studioName: c.studioName,
        cityId: c.cityId,
        cityName: c.cityName,
        bookings: list.length,
        seats: list.reduce((s, b) => s + netSeats(b), 0),
        customers: byCustomer.length,
        newCustomers: byCustomer.length - returning,
        returningCustomers: returning,
      };
    });
    const body = await report("popular-courses");
    expect(body.data).toEqual(expect.arrayContaining(expected));
    expect(body.data).toHaveLength(expected.length);
    expect(expected.some((row) => row.newCustomers > 0) && expected.some((row) => row.returningCustomers > 0)).toBe(true);
  });

  // This data has bookings but no payments: booked value is what they are worth, revenue (money
  // received, net of refunds) is nothing. test/revenue.test.ts counts payments and refunds.
  const NO_MONEY = { receivedPence: 0, refundedPence: 0, revenuePence: 0 };

  it("geography: bookings, seats and booked value per city and studio (no money received: no revenue)", async () => {
    const expected = [...groupBy(countedInRange(), (b) => classOf(b.classId).studioId).entries()].map(([studioId, list]) => {
      const c = data.classes.find((k) => k.studioId === studioId)!;
      const booked = { bookings: list.length, seats: list.reduce((s, b) => s + netSeats(b), 0), bookedValuePence: list.reduce((s, b) => s + netPence(b), 0) };
      return { cityId: c.cityId, cityName: c.cityName, studioId, studioName: c.studioName, ...booked, ...NO_MONEY };
    });
    expect(expected.every((row) => row.bookedValuePence > 0)).toBe(true);
    const body = await report("geography");
    expect(body.data).toEqual(expect.arrayContaining(expected));
    expect(body.data).toHaveLength(expected.length);
  });

  it("utilisation: seats booked over capacity of the sessions that ran", async () => {
    const ran = data.sessions.filter((s) => inRange(s.startsAt) && s.status !== "cancelled");
    const expected = [...groupBy(ran, (s) => s.classId).entries()].map(([classId, list]) => {
      const ids = new Set(list.map((s) => s.id));
      const seatsBooked = data.bookings.flatMap((b) => b.lines).filter((l) => ids.has(l.sessionId) && l.status === "confirmed").reduce((s, l) => s + l.seats, 0);
      const capacity = list.reduce((s, x) => s + x.capacity, 0);
      const c = classOf(classId);
      return { classId, className: c.name, studioId: c.studioId, studioName: c.studioName, sessions: list.length, capacity, seatsBooked, utilisation: round4(seatsBooked, capacity) };
    });
    expect((await report("utilisation")).data).toEqual(expected.sort((a, b) => (a.classId < b.classId ? -1 : 1)));
  });

  it("waitlist: joins, offers, outcomes, acceptance rate and the median wait for a first offer", async () => {
    const classOfEvent = (e: ReportData["events"][number]) => e.classId ?? sessionOf(e.sessionId!).classId;
    const kinds = { WAITLIST_JOINED: "joins", OFFER_SENT: "offers", OFFER_ACCEPTED: "accepted", OFFER_DECLINED: "declined", OFFER_EXPIRED: "expired" } as Record<string, string>;
    const waitEvents = data.events.filter((e) => e.type in kinds);
    const entries = [...groupBy(waitEvents.filter((e) => e.occurredAt >= fromMs - 90 * DAY && e.occurredAt < toMs && ["WAITLIST_JOINED", "OFFER_SENT"].includes(e.type)), (e) => String(e.data!.entryId)).values()]
      .map((list) => ({
        classId: classOfEvent(list[0]!),
        joinedAt: Math.min(...list.filter((e) => e.type === "WAITLIST_JOINED").map((e) => e.occurredAt)),
        offeredAt: Math.min(...list.filter((e) => e.type === "OFFER_SENT").map((e) => e.occurredAt)),
      }))
      .filter((e) => Number.isFinite(e.joinedAt) && Number.isFinite(e.offeredAt) && e.offeredAt >= fromMs);
    const figures = (events: typeof waitEvents, waits: typeof entries) => {
      const n = (kind: string) => events.filter((e) => kinds[e.type] === kind).length;
      const answered = n("accepted") + n("declined") + n("expired");
      return {
        joins: n("joins"), offers: n("offers"), accepted: n("accepted"), declined: n("declined"), expired: n("expired"),
        acceptanceRate: round4(n("accepted"), answered),
        offersTimed: waits.length,
        medianMinutesToOffer: minutes(nearestRank(waits.map((w) => w.offeredAt - w.joinedAt), 0.5)),
      };
    };
    const inRangeEvents = waitEvents.filter((e) => inRange(e.occurredAt));
    const expected = [...groupBy(inRangeEvents, classOfEvent).entries()]
      .map(([classId, list]) => ({ classId, className: classOf(classId).name, ...figures(list, entries.filter((e) => e.classId === classId)) }))
      .sort((a, b) => (a.classId < b.classId ? -1 : 1));
    const body = await report("waitlist");
    expect(body.data).toEqual(expected);
    expect(body.summary).toEqual(figures(inRangeEvents, entries));
    expect(entries.length).toBeGreaterThan(3);
  });

  it("cancellations: per class by lead time before the first session", async () => {
    const cancelled = data.events.filter((e) => e.type === "BOOKING_CANCELLED" && inRange(e.occurredAt));
    const bucket = (lead: number) => (lead < 0 ? "afterStart" : lead < DAY ? "under24h" : lead <= 7 * DAY ? "from1To7Days" : "over7Days");
    const rows = cancelled.map((e) => {
      const booking = data.bookings.find((b) => b.id === e.bookingId)!;
      const start = Math.min(...booking.lines.map((l) => sessionOf(l.sessionId).startsAt));
      return { classId: booking.classId, bucket: bucket(start - e.occurredAt) };
    });
    const expected = [...groupBy(rows, (r) => r.classId).entries()].map(([classId, list]) => ({
      classId,
      className: classOf(classId).name,
      cancellations: list.length,
      ...Object.fromEntries(["under24h", "from1To7Days", "over7Days", "afterStart", "unknownStart"].map((b) => [b, list.filter((r) => r.bucket === b).length])),
    }));
    expected.sort((a, b) => b.cancellations - a.cancellations || (a.classId < b.classId ? -1 : 1));
    const body = await report("cancellations");
    expect(body.data).toEqual(expected);
    expect(body.summary).toMatchObject({ cancellations: rows.length, under24h: rows.filter((r) => r.bucket === "under24h").length });
  });

  it("no-shows: attendance recorded per class and studio", async () => {
    const ran = new Set(data.sessions.filter((s) => inRange(s.startsAt) && s.status !== "cancelled").map((s) => s.id));
    const recorded = data.attendance.filter((a) => ran.has(a.sessionId));
    const expected = [...groupBy(recorded, (a) => sessionOf(a.sessionId).classId).entries()].map(([classId, list]) => {
      const c = classOf(classId);
      const noShows = list.filter((a) => a.status === "no_show").length;
      return {
        classId, className: c.name, studioId: c.studioId, studioName: c.studioName,
        sessions: new Set(list.map((a) => a.sessionId)).size, recorded: list.length, checkedIn: list.length - noShows, noShows, noShowRate: round4(noShows, list.length),
      };
    });
    const body = await report("no-shows");
    expect(body.data).toEqual(expect.arrayContaining(expected));
    expect(body.data).toHaveLength(expected.length);
    const studioNoShows = (body.summary!.byStudio as { noShows: number }[]).reduce((s, x) => s + x.noShows, 0);
    expect(studioNoShows).toBe(recorded.filter((a) => a.status === "no_show").length);
  });

  it("revenue-by-source: booked gross and net per source, null read as website; no money received, so no revenue", async () => {
    const made = data.bookings.filter((b) => inRange(b.confirmedAt));
    const net = made.filter((b) => b.status === "confirmed").reduce((s, b) => s + netPence(b), 0);
    const expected = ["website", "phone", "email", "walk_in", "staff", "waitlist"].map((source) => {
      const list = made.filter((b) => (b.source ?? "website") === source);
      const kept = list.filter((b) => b.status === "confirmed");
      const netPenceOf = kept.reduce((s, b) => s + netPence(b), 0);
      return {
        source,
        bookings: list.length,
        cancelled: list.length - kept.length,
        grossPence: list.reduce((s, b) => s + b.totalAmountPence, 0),
        netPence: netPenceOf,
        seats: kept.reduce((s, b) => s + netSeats(b), 0),
        shareOfNet: round4(netPenceOf, net),
        ...NO_MONEY,
        shareOfRevenue: null,
      };
    });
    expect(made.some((b) => b.source === null)).toBe(true);
    const body = await report("revenue-by-source");
    expect(body.data).toEqual(expected);
    expect(body.summary).toEqual({ bookedNetPence: net, ...NO_MONEY });
  });

  it("alert-resolution: raised, resolved, median and p90 minutes per type", async () => {
    const raised = data.alerts.filter((a) => inRange(a.createdAt));
    const expected = [...groupBy(raised, (a) => a.type).entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([type, list]) => {
        const durations = list.filter((a) => a.resolvedAt !== null).map((a) => a.resolvedAt! - a.createdAt);
        return {
          type, raised: list.length, resolved: durations.length, unresolved: list.length - durations.length,
          medianMinutesToResolve: minutes(nearestRank(durations, 0.5)), p90MinutesToResolve: minutes(nearestRank(durations, 0.9)),
        };
      });
    const body = await report("alert-resolution");
    // Other tests may raise alerts of their own types: compare this run's types.
    const types = new Set(data.alerts.map((a) => a.type));
    expect(body.data.filter((row) => types.has(String(row.type)))).toEqual(expected);
  });
});
