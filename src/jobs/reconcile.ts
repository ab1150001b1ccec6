/**
 * Reconciliation (DESIGN invariant 2): compares each recent or upcoming session's DO ledger with
 * the D1 projection and keeps one critical LEDGER_DRIFT alert per drifting session, resolved by
 * itself once the two agree again. Outbox entries still undelivered past their deadline are drift
 * too: D1 has been missing an acknowledged booking for that long; so are holds still held well
 * after they expired (the alarm that settles them is not running).
 *
 * Every session in the window is checked on every run, in start order, a page at a time and a few
 * at once. A session whose DO cannot be asked is counted and logged, and its alert left as it is;
 * an alert whose session left the window (cancelled, over, deleted) is resolved.
 */
import { and, asc, eq, gt, gte, inArray, lt, ne, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { alerts, bookingSessions, classSessions } from "../db/schema";
import type { Env } from "../env";
import { OUTBOX_DEADLINE_MS } from "../domain/projection";
import { raiseAlert, resolveAlert } from "../services/alerts";
import { sessionObject } from "../services/session-client";

const WINDOW_BEFORE_MS = 2 * 24 * 3600_000;
const WINDOW_AFTER_MS = 120 * 24 * 3600_000;
/** How long after its expiry a hold may still be held before it counts as drift (ALERT_RULES dataDrift). */
export const DEFAULT_HOLD_OVERDUE_MS = 5 * 60_000;
const DRIFT = "LEDGER_DRIFT";
const SUBJECT_PREFIX = "session:";
const subjectOf = (sessionId: string) => `${SUBJECT_PREFIX}${sessionId}`;

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

export interface ReconcileOptions {
  now?: Date;
  /** Check just these sessions (when in the window); out-of-scope alerts are then left alone. */
  only?: string[];
  holdOverdueMs?: number;
  /** Sessions read from D1 per page. */
  pageSize?: number;
  /** Sessions checked at once. */
  concurrency?: number;
  /** The pause before a drifting session with deliveries still in flight is looked at again. */
  recheckDelayMs?: number;
}

export interface ReconcileReport {
  checked: number;
  drifting: string[];
  /** Drift explained by outbox deliveries still within their deadline: neither raised nor resolved. */
  deferred: string[];
  /** Sessions whose DO (or D1 lines) could not be read. */
  failed: number;
  /** Open alerts resolved because their session left the window. */
  resolvedOutOfScope: number;
}

/**
 * Checks every session from two days ago to four months ahead (or just `only`), and keeps one
 * LEDGER_DRIFT alert open per drifting session.
 */
export async function reconcileLedgers(env: Env, db: Db, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const settings = {
    now,
    holdOverdueMs: options.holdOverdueMs ?? DEFAULT_HOLD_OVERDUE_MS,
    recheckDelayMs: options.recheckDelayMs ?? 1000,
  };
  const pageSize = options.pageSize ?? 200;
  const concurrency = options.concurrency ?? 6;
  const report: ReconcileReport = { checked: 0, drifting: [], deferred: [], failed: 0, resolvedOutOfScope: 0 };
  const inScope = new Set<string>();

  let after: { startsAt: Date; id: string } | undefined;
  for (;;) {
    const page = await db
      .select({ id: classSessions.id, startsAt: classSessions.startsAt })
      .from(classSessions)
      .where(
        and(
          options.only ? inArray(classSessions.id, options.only) : undefined,
          ne(classSessions.status, "cancelled"),
          gte(classSessions.startsAt, new Date(now.getTime() - WINDOW_BEFORE_MS)),
          lt(classSessions.startsAt, new Date(now.getTime() + WINDOW_AFTER_MS)),
          after ? or(gt(classSessions.startsAt, after.startsAt), and(eq(classSessions.startsAt, after.startsAt), gt(classSessions.id, after.id))) : undefined,
        ),
      )
      .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
      .limit(pageSize);
    for (const { id } of page) inScope.add(id);
    await eachWithConcurrency(page, concurrency, async ({ id }) => {
      try {
        const outcome = await checkSession(env, db, id, settings);
        report.checked += 1;
        if (outcome === "drifting") report.drifting.push(id);
        if (outcome === "deferred") report.deferred.push(id);
      } catch (error) {
        report.failed += 1;
        console.error(JSON.stringify({ level: "error", msg: "reconciliation could not check a session", sessionId: id, error: String(error) }));
      }
    });
    if (page.length < pageSize) break;
    after = page[page.length - 1]!;
  }
  if (!options.only) report.resolvedOutOfScope = await resolveOutOfScope(db, inScope, now);
  return report;
}

type SessionOutcome = "agrees" | "drifting" | "deferred";

/** One session: raise its alert on drift, resolve it when the two agree. */
async function checkSession(env: Env, db: Db, sessionId: string, settings: { now: Date; holdOverdueMs: number; recheckDelayMs: number }): Promise<SessionOutcome> {
  const { now } = settings;
  let state = await readSession(env, db, sessionId, settings);
  if (state.drift.length > 0 && state.staleOutbox === 0 && state.freshOutbox > 0) {
    // Deliveries still within their deadline may be what D1 is missing: look once more before
    // calling it drift, and if they are still in flight, leave it to the next run (by then they are
    // delivered, or past their deadline and drift on their own account).
    await new Promise((resolve) => setTimeout(resolve, settings.recheckDelayMs));
    state = await readSession(env, db, sessionId, settings);
    if (state.drift.length > 0 && state.staleOutbox === 0 && state.freshOutbox > 0 && state.staleHolds === 0) return "deferred";
  }
  const subjectKey = subjectOf(sessionId);
  // Repair: the DO sends the lines D1 lacks or has wrong again (its ledger is the authority). The
  // alert stays open until a later run finds the two agreeing.
  const repairable = state.drift.filter((entry) => entry.inDurableObject !== null).map((entry) => entry.bookingId);
  const resent = repairable.length > 0 ? await sessionObject(env, sessionId).resendLines(repairable.slice(0, 500)) : 0;
  if (state.drift.length > 0 || state.staleOutbox > 0 || state.staleHolds > 0) {
    await raiseAlert(db, {
      type: DRIFT,
      severity: "critical",
      subjectKey,
      title: `Session ${sessionId}: D1 disagrees with the session's Durable Object`,
      details: {
        sessionId,
        drift: state.drift.slice(0, 20),
        driftCount: state.drift.length,
        undeliveredOutboxEntries: state.staleOutbox,
        overdueHolds: state.staleHolds,
        resentLines: resent,
      },
      now,
    });
    return "drifting";
  }
  const open = await db.query.alerts.findFirst({ where: and(eq(alerts.type, DRIFT), eq(alerts.subjectKey, subjectKey), ne(alerts.status, "resolved")) });
  if (open) await resolveAlert(db, open.id, "system", now);
  return "agrees";
}

async function readSession(env: Env, db: Db, sessionId: string, { now, holdOverdueMs }: { now: Date; holdOverdueMs: number }) {
  const stub = sessionObject(env, sessionId);
  const [ledger, pendingOutbox, staleOutbox, staleHolds, lines] = await Promise.all([
    stub.ledgerEntries(),
    stub.pendingOutbox(),
    stub.staleOutboxEntries(now.getTime()),
    stub.staleHolds(now.getTime(), holdOverdueMs),
    db
      .select({ bookingId: bookingSessions.bookingId, seats: bookingSessions.seats, status: bookingSessions.status, version: bookingSessions.version })
      .from(bookingSessions)
      .where(eq(bookingSessions.sessionId, sessionId)),
  ]);
  // A change D1 has not applied yet (its line missing, or at an older version than the DO's last),
  // made within the outbox deadline, may still be on its way through the projection Queue: in
  // flight, not yet drift. A line at the DO's version that still differs is drift at once.
  const d1Versions = new Map(lines.map((line) => [line.bookingId, line.version]));
  const inFlightIds = new Set(
    ledger
      .filter((entry) => entry.updatedAt > now.getTime() - OUTBOX_DEADLINE_MS)
      .filter((entry) => !d1Versions.has(entry.bookingId) || (entry.version !== null && d1Versions.get(entry.bookingId)! < entry.version))
      .map((entry) => entry.bookingId),
  );
  const drift = ledgerDrift(ledger, lines);
  const inFlight = drift.length > 0 && drift.every((entry) => inFlightIds.has(entry.bookingId)) ? drift.length : 0;
  return { drift, staleOutbox, freshOutbox: Math.max(0, pendingOutbox - staleOutbox) + inFlight, staleHolds };
}

/** Resolves open drift alerts of sessions no longer checked: cancelled, past the window, or deleted. */
async function resolveOutOfScope(db: Db, inScope: Set<string>, now: Date): Promise<number> {
  const open = await db
    .select({ id: alerts.id, subjectKey: alerts.subjectKey })
    .from(alerts)
    .where(and(eq(alerts.type, DRIFT), ne(alerts.status, "resolved")));
  const gone = open.filter((alert) => !inScope.has(alert.subjectKey.slice(SUBJECT_PREFIX.length)));
  for (const alert of gone) await resolveAlert(db, alert.id, "system", now);
  return gone.length;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachWithConcurrency<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
