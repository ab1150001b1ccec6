/**
 * Operational reports from the events table and attendance: the waitlist's joins and offers,
 * cancellations by how long before the start they came, and no-shows. Events are read by type
 * and time (events_type_occurred_idx); an event without its class takes it from its session or
 * booking, as the rollups do.
 */
import { minutesOf, type ReportDefinition, type ReportRow, ratio, rowsOf } from "./report";

const DAY_MS = 86_400_000;

/** How far before the range a join is looked for, to time an offer made in the range. */
export const WAIT_LOOKBACK_DAYS = 90;

const WAITLIST_TYPES = { WAITLIST_JOINED: "joins", OFFER_SENT: "offers", OFFER_ACCEPTED: "accepted", OFFER_DECLINED: "declined", OFFER_EXPIRED: "expired" } as const;
const WAITLIST_TYPE_LIST = Object.keys(WAITLIST_TYPES)
  .map((type) => `'${type}'`)
  .join(", ");

/** An event's class: its own, else its session's. */
const EVENT_CLASS = `COALESCE(e.class_id, s.class_id)`;
const EVENT_SESSION = `LEFT JOIN class_sessions s ON e.class_id IS NULL AND s.id = e.session_id`;

export const waitlist: ReportDefinition = {
  description:
    "Per class: waitlist joins, offers sent, accepted, declined and expired in the range; acceptance rate (accepted / (accepted + declined + expired)); median minutes from joining to the entry's first offer, for first offers made in the range (joins up to 90 days before it)",
  columns: ["classId", "className", "joins", "offers", "accepted", "declined", "expired", "acceptanceRate", "offersTimed", "medianMinutesToOffer"],
  mainQuery(range) {
    return {
      sql: `SELECT ${EVENT_CLASS} AS classId, e.type AS type, count(*) AS count
            FROM events e ${EVENT_SESSION}
            WHERE e.type IN (${WAITLIST_TYPE_LIST}) AND e.occurred_at >= ?1 AND e.occurred_at < ?2
            GROUP BY 1, 2`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    // Each entry's join and first offer (events carry the entry id in data), then the middle wait per class ('*' for all).
    const waits = {
      sql: `WITH entries AS (
              SELECT json_extract(e.data, '$.entryId') AS entryId, max(${EVENT_CLASS}) AS classId,
                     min(CASE WHEN e.type = 'WAITLIST_JOINED' THEN e.occurred_at END) AS joinedAt,
                     min(CASE WHEN e.type = 'OFFER_SENT' THEN e.occurred_at END) AS offeredAt
              FROM events e ${EVENT_SESSION}
              WHERE e.type IN ('WAITLIST_JOINED', 'OFFER_SENT') AND e.occurred_at >= ?3 AND e.occurred_at < ?2
              GROUP BY 1
            ),
            ranked AS (
              SELECT classId, offeredAt - joinedAt AS ms,
                     row_number() OVER (PARTITION BY classId ORDER BY offeredAt - joinedAt) AS n, count(*) OVER (PARTITION BY classId) AS total,
                     row_number() OVER (ORDER BY offeredAt - joinedAt) AS nAll, count(*) OVER () AS totalAll
              FROM entries WHERE entryId IS NOT NULL AND joinedAt IS NOT NULL AND offeredAt >= ?1
            )
            SELECT classId, count(*) AS timed, max(CASE WHEN n = (total + 1) / 2 THEN ms END) AS medianMs FROM ranked GROUP BY classId
            UNION ALL
            SELECT '*', count(*), max(CASE WHEN nAll = (totalAll + 1) / 2 THEN ms END) FROM ranked`,
      params: [range.startMs, range.endMs, range.startMs - WAIT_LOOKBACK_DAYS * DAY_MS],
    };
    const [counts, timed] = await Promise.all([
      rowsOf<{ classId: string | null; type: keyof typeof WAITLIST_TYPES; count: number }>(db, this.mainQuery(range, options)),
      rowsOf<{ classId: string | null; timed: number; medianMs: number | null }>(db, waits),
    ]);
    const byClass = new Map<string | null, Record<(typeof WAITLIST_TYPES)[keyof typeof WAITLIST_TYPES], number>>();
    const blank = () => ({ joins: 0, offers: 0, accepted: 0, declined: 0, expired: 0 });
    const total = blank();
    for (const row of counts) {
      if (!byClass.has(row.classId)) byClass.set(row.classId, blank());
      byClass.get(row.classId)![WAITLIST_TYPES[row.type]] += row.count;
      total[WAITLIST_TYPES[row.type]] += row.count;
    }
    const names = await classNames(db, [...byClass.keys()]);
    const figures = (c: ReturnType<typeof blank>, wait: { timed: number; medianMs: number | null } | undefined) => ({
      ...c,
      acceptanceRate: ratio(c.accepted, c.accepted + c.declined + c.expired),
      offersTimed: wait?.timed ?? 0,
      medianMinutesToOffer: minutesOf(wait?.medianMs ?? null),
    });
    const data = [...byClass.entries()]
      .sort(([a], [b]) => String(a).localeCompare(String(b)))
      .map(([classId, c]) => ({ classId, className: names.get(classId ?? "") ?? null, ...figures(c, timed.find((t) => t.classId === classId && t.classId !== "*")) }));
    return { data, summary: figures(total, timed.find((t) => t.classId === "*")) };
  },
};

async function classNames(db: D1Database, ids: (string | null)[]): Promise<Map<string, string>> {
  const wanted = ids.filter((id): id is string => id !== null);
  if (wanted.length === 0) return new Map();
  const rows = await rowsOf<{ id: string; name: string }>(db, { sql: `SELECT id, name FROM classes WHERE id IN (SELECT value FROM json_each(?1))`, params: [JSON.stringify(wanted)] });
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** Lead-time buckets of a cancellation, by ms before the booking's first session starts. */
const LEAD_BUCKET = `CASE WHEN lead IS NULL THEN 'unknownStart' WHEN lead < 0 THEN 'afterStart' WHEN lead < ${DAY_MS} THEN 'under24h'
  WHEN lead <= ${7 * DAY_MS} THEN 'from1To7Days' ELSE 'over7Days' END`;
const LEAD_BUCKETS = ["under24h", "from1To7Days", "over7Days", "afterStart", "unknownStart"] as const;

export const cancellations: ReportDefinition = {
  description:
    "Per class: bookings cancelled in the range (BOOKING_CANCELLED), by lead time before the booking's first session: under 24 hours, 1-7 days, over 7 days, after the start (and unknownStart when the sessions are not known)",
  columns: ["classId", "className", "cancellations", ...LEAD_BUCKETS],
  mainQuery(range) {
    // MATERIALIZED: the lead time is computed once per cancellation, not once per bucket test.
    return {
      sql: `WITH c AS MATERIALIZED (
              SELECT COALESCE(e.class_id, b.class_id) AS classId,
                     (SELECT min(s.starts_at) FROM booking_sessions bs JOIN class_sessions s ON s.id = bs.session_id WHERE bs.booking_id = e.booking_id) - e.occurred_at AS lead
              FROM events e LEFT JOIN bookings b ON b.id = e.booking_id
              WHERE e.type = 'BOOKING_CANCELLED' AND e.occurred_at >= ?1 AND e.occurred_at < ?2
            )
            SELECT c.classId, cl.name AS className, ${LEAD_BUCKET} AS bucket, count(*) AS count
            FROM c LEFT JOIN classes cl ON cl.id = c.classId
            GROUP BY 1, 3`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ classId: string | null; className: string | null; bucket: (typeof LEAD_BUCKETS)[number]; count: number }>(db, this.mainQuery(range, options));
    const blank = () => Object.fromEntries([["cancellations", 0], ...LEAD_BUCKETS.map((b) => [b, 0])]) as Record<"cancellations" | (typeof LEAD_BUCKETS)[number], number>;
    const byClass = new Map<string | null, { classId: string | null; className: string | null; counts: ReturnType<typeof blank> }>();
    const totals = blank();
    for (const row of rows) {
      const line = byClass.get(row.classId) ?? { classId: row.classId, className: row.className, counts: blank() };
      byClass.set(row.classId, line);
      line.counts.cancellations += row.count;
      line.counts[row.bucket] += row.count;
      totals.cancellations += row.count;
      totals[row.bucket] += row.count;
    }
    const data: ReportRow[] = [...byClass.values()]
      .sort((a, b) => b.counts.cancellations - a.counts.cancellations || String(a.classId).localeCompare(String(b.classId)))
      .map(({ counts, ...line }) => ({ ...line, ...counts }));
    return { data, summary: totals };
  },
};

export const noShows: ReportDefinition = {
  description:
    "Per class (with its studio): attendance recorded at sessions that started in the range and were not cancelled (session_attendance): checked in, no-shows and the no-show rate (no-shows / recorded); per studio in the summary",
  columns: ["classId", "className", "studioId", "studioName", "sessions", "recorded", "checkedIn", "noShows", "noShowRate"],
  mainQuery(range) {
    // The sessions first (by start), then their attendance by its key: attendance is never scanned.
    return {
      sql: `WITH ran AS MATERIALIZED (
              SELECT s.id, s.class_id FROM class_sessions s WHERE s.starts_at >= ?1 AND s.starts_at < ?2 AND s.status <> 'cancelled'
            ),
            k AS (
              SELECT r.class_id AS classId, count(DISTINCT r.id) AS sessions, count(*) AS recorded,
                     sum(CASE WHEN a.status = 'checked_in' THEN 1 ELSE 0 END) AS checkedIn, sum(CASE WHEN a.status = 'no_show' THEN 1 ELSE 0 END) AS noShows
              FROM ran r CROSS JOIN session_attendance a ON a.session_id = r.id
              GROUP BY r.class_id
            )
            SELECT k.classId, cl.name AS className, cl.studio_id AS studioId, st.name AS studioName, k.sessions, k.recorded, k.checkedIn, k.noShows
            FROM k LEFT JOIN classes cl ON cl.id = k.classId LEFT JOIN studios st ON st.id = cl.studio_id
            ORDER BY st.name, cl.name, k.classId`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ studioId: string | null; studioName: string | null; recorded: number; checkedIn: number; noShows: number }>(db, this.mainQuery(range, options));
    const studios = new Map<string | null, { studioId: string | null; studioName: string | null; recorded: number; checkedIn: number; noShows: number }>();
    for (const row of rows) {
      const studio = studios.get(row.studioId) ?? { studioId: row.studioId, studioName: row.studioName, recorded: 0, checkedIn: 0, noShows: 0 };
      studio.recorded += row.recorded;
      studio.checkedIn += row.checkedIn;
      studio.noShows += row.noShows;
      studios.set(row.studioId, studio);
    }
    return {
      data: rows.map((row) => ({ ...row, noShowRate: ratio(row.noShows, row.recorded) })),
      summary: { byStudio: [...studios.values()].map((s) => ({ ...s, noShowRate: ratio(s.noShows, s.recorded) })) },
    };
  },
};
