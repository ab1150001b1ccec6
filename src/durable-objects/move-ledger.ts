/**
 * A booking's move ledger, kept by a BookingCoordinatorDO named for the booking
 * (src/services/session-client.ts moveLedgerName). It serialises the booking's moves (one at a
 * time, each against the number of moves before it) and keeps each move's intent until it is
 * finished, so a caller that dies after the move's coordinator committed still ends with the move
 * done: the ledger's alarm asks that coordinator (recording `abort` unless `commit` stands, as an
 * expiring hold does), then confirms the target line and only after that cancels the source line.
 * So the booking is never in neither session, and never left in both.
 */
import type { Env } from "../env";
import type { Decision } from "./coordinator-contract";
import { type BeginMoveResult, MoveIntent, type MoveLedgerView, type MoveState } from "./move-contract";

export const MOVES_TABLE = `CREATE TABLE IF NOT EXISTS moves (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, attempt TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
  state TEXT NOT NULL, check_at INTEGER, updated_at INTEGER NOT NULL)`;

/** How long a caller has from starting a move to finishing it before the ledger settles it for them. */
export const MOVE_LEASE_MS = 30_000;
/** How soon to try again when a session or the move's coordinator could not be reached. */
const RETRY_MS = 5_000;

type MoveRow = { attempt: string; body: string; state: MoveState };

/** Records a move as pending unless another is under way or the booking moved since the caller looked; a repeat of the attempt says how it stands. Runs in a transaction. */
export function beginMove(sql: SqlStorage, intent: MoveIntent, movesBefore: number, now: number): BeginMoveResult {
  const existing = sql.exec<MoveRow>(`SELECT attempt, body, state FROM moves WHERE attempt = ?`, intent.attempt).toArray()[0];
  if (existing) return existing.state === "pending" ? { state: "go" } : { state: existing.state };
  const pending = sql.exec<{ attempt: string }>(`SELECT attempt FROM moves WHERE state = 'pending' LIMIT 1`).toArray()[0];
  if (pending) return { state: "busy", attempt: pending.attempt };
  const moves = movesDone(sql);
  if (moves !== movesBefore) return { state: "stale", moves };
  sql.exec(`INSERT INTO moves (attempt, body, state, check_at, updated_at) VALUES (?, ?, 'pending', ?, ?)`, intent.attempt, JSON.stringify(intent), now + MOVE_LEASE_MS, now);
  return { state: "go" };
}

export function ledgerView(sql: SqlStorage, attempt?: string): MoveLedgerView {
  const last = sql.exec<{ body: string }>(`SELECT body FROM moves WHERE state = 'done' ORDER BY seq DESC LIMIT 1`).toArray()[0];
  const pending = sql.exec<{ body: string }>(`SELECT body FROM moves WHERE state = 'pending' LIMIT 1`).toArray()[0];
  const intent = pending ? (JSON.parse(pending.body) as MoveIntent) : null;
  return {
    moves: movesDone(sql),
    current: last ? (JSON.parse(last.body) as MoveIntent).booking : null,
    pending: intent ? { attempt: intent.attempt, toSessionId: intent.toSessionId } : null,
    attemptState: attempt === undefined ? null : (sql.exec<{ state: MoveState }>(`SELECT state FROM moves WHERE attempt = ?`, attempt).toArray()[0]?.state ?? null),
  };
}

/** When the ledger should next look at a pending move, or null for none. */
export function nextMoveCheck(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>(`SELECT min(check_at) AS at FROM moves WHERE state = 'pending'`).one().at;
}

/** Pending moves whose caller's time is up. */
export function dueMoves(sql: SqlStorage, now: number): string[] {
  return sql.exec<{ attempt: string }>(`SELECT attempt FROM moves WHERE state = 'pending' AND check_at <= ?`, now).toArray().map((row) => row.attempt);
}

/** Tries a due move again later (something it needs could not be reached). */
export function retryLater(sql: SqlStorage, attempt: string, now: number): void {
  sql.exec(`UPDATE moves SET check_at = ? WHERE attempt = ? AND state = 'pending'`, now + RETRY_MS, attempt);
}

/**
 * Finishes a pending move as its coordinator decided: `read` only reads the decision (the caller,
 * right after committing); `abort` records abort unless commit stands (the alarm, for a caller
 * whose time is up). Committed: confirm the target (idempotent), then cancel the source; aborted:
 * let the target's hold go. Safe to run twice and concurrently: every step is idempotent.
 */
export async function settleMove(sql: SqlStorage, env: Pick<Env, "SESSION" | "COORDINATOR">, attempt: string, ask: "read" | "abort"): Promise<MoveState> {
  const row = sql.exec<MoveRow>(`SELECT attempt, body, state FROM moves WHERE attempt = ?`, attempt).toArray()[0];
  if (!row) throw new Error(`settleMove: no move ${attempt}`);
  if (row.state !== "pending") return row.state;
  const intent = MoveIntent.parse(JSON.parse(row.body));
  const coordinator = env.COORDINATOR.getByName(intent.attempt);
  const decision: Decision | null = ask === "abort" ? await coordinator.decide({ decision: "abort" }) : await coordinator.decision();
  if (!decision) return "pending";
  const target = env.SESSION.getByName(intent.toSessionId);
  const committed = decision.decision === "commit" && decision.booking.id === intent.bookingId && intent.toSessionId in decision.linePrices;
  if (!committed) {
    await target.release(intent.holdId);
    return finish(sql, attempt, "aborted");
  }
  const source = env.SESSION.getByName(intent.fromSessionId);
  const [sourceLine, targetLine] = await Promise.all([source.bookingLine(intent.bookingId), target.bookingLine(intent.bookingId)]);
  if (sourceLine?.status !== "confirmed" && targetLine?.status !== "confirmed") {
    // The source goes only once the target is confirmed, so the booking was cancelled meanwhile:
    // the held target seat goes with it (cancelled, so no alarm confirms it from the commit).
    await target.cancel({ bookingId: intent.bookingId, reservationId: intent.holdId });
    return finish(sql, attempt, "aborted");
  }
  const confirmed = await target.confirm({ holdId: intent.holdId, booking: intent.booking, seats: intent.seats, email: intent.email, coordinator: intent.attempt });
  if (!confirmed.ok) {
    // Cannot happen while only a commit confirms the hold; if it ever does, the original line stays.
    console.log(JSON.stringify({ level: "warn", msg: "committed move could not confirm its target; the booking keeps its original line", attempt, bookingId: intent.bookingId }));
    return finish(sql, attempt, "failed");
  }
  await source.cancel({ bookingId: intent.bookingId, notifications: intent.notifications });
  return finish(sql, attempt, "done");
}

function finish(sql: SqlStorage, attempt: string, state: Exclude<MoveState, "pending">): MoveState {
  sql.exec(`UPDATE moves SET state = ?, check_at = NULL, updated_at = ? WHERE attempt = ? AND state = 'pending'`, state, Date.now(), attempt);
  return sql.exec<{ state: MoveState }>(`SELECT state FROM moves WHERE attempt = ?`, attempt).one().state;
}

function movesDone(sql: SqlStorage): number {
  return sql.exec<{ n: number }>(`SELECT count(*) AS n FROM moves WHERE state = 'done'`).one().n;
}
