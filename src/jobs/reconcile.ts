/**
 * Reconciliation (DESIGN invariant 2): compares each recent or upcoming session's DO ledger with
 * the D1 projection and keeps one critical LEDGER_DRIFT alert per drifting session, resolved by
 * itself once the two agree again. Outbox entries still undelivered past their deadline are drift
 * too: D1 has been missing an acknowledged booking for that long; so are holds still held well
 * after they expired (the alarm that settles them is not running).
 */
import { and, eq, gte, inArray, lt, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { alerts, bookingSessions, classSessions } from "../db/schema";
import type { Env } from "../env";
import { raiseAlert, resolveAlert } from "../services/alerts";

const WINDOW_BEFORE_MS = 2 * 24 * 3600_000;
const WINDOW_AFTER_MS = 120 * 24 * 3600_000;
const MAX_SESSIONS_PER_RUN = 500;
/** How long after its expiry a hold may still be held before it counts as drift (ALERT_RULES dataDrift). */
export const DEFAULT_HOLD_OVERDUE_MS = 5 * 60_000;

export interface Drift {
  bookingId: string;
  inDurableObject: { seats: number; status: string } | null;
  inD1: { seats: number; status: string } | null;
}

/** Differences between a DO's ledger and D1's lines for one session (pure). */
export function ledgerDrift(
  ledger: { bookingId: string; seats: number; status: string }[],
  lines: { bookingId: string; seats: number; status: string }[],
): Drift[] {
  const inD1 = new Map(lines.map((line) => [line.bookingId, line]));
  const drift: Drift[] = [];
  for (const entry of ledger) {
    const line = inD1.get(entry.bookingId);
    inD1.delete(entry.bookingId);
    if (!line || line.seats !== entry.seats || line.status !== entry.status) {
      drift.push({
        bookingId: entry.bookingId,
        inDurableObject: { seats: entry.seats, status: entry.status },
        inD1: line ? { seats: line.seats, status: line.status } : null,
      });
    }
  }
  for (const line of inD1.values()) drift.push({ bookingId: line.bookingId, inDurableObject: null, inD1: { seats: line.seats, status: line.status } });
  return drift;
}

/**
 * Checks sessions from two days ago to four months ahead (or just `only`, when given); returns
 * which drift.
 */
export async function reconcileLedgers(
  env: Env,
  db: Db,
  now = new Date(),
  only?: string[],
  holdOverdueMs = DEFAULT_HOLD_OVERDUE_MS,
): Promise<{ checked: number; drifting: string[] }> {
  const sessions = await db
    .select({ id: classSessions.id })
    .from(classSessions)
    .where(
      and(
        only ? inArray(classSessions.id, only) : undefined,
        ne(classSessions.status, "cancelled"),
        gte(classSessions.startsAt, new Date(now.getTime() - WINDOW_BEFORE_MS)),
        lt(classSessions.startsAt, new Date(now.getTime() + WINDOW_AFTER_MS)),
      ),
    )
    .limit(MAX_SESSIONS_PER_RUN);
  const drifting: string[] = [];
  for (const { id } of sessions) {
    const stub = env.SESSION.getByName(id);
    const [ledger, staleOutbox, staleHolds, lines] = await Promise.all([
      stub.ledgerEntries(),
      stub.staleOutboxEntries(now.getTime()),
      stub.staleHolds(now.getTime(), holdOverdueMs),
      db.select({ bookingId: bookingSessions.bookingId, seats: bookingSessions.seats, status: bookingSessions.status }).from(bookingSessions).where(eq(bookingSessions.sessionId, id)),
    ]);
    const drift = ledgerDrift(ledger, lines);
    const subjectKey = `session:${id}`;
    if (drift.length > 0 || staleOutbox > 0 || staleHolds > 0) {
      drifting.push(id);
      await raiseAlert(db, {
        type: "LEDGER_DRIFT",
        severity: "critical",
        subjectKey,
        title: `Session ${id}: D1 disagrees with the session's Durable Object`,
        details: { sessionId: id, drift: drift.slice(0, 20), driftCount: drift.length, undeliveredOutboxEntries: staleOutbox, overdueHolds: staleHolds },
        now,
      });
    } else {
      const open = await db.query.alerts.findFirst({
        where: and(eq(alerts.type, "LEDGER_DRIFT"), eq(alerts.subjectKey, subjectKey), ne(alerts.status, "resolved")),
      });
      if (open) await resolveAlert(db, open.id, "system", now);
    }
  }
  return { checked: sessions.length, drifting };
}
