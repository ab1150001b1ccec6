/**
 * Where the money came from (booking source, the closed list; null reads as `website`), and how
 * fast alerts were resolved per alert type.
 */
import { BOOKING_SOURCES } from "../../db/schema";
import { BY_TIME, LINE_PENCE, LINE_SEATS, minutesOf, percentile, type ReportDefinition, ratio, rowsOf } from "./report";

export const revenueBySource: ReportDefinition = {
  description:
    "Per booking source: bookings made in the range (cancelled ones too), how many were cancelled since, gross (the amounts charged) and net revenue (confirmed lines of bookings still confirmed), net seats, share of net revenue",
  columns: ["source", "bookings", "cancelled", "grossPence", "netPence", "seats", "shareOfNet"],
  mainQuery(range) {
    return {
      sql: `SELECT COALESCE(b.source, 'website') AS source, count(*) AS bookings,
                   sum(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
                   sum(b.total_amount_pence) AS grossPence,
                   sum(CASE WHEN b.status = 'confirmed' THEN ${LINE_PENCE} ELSE 0 END) AS netPence,
                   sum(CASE WHEN b.status = 'confirmed' THEN ${LINE_SEATS} ELSE 0 END) AS seats
            FROM ${BY_TIME}
            WHERE b.confirmed_at >= ?1 AND b.confirmed_at < ?2
            GROUP BY 1`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ source: string; bookings: number; cancelled: number; grossPence: number; netPence: number; seats: number }>(db, this.mainQuery(range, options));
    const net = rows.reduce((sum, row) => sum + row.netPence, 0);
    // Every source of the closed list, in its order, then anything older rows hold that is not in it.
    const sources = [...BOOKING_SOURCES, ...rows.map((r) => r.source).filter((s) => !(BOOKING_SOURCES as readonly string[]).includes(s))];
    const data = sources.map((source) => {
      const row = rows.find((r) => r.source === source);
      const figures = { bookings: row?.bookings ?? 0, cancelled: row?.cancelled ?? 0, grossPence: row?.grossPence ?? 0, netPence: row?.netPence ?? 0, seats: row?.seats ?? 0 };
      return { source, ...figures, shareOfNet: ratio(figures.netPence, net) };
    });
    return { data };
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
