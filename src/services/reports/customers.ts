/**
 * Customer reports, from the bookings projection: how often customers booked, what each one is
 * worth, and whether those who first booked in a month came back in the months after. A booking is
 * in the range by its confirmation time and counts while still confirmed; money is the net price
 * of its confirmed lines. All read the per-customer covering index in customer order, so grouping
 * by customer needs neither a sort nor a row lookup.
 */
import { BY_CUSTOMER, COUNTED, isoOrNull, LINE_PENCE, monthInRange, type Query, type ReportDefinition, type ReportRange, ratio, rowsOf } from "./report";

/** Buckets of bookings per customer, in order: [label, fewest, most]. */
const FREQUENCY_BUCKETS = [
  ["1", 1, 1],
  ["2", 2, 2],
  ["3-5", 3, 5],
  ["6+", 6, Number.MAX_SAFE_INTEGER],
] as const;

const perCustomer = (range: ReportRange): Query => ({
  sql: `SELECT b.customer_id AS customerId, count(*) AS bookings
        FROM ${BY_CUSTOMER}
        WHERE ${COUNTED} AND b.confirmed_at >= ?1 AND b.confirmed_at < ?2
        GROUP BY b.customer_id`,
  params: [range.startMs, range.endMs],
});

export const bookingFrequency: ReportDefinition = {
  description: "Customers by the number of bookings they made in the range (1, 2, 3-5, 6+)",
  columns: ["bucket", "customers", "bookings", "shareOfCustomers"],
  mainQuery(range) {
    const inner = perCustomer(range);
    const bucket = FREQUENCY_BUCKETS.map(([label, min, max]) => `WHEN bookings BETWEEN ${min} AND ${max} THEN '${label}'`).join(" ");
    return { sql: `SELECT CASE ${bucket} END AS bucket, count(*) AS customers, sum(bookings) AS bookings FROM (${inner.sql}) GROUP BY 1`, params: inner.params };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ bucket: string; customers: number; bookings: number }>(db, this.mainQuery(range, options));
    const total = rows.reduce((sum, row) => sum + row.customers, 0);
    const data = FREQUENCY_BUCKETS.map(([label]) => {
      const row = rows.find((r) => r.bucket === label);
      return { bucket: label, customers: row?.customers ?? 0, bookings: row?.bookings ?? 0, shareOfCustomers: ratio(row?.customers ?? 0, total) };
    });
    return { data, summary: { customers: total } };
  },
};

/** Spend bands of the lifetime-value distribution, in pence: [label, from (inclusive)]. */
const SPEND_BANDS = [
  ["0-49.99", 0],
  ["50-99.99", 5_000],
  ["100-249.99", 10_000],
  ["250-499.99", 25_000],
  ["500+", 50_000],
] as const;

const customerValues = (range: ReportRange) => `
  SELECT b.customer_id AS customerId, count(*) AS bookings, sum(${LINE_PENCE}) AS netSpendPence,
         min(b.confirmed_at) AS firstAt, max(b.confirmed_at) AS lastAt
  FROM ${BY_CUSTOMER}
  WHERE ${COUNTED} AND b.confirmed_at >= ${range.startMs} AND b.confirmed_at < ${range.endMs}
  GROUP BY b.customer_id`;

export const customerLifetimeValue: ReportDefinition = {
  description:
    "Per customer over the range: bookings, net spend (pence: the booked value of their confirmed lines, not money received), first and last booking; the top customers by spend, and the spend distribution in the summary",
  columns: ["rank", "customerId", "email", "firstName", "lastName", "bookings", "netSpendPence", "firstBookingAt", "lastBookingAt"],
  mainQuery(range, options) {
    // The range bounds are numbers we computed, inlined so the CTE can be reused by the distribution.
    return {
      sql: `WITH v AS (${customerValues(range)})
            SELECT v.*, c.email, c.first_name AS firstName, c.last_name AS lastName
            FROM v JOIN customers c ON c.id = v.customerId
            ORDER BY v.netSpendPence DESC, v.bookings DESC, v.customerId LIMIT ?1`,
      params: [options.top],
    };
  },
  async run(db, range, options) {
    const band = SPEND_BANDS.map(([label, from]) => `WHEN netSpendPence >= ${from} THEN '${label}'`)
      .reverse()
      .join(" ");
    const distribution: Query = {
      sql: `WITH v AS (${customerValues(range)}),
            ranked AS (SELECT netSpendPence, row_number() OVER (ORDER BY netSpendPence) AS n, count(*) OVER () AS total FROM v)
            SELECT CASE ${band} END AS band, count(*) AS customers, sum(netSpendPence) AS pence,
                   max(CASE WHEN n = (total + 1) / 2 THEN netSpendPence END) AS median,
                   max(CASE WHEN n = (9 * total + 9) / 10 THEN netSpendPence END) AS p90
            FROM ranked GROUP BY 1`,
      params: [],
    };
    const [top, bands] = await Promise.all([
      rowsOf<{ customerId: string; email: string; firstName: string; lastName: string; bookings: number; netSpendPence: number; firstAt: number; lastAt: number }>(db, this.mainQuery(range, options)),
      rowsOf<{ band: string; customers: number; pence: number; median: number | null; p90: number | null }>(db, distribution),
    ]);
    const customers = bands.reduce((sum, b) => sum + b.customers, 0);
    const pence = bands.reduce((sum, b) => sum + b.pence, 0);
    return {
      data: top.map((row, index) => ({
        rank: index + 1,
        customerId: row.customerId,
        email: row.email,
        firstName: row.firstName,
        lastName: row.lastName,
        bookings: row.bookings,
        netSpendPence: row.netSpendPence,
        firstBookingAt: isoOrNull(row.firstAt),
        lastBookingAt: isoOrNull(row.lastAt),
      })),
      summary: {
        customers,
        netSpendPence: pence,
        meanPence: customers > 0 ? Math.round(pence / customers) : null,
        medianPence: bands.find((b) => b.median !== null)?.median ?? null,
        p90Pence: bands.find((b) => b.p90 !== null)?.p90 ?? null,
        bands: SPEND_BANDS.map(([label, fromPence]) => ({ band: label, fromPence, customers: bands.find((b) => b.band === label)?.customers ?? 0 })),
      },
    };
  },
};

/** Months from one YYYY-MM to another. */
const monthsBetween = (from: string, to: string) => (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
const addMonths = (month: string, n: number) => {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
};

export const retention: ReportDefinition = {
  description:
    "Cohorts by the UTC month of each customer's first booking ever, for first bookings in the range: the cohort's size and how many of it booked again in each following month up to the end of the range",
  columns: ["cohortMonth", "cohortCustomers", "month", "monthsAfter", "customers", "retentionRate"],
  mainQuery(range) {
    // Each customer's first booking ever, kept when it lies in the range (then they booked in the
    // range: that booking); then their bookings up to the end of the range, by the same index.
    return {
      sql: `WITH firsts AS (
              SELECT b.customer_id AS customerId, min(b.confirmed_at) AS firstAt
              FROM ${BY_CUSTOMER}
              WHERE ${COUNTED}
              GROUP BY b.customer_id
              HAVING min(b.confirmed_at) >= ?1 AND min(b.confirmed_at) < ?2
            )
            SELECT ${monthInRange("f.firstAt", range)} AS cohortMonth, ${monthInRange("b.confirmed_at", range)} AS month, count(DISTINCT f.customerId) AS customers
            FROM firsts f JOIN ${BY_CUSTOMER} ON ${COUNTED} AND b.customer_id = f.customerId AND b.confirmed_at < ?2
            GROUP BY 1, 2`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ cohortMonth: string; month: string; customers: number }>(db, this.mainQuery(range, options));
    const lastMonth = range.endDate.slice(0, 7);
    const cohorts = new Map<string, Map<string, number>>();
    for (const row of rows) {
      if (!cohorts.has(row.cohortMonth)) cohorts.set(row.cohortMonth, new Map());
      cohorts.get(row.cohortMonth)!.set(row.month, row.customers);
    }
    const data = [...cohorts.keys()].sort().flatMap((cohortMonth) => {
      const months = cohorts.get(cohortMonth)!;
      // Everyone of the cohort booked in its own month.
      const size = months.get(cohortMonth) ?? 0;
      return Array.from({ length: monthsBetween(cohortMonth, lastMonth) + 1 }, (_, monthsAfter) => {
        const month = addMonths(cohortMonth, monthsAfter);
        const customers = months.get(month) ?? 0;
        return { cohortMonth, cohortCustomers: size, month, monthsAfter, customers, retentionRate: ratio(customers, size) };
      });
    });
    return { data };
  },
};
