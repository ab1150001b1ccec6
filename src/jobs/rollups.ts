/**
 * Metric rollups (DESIGN invariant 7: metrics come from events). A day is rolled up from its
 * events (and the sessions that ran that day); a week is the sum of its seven daily rows, never
 * a second scan of the events. Revenue is the exception: no event carries money received or
 * refunded, so it comes from the payment and refund rows themselves, each stamped with when the
 * money moved (src/db/revenue.ts) — the durable record of those changes, read like events.
 * Each period's rows are replaced in one D1 batch (a transaction):
 * the old rows go and the new ones come in together, so running a period twice gives the same
 * rows and a day that became empty keeps nothing stale.
 *
 * Only days that have ended are rolled up; a week whose days have not all ended sums the ones
 * that have (a backfill of the current week), and the weekly cron redoes it on Monday.
 */
import { z } from "zod";
import { CHECKOUT_CONVERTED, FUNNEL_CHECKOUT } from "../db/funnel";
import { addDays, dayHasEnded, dayRange, daysOfWeek, isCalendarDate, weekStartOf } from "../domain/metric-periods";
import { moneyMoved } from "../db/revenue";
import { dailyMetricRows, type EventAggregate, type MetricRow, type MoneyAggregate, type SessionsRan } from "../domain/metrics";
import type { RollupChunk } from "./rollup-contract";

/** How many rows one INSERT carries (as one JSON parameter, so D1's 100-parameter limit never applies). */
const ROWS_PER_INSERT = 500;

export const RollupChunkBody = z
  .object({
    granularity: z.enum(["daily", "weekly"]),
    periodStart: z.string().refine(isCalendarDate, "not a YYYY-MM-DD date"),
    requestedBy: z.string().max(200),
    days: z.enum(["missing", "recompute"]).optional(),
  })
  .superRefine((chunk, ctx) => {
    // Object refinements run even when a field failed its own check: only a real date has a week.
    if (chunk.granularity !== "weekly" || !isCalendarDate(chunk.periodStart)) return;
    if (weekStartOf(chunk.periodStart) !== chunk.periodStart) {
      ctx.addIssue({ code: "custom", message: "a weekly chunk starts on a Monday", path: ["periodStart"] });
    }
  }) satisfies z.ZodType<RollupChunk>;

export interface RollupResult {
  granularity: "daily" | "weekly";
  periodStart: string;
  /** Events read (daily) or daily rows summed (weekly). */
  inputRows: number;
  rowsWritten: number;
  /** Days rolled up on the way (weekly only). */
  daysRolledUp?: string[];
  /** Set when nothing was done because the period has not ended. */
  skipped?: "period has not ended";
}

/** The requests one REQUEST_SAMPLED stands for: its `data.sampleRate` when that is a number ≥ 1, else 0. */
const SAMPLED_REQUESTS = `(CASE WHEN json_type(e.data, '$.sampleRate') IN ('integer', 'real') AND json_extract(e.data, '$.sampleRate') >= 1
  THEN CAST(round(json_extract(e.data, '$.sampleRate')) AS INTEGER) ELSE 0 END)`;

/**
 * 1 for a WAITLIST_LEFT that ended an open offer (the party left, or staff removed it, while
 * offered), else 0: the entry was sent that offer (OFFER_SENT with the same entry and offer number)
 * and the offer had not been answered or lapsed before. Offers last at most a day or so, so the
 * lookups go back 30 days; WAITLIST_LEFT is rare, so they are few.
 */
const OFFER_ENDED_BY_LEAVING = `(json_extract(e.data, '$.status') = 'removed' AND json_extract(e.data, '$.by') IN ('customer', 'staff')
  AND COALESCE(json_extract(e.data, '$.offerNumber'), 0) >= 1
  AND EXISTS (SELECT 1 FROM events o WHERE o.type = 'OFFER_SENT' AND o.occurred_at <= e.occurred_at AND o.occurred_at >= e.occurred_at - ${30 * 86_400_000}
    AND json_extract(o.data, '$.entryId') = json_extract(e.data, '$.entryId') AND json_extract(o.data, '$.offerNumber') = json_extract(e.data, '$.offerNumber'))
  AND NOT EXISTS (SELECT 1 FROM events x WHERE x.type IN ('OFFER_ACCEPTED', 'OFFER_DECLINED', 'OFFER_EXPIRED') AND x.occurred_at <= e.occurred_at AND x.occurred_at >= e.occurred_at - ${30 * 86_400_000}
    AND json_extract(x.data, '$.entryId') = json_extract(e.data, '$.entryId') AND json_extract(x.data, '$.offerNumber') = json_extract(e.data, '$.offerNumber')))`;

/**
 * One day's events grouped by what the metrics split them by. An event without a class or studio
 * gets them from its session (waitlist offers) or its booking (cancellations), and a studio from
 * its class; the joins run only for events that need them. City is kept for the metrics that have
 * a city scope, code and source only where they mean something, so the groups stay few (detail:
 * a notification's message kind, or the status an attendance mark replaced). Funnel
 * checkouts and their conversions (src/db/funnel.ts), the sampled requests and the offers ended by
 * leaving the line are summed per group.
 */
const DAY_EVENTS = `
SELECT e.type AS type,
       COALESCE(e.class_id, s.class_id, b.class_id) AS classId,
       COALESCE(e.studio_id, c.studio_id) AS studioId,
       CASE WHEN e.type IN ('COURSE_VIEWED', 'CHECKOUT_STARTED', 'BOOKING_CONFIRMED', 'PURCHASE_BLOCKED') THEN e.city_id END AS cityId,
       CASE WHEN e.type IN ('BOOKING_REJECTED', 'PURCHASE_BLOCKED', 'REQUEST_FAILED') THEN e.code END AS code,
       CASE WHEN e.type = 'BOOKING_CONFIRMED' THEN e.source END AS source,
       CASE WHEN e.type IN ('NOTIFICATION_SENT', 'NOTIFICATION_FAILED') THEN CAST(json_extract(e.data, '$.kind') AS TEXT)
            WHEN e.type IN ('ATTENDED', 'NO_SHOW', 'ATTENDANCE_UNDONE') THEN CAST(json_extract(e.data, '$.previousStatus') AS TEXT) END AS detail,
       count(*) AS count,
       COALESCE(sum(e.seats), 0) AS seats,
       COALESCE(sum(e.amount_pence), 0) AS amountPence,
       COALESCE(sum(CASE WHEN ${FUNNEL_CHECKOUT} THEN 1 ELSE 0 END), 0) AS checkouts,
       COALESCE(sum(CASE WHEN ${FUNNEL_CHECKOUT} THEN ${CHECKOUT_CONVERTED} ELSE 0 END), 0) AS converted,
       COALESCE(sum(CASE WHEN e.type = 'REQUEST_SAMPLED' THEN ${SAMPLED_REQUESTS} ELSE 0 END), 0) AS sampledRequests,
       COALESCE(sum(CASE WHEN e.type = 'WAITLIST_LEFT' THEN ${OFFER_ENDED_BY_LEAVING} ELSE 0 END), 0) AS offersWithdrawn
FROM events e
LEFT JOIN class_sessions s ON e.class_id IS NULL AND s.id = e.session_id
LEFT JOIN bookings b ON e.class_id IS NULL AND s.id IS NULL AND b.id = e.booking_id
LEFT JOIN classes c ON e.studio_id IS NULL AND c.id = COALESCE(e.class_id, s.class_id, b.class_id)
WHERE e.occurred_at >= ?1 AND e.occurred_at < ?2
GROUP BY 1, 2, 3, 4, 5, 6, 7`;

/** Sessions that ran in the day (started in it, not cancelled) per class, with their booked seats. */
const DAY_SESSIONS = `
SELECT s.class_id AS classId,
       c.studio_id AS studioId,
       count(*) AS sessions,
       sum(s.capacity) AS capacity,
       sum((SELECT COALESCE(sum(bs.seats), 0) FROM booking_sessions bs WHERE bs.session_id = s.id AND bs.status = 'confirmed')) AS bookedSeats
FROM class_sessions s
JOIN classes c ON c.id = s.class_id
WHERE s.starts_at >= ?1 AND s.starts_at < ?2 AND s.status <> 'cancelled'
GROUP BY s.class_id, c.studio_id`;

/** Money received and refunded in the day, per class, studio and source of the booking it is for. */
const DAY_MONEY = `
WITH money AS (${moneyMoved("?1", "?2")})
SELECT m.classId AS classId, c.studio_id AS studioId, m.source AS source,
       COALESCE(sum(m.receivedPence), 0) AS receivedPence, COALESCE(sum(m.refundedPence), 0) AS refundedPence
FROM money m
LEFT JOIN classes c ON c.id = m.classId
GROUP BY 1, 2, 3`;

const INSERT_ROWS = `
INSERT INTO metrics (granularity, period_start, scope, scope_id, metric, dimension, value, denominator, computed_at)
SELECT ?1, ?2, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
       json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]'), ?3
FROM json_each(?4) AS j`;

/** The weekly rows: sums of the week's daily rows, numerators and denominators alike. */
const SUM_WEEK = `
INSERT INTO metrics (granularity, period_start, scope, scope_id, metric, dimension, value, denominator, computed_at)
SELECT 'weekly', ?1, scope, scope_id, metric, dimension, sum(value), sum(denominator), ?3
FROM metrics
WHERE granularity = 'daily' AND period_start >= ?1 AND period_start < ?2
GROUP BY scope, scope_id, metric, dimension`;

const DELETE_PERIOD = `DELETE FROM metrics WHERE granularity = ?1 AND period_start = ?2`;

/**
 * A day rolled up again re-sums its week, when that week has been rolled up (its `events.total`
 * row exists), in the same transaction: the week never disagrees with its days. Two statements:
 * every weekly row but that marker goes, then the sums come in (the marker is updated in place).
 */
const MARKER_ROW = `scope = 'all' AND scope_id = '' AND metric = 'events.total' AND dimension = ''`;
const CLEAR_ROLLED_WEEK = `DELETE FROM metrics WHERE granularity = 'weekly' AND period_start = ?1 AND NOT (${MARKER_ROW})`;
const RESUM_ROLLED_WEEK = `
INSERT INTO metrics (granularity, period_start, scope, scope_id, metric, dimension, value, denominator, computed_at)
SELECT 'weekly', ?1, scope, scope_id, metric, dimension, sum(value), sum(denominator), ?3
FROM metrics
WHERE granularity = 'daily' AND period_start >= ?1 AND period_start < ?2
  AND EXISTS (SELECT 1 FROM metrics WHERE granularity = 'weekly' AND period_start = ?1 AND ${MARKER_ROW})
GROUP BY scope, scope_id, metric, dimension
ON CONFLICT (granularity, period_start, scope, scope_id, metric, dimension)
DO UPDATE SET value = excluded.value, denominator = excluded.denominator, computed_at = excluded.computed_at`;

/** A rollup that failed for good was alerted on by the dead-letter consumer; its success clears that. */
const RESOLVE_FAILURE_ALERT = `
UPDATE alerts SET status = 'resolved', resolved_at = ?2, resolved_by = 'system', updated_at = ?2
WHERE type = 'ROLLUP_FAILED' AND subject_key = ?1 AND status <> 'resolved'`;

/** The rollup's read queries, for `npm run bench:rollup` to show their query plans. */
export const ROLLUP_QUERIES = { dayEvents: DAY_EVENTS, daySessions: DAY_SESSIONS, dayMoney: DAY_MONEY, sumWeek: SUM_WEEK } as const;

/** The alert subject of a period's rollup (ROLLUP_FAILED alerts). */
export const rollupSubject = (granularity: string, periodStart: string) => `rollup:${granularity}:${periodStart}`;

/**
 * Rolls up one UTC day; replaces the day's rows, and re-sums its week if that was rolled up
 * (unless `resumWeek` is false: the weekly rollup sums once after its days). A day that has not
 * ended is left alone.
 */
export async function rollupDay(d1: D1Database, date: string, nowMs = Date.now(), { resumWeek = true } = {}): Promise<RollupResult> {
  if (!dayHasEnded(date, nowMs)) return { granularity: "daily", periodStart: date, inputRows: 0, rowsWritten: 0, skipped: "period has not ended" };
  const { startMs, endMs } = dayRange(date);
  const [events, sessions, money] = await d1.batch<EventAggregate | SessionsRan | MoneyAggregate>([
    d1.prepare(DAY_EVENTS).bind(startMs, endMs),
    d1.prepare(DAY_SESSIONS).bind(startMs, endMs),
    d1.prepare(DAY_MONEY).bind(startMs, endMs),
  ]);
  const aggregates = (events!.results as EventAggregate[]).map(numeric);
  const moved = (money!.results as MoneyAggregate[]).map((m) => ({ ...m, receivedPence: Number(m.receivedPence), refundedPence: Number(m.refundedPence) }));
  const rows = dailyMetricRows(aggregates, (sessions!.results as SessionsRan[]).map(numericSessions), moved);

  const statements = [d1.prepare(DELETE_PERIOD).bind("daily", date)];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const json = JSON.stringify(rows.slice(i, i + ROWS_PER_INSERT).map(toTuple));
    statements.push(d1.prepare(INSERT_ROWS).bind("daily", date, nowMs, json));
  }
  statements.push(d1.prepare(RESOLVE_FAILURE_ALERT).bind(rollupSubject("daily", date), nowMs));
  if (resumWeek) {
    const monday = weekStartOf(date);
    statements.push(d1.prepare(CLEAR_ROLLED_WEEK).bind(monday), d1.prepare(RESUM_ROLLED_WEEK).bind(monday, addDays(monday, 7), nowMs));
  }
  await d1.batch(statements);
  return { granularity: "daily", periodStart: date, inputRows: aggregates.reduce((sum, group) => sum + group.count, 0), rowsWritten: rows.length };
}

/**
 * Rolls up the ISO week starting on `monday` from its daily rows, rolling up first the days it
 * needs: all ended days ("recompute"), or only those never rolled up ("missing").
 */
export async function rollupWeek(d1: D1Database, monday: string, days: "missing" | "recompute" = "missing", nowMs = Date.now()): Promise<RollupResult> {
  const ended = daysOfWeek(monday).filter((day) => dayHasEnded(day, nowMs));
  if (ended.length === 0) return { granularity: "weekly", periodStart: monday, inputRows: 0, rowsWritten: 0, skipped: "period has not ended" };
  const toRollUp = days === "recompute" ? ended : await daysNeverRolledUp(d1, ended);
  for (const day of toRollUp) await rollupDay(d1, day, nowMs, { resumWeek: false });

  const nextMonday = addDays(monday, 7);
  const [, inserted] = await d1.batch([
    d1.prepare(DELETE_PERIOD).bind("weekly", monday),
    d1.prepare(SUM_WEEK).bind(monday, nextMonday, nowMs),
    d1.prepare(RESOLVE_FAILURE_ALERT).bind(rollupSubject("weekly", monday), nowMs),
  ]);
  const summed = await d1
    .prepare(`SELECT count(*) AS n FROM metrics WHERE granularity = 'daily' AND period_start >= ?1 AND period_start < ?2`)
    .bind(monday, nextMonday)
    .first<{ n: number }>();
  return { granularity: "weekly", periodStart: monday, inputRows: summed?.n ?? 0, rowsWritten: inserted!.meta.changes, daysRolledUp: toRollUp };
}

/** Runs one queue chunk. */
export function runRollupChunk(d1: D1Database, chunk: RollupChunk, nowMs = Date.now()): Promise<RollupResult> {
  return chunk.granularity === "daily" ? rollupDay(d1, chunk.periodStart, nowMs) : rollupWeek(d1, chunk.periodStart, chunk.days ?? "missing", nowMs);
}

/** Days among `days` without their `events.total` row, which every daily rollup writes. */
async function daysNeverRolledUp(d1: D1Database, days: string[]): Promise<string[]> {
  const { results } = await d1
    .prepare(
      `SELECT period_start AS day FROM metrics
       WHERE granularity = 'daily' AND scope = 'all' AND scope_id = '' AND metric = 'events.total' AND dimension = ''
         AND period_start IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(days))
    .all<{ day: string }>();
  const done = new Set(results.map((row) => row.day));
  return days.filter((day) => !done.has(day));
}

const toTuple = (row: MetricRow) => [row.scope, row.scopeId, row.metric, row.dimension, row.value, row.denominator];

/** SQLite sums come back as numbers, but be strict: the domain adds them up. */
function numeric(group: EventAggregate): EventAggregate {
  return {
    ...group,
    count: Number(group.count),
    seats: Number(group.seats),
    amountPence: Number(group.amountPence),
    checkouts: Number(group.checkouts),
    converted: Number(group.converted),
    sampledRequests: Number(group.sampledRequests),
    offersWithdrawn: Number(group.offersWithdrawn),
  };
}

function numericSessions(ran: SessionsRan): SessionsRan {
  return { ...ran, sessions: Number(ran.sessions), capacity: Number(ran.capacity), bookedSeats: Number(ran.bookedSeats) };
}
