/**
 * Where the money came from (booking source, the closed list; null reads as `website`), and how
 * fast alerts were resolved per alert type. Money figures: src/db/revenue.ts.
 */
import { BOOKING_SOURCES } from "../../db/schema";
import { moneyMoved } from "../../db/revenue";
import { BY_TIME, LINE_PENCE, LINE_SEATS, minutesOf, percentile, type ReportDefinition, ratio, rowsOf } from "./report";

/** Money whose payment does not name its booking's source (made before payments carried it, or for no booking of ours): it counts, under this source. */
const NO_BOOKING = "unknown";

const FIGURES = ["bookings", "cancelled", "grossPence", "netPence", "seats", "receivedPence", "refundedPence"] as const;
type Figures = Record<(typeof FIGURES)[number], number>;

export const revenueBySource: ReportDefinition = {
  description:
    "Per booking source: booked value of the bookings made in the range — how many (cancelled ones too), how many were cancelled since, grossPence (their totals at booking) and netPence (confirmed lines of bookings still confirmed), net seats, share of netPence — and revenue, by when the money moved: receivedPence (payments received in the range), refundedPence (refunds made in the range), revenuePence (received − refunded) and share of revenue. Money of a booking not in D1 (not confirmed yet, or never: a late payment given back) is under source unknown",
  columns: ["source", "bookings", "cancelled", "grossPence", "netPence", "seats", "shareOfNet", "receivedPence", "refundedPence", "revenuePence", "shareOfRevenue"],
  mainQuery(range) {
    // Booked value from the time index, money from the payments of the range (src/db/revenue.ts):
    // one statement, summed per source. `pb` is the booking a payment belongs to (a key lookup).
    return {
      sql: `WITH money AS (${moneyMoved("?1", "?2")}),
            parts AS (
              SELECT COALESCE(b.source, 'website') AS source, count(*) AS bookings,
                     sum(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
                     sum(b.total_amount_pence) AS grossPence,
                     sum(CASE WHEN b.status = 'confirmed' THEN ${LINE_PENCE} ELSE 0 END) AS netPence,
                     sum(CASE WHEN b.status = 'confirmed' THEN ${LINE_SEATS} ELSE 0 END) AS seats,
                     0 AS receivedPence, 0 AS refundedPence
              FROM ${BY_TIME}
              WHERE b.confirmed_at >= ?1 AND b.confirmed_at < ?2
              GROUP BY 1
              UNION ALL
              SELECT COALESCE(m.source, '${NO_BOOKING}'), 0, 0, 0, 0, 0, sum(m.receivedPence), sum(m.refundedPence)
              FROM money m
              GROUP BY 1
            )
            SELECT source, ${FIGURES.map((f) => `sum(${f}) AS ${f}`).join(", ")} FROM parts GROUP BY source`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ source: string } & Figures>(db, this.mainQuery(range, options));
    const total = (name: keyof Figures) => rows.reduce((sum, row) => sum + Number(row[name]), 0);
    const [net, received, refunded] = [total("netPence"), total("receivedPence"), total("refundedPence")];
    const revenue = received - refunded;
    // Every source of the closed list, in its order, then anything older rows hold that is not in it.
    const sources = [...BOOKING_SOURCES, ...rows.map((r) => r.source).filter((s) => !(BOOKING_SOURCES as readonly string[]).includes(s))];
    const data = sources.map((source) => {
      const row = rows.find((r) => r.source === source);
      const f = Object.fromEntries(FIGURES.map((name) => [name, Number(row?.[name] ?? 0)])) as Figures;
      const revenuePence = f.receivedPence - f.refundedPence;
      return {
        source,
        bookings: f.bookings,
        cancelled: f.cancelled,
        grossPence: f.grossPence,
        netPence: f.netPence,
        seats: f.seats,
        shareOfNet: ratio(f.netPence, net),
        receivedPence: f.receivedPence,
        refundedPence: f.refundedPence,
        revenuePence,
        shareOfRevenue: ratio(revenuePence, revenue),
      };
    });
    return { data, summary: { bookedNetPence: net, receivedPence: received, refundedPence: refunded, revenuePence: revenue } };
  },
};

export const alertResolution: ReportDefinition = {
  description:
    "Per alert type, for alerts raised in the range: how many, how many were resolved and are still open, and minutes from raised to resolved (median and 90th percentile, nearest rank)",
  columns: ["type", "raised", "resolved", "unresolved", "medianMinutesToResolve", "p90MinutesToResolve"],
  mainQuery(range) {
    // Alerts are few (one per type and subject while unresolved): the durations are ranked here.
    return {
      sql: `SELECT type, CASE WHEN status = 'resolved' AND resolved_at IS NOT NULL THEN resolved_at - created_at END AS ms
            FROM alerts WHERE created_at >= ?1 AND created_at < ?2`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ type: string; ms: number | null }>(db, this.mainQuery(range, options));
    const byType = new Map<string, { raised: number; durations: number[] }>();
    for (const row of rows) {
      const entry = byType.get(row.type) ?? { raised: 0, durations: [] };
      entry.raised += 1;
      if (row.ms !== null) entry.durations.push(row.ms);
      byType.set(row.type, entry);
    }
    const data = [...byType.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, { raised, durations }]) => {
        const sorted = durations.sort((a, b) => a - b);
        return {
          type,
          raised,
          resolved: sorted.length,
          unresolved: raised - sorted.length,
          medianMinutesToResolve: minutesOf(percentile(sorted, 0.5)),
          p90MinutesToResolve: minutesOf(percentile(sorted, 0.9)),
        };
      });
    return { data };
  },
};
