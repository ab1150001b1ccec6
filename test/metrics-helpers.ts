/** Helpers for rollup and alert tests: events written straight into D1, metric rows read back. */
import { env } from "cloudflare:workers";
import { domainEvent, type DomainEvent, type EventType } from "../src/domain/events";

/** A small seeded PRNG (mulberry32), so generated event sets are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An event of `type` at `occurredAt` with the given fields. */
export function event(type: EventType, occurredAt: number, fields: Partial<DomainEvent> = {}): DomainEvent {
  return { ...domainEvent(type, fields), occurredAt };
}

/** Writes events into the D1 events table as the events consumer would. */
export async function insertEvents(events: DomainEvent[]): Promise<void> {
  const statement = env.DB.prepare(
    `INSERT INTO events (id, type, occurred_at, session_id, class_id, studio_id, city_id, booking_id, customer_id, email, client_key, code, seats, amount_pence, source, data)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let i = 0; i < events.length; i += 200) {
    await env.DB.batch(
      events.slice(i, i + 200).map((e) =>
        statement.bind(
          e.id,
          e.type,
          e.occurredAt,
          e.sessionId ?? null,
          e.classId ?? null,
          e.studioId ?? null,
          e.cityId ?? null,
          e.bookingId ?? null,
          e.customerId ?? null,
          e.email ?? null,
          e.clientKey ?? null,
          e.code ?? null,
          e.seats ?? null,
          e.amountPence ?? null,
          e.source ?? null,
          e.data === undefined ? null : JSON.stringify(e.data),
        ),
      ),
    );
  }
}

export interface StoredMetric {
  scope: string;
  scope_id: string;
  metric: string;
  dimension: string;
  value: number;
  denominator: number | null;
  computed_at: number;
}

/** Every metric row of one period. */
export async function metricRows(granularity: "daily" | "weekly", periodStart: string): Promise<StoredMetric[]> {
  const { results } = await env.DB.prepare(
    `SELECT scope, scope_id, metric, dimension, value, denominator, computed_at FROM metrics
     WHERE granularity = ? AND period_start = ? ORDER BY scope, scope_id, metric, dimension`,
  )
    .bind(granularity, periodStart)
    .all<StoredMetric>();
  return results;
}

/** Rows keyed `metric|scope|scopeId|dimension` → [value, denominator], for comparisons. */
export function byKey(rows: Pick<StoredMetric, "scope" | "scope_id" | "metric" | "dimension" | "value" | "denominator">[]): Record<string, [number, number | null]> {
  return Object.fromEntries(rows.map((row) => [`${row.metric}|${row.scope}|${row.scope_id}|${row.dimension}`, [row.value, row.denominator]]));
}

/**
 * A Monday in the past, two weeks apart from every other one handed out in this test file (and
 * at a random offset per file): rollups of these weeks never see another test's events.
 */
const fileOffsetWeeks = Math.floor(Math.random() * 300) * 2;
let weeksHandedOut = 0;
export function testMonday(): string {
  const weeks = fileOffsetWeeks + 2 * weeksHandedOut++;
  return new Date(Date.parse("2001-01-01T00:00:00Z") + weeks * 7 * 86_400_000).toISOString().slice(0, 10);
}
