/**
 * BookingCoordinatorDO: one per booking attempt that spans sessions (DESIGN invariant 3). It keeps
 * the attempt's commit/abort decision (the first decision wins, in one transaction: a coordinator
 * committing and an expiring hold aborting can race, and exactly one wins), the attempt's audit
 * record, and, for a keyed request, its Idempotency-Key claim with the response to replay. The object
 * named for a booking (moveLedgerName) also keeps that booking's move ledger (move-ledger.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import type { BookingProjection } from "../domain/projection";
import { ClaimInput, type ClaimResult, Decision } from "./coordinator-contract";
import type { Env } from "../env";
import { recordAttempt } from "./attempts";
import type { BeginMoveResult, MoveLedgerView, MoveState } from "./move-contract";
import { MoveIntent } from "./move-contract";
import { beginMove, dueMoves, ledgerView, MOVES_TABLE, nextMoveCheck, retryLater, settleMove } from "./move-ledger";
import { OUTBOX_GRACE_MS, OUTBOX_TABLE, OutboxPump } from "./outbox";
import { AttemptAudit, type RecordedOutcome } from "./session-contract";

export type { ClaimResult, Decision } from "./coordinator-contract";

export class BookingCoordinatorDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly outbox: OutboxPump;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outbox = new OutboxPump(this.sql, env, (level, msg, fields) => console.log(JSON.stringify({ level, msg, coordinator: true, ...fields })));
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS decision (id INTEGER PRIMARY KEY CHECK (id = 1), decision TEXT NOT NULL, body TEXT, decided_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS claim (
        id INTEGER PRIMARY KEY CHECK (id = 1), request_hash TEXT NOT NULL, reservation_id TEXT NOT NULL,
        lease_until INTEGER NOT NULL, outcome TEXT, created_at INTEGER NOT NULL)`);
      this.sql.exec(OUTBOX_TABLE);
      this.sql.exec(MOVES_TABLE);
    });
  }

  /** Records `proposed` unless a decision exists, and returns the decision that stands; records the attempt with it when given. */
  async decide(proposed: Decision, audit?: AttemptAudit, refusal?: { code: string; details: Record<string, unknown> }): Promise<Decision> {
    const parsed = Decision.parse(proposed);
    const parsedAudit = audit ? AttemptAudit.parse(audit) : undefined;
    const decision = this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      this.sql.exec(
        `INSERT INTO decision (id, decision, body, decided_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        parsed.decision,
        parsed.decision === "commit" ? JSON.stringify({ booking: parsed.booking, linePrices: parsed.linePrices }) : null,
        now,
      );
      const standing = this.standing()!;
      // The attempt is recorded with the decision it proposed; one that lost the race records its refusal itself.
      const won = standing.decision === parsed.decision && (standing.decision === "abort" || standing.booking.id === (parsed as { booking: BookingProjection }).booking.id);
      if (parsedAudit && won) recordAttempt(this.sql, parsedAudit, refusal, now);
      return standing;
    });
    await this.afterWrite();
    return decision;
  }

  /** The decision, if one was made. */
  async decision(): Promise<Decision | null> {
    return this.standing();
  }

  /** Records an attempt that ended without a decision (a multi-session hold taken or refused). */
  async recordAttempt(audit: AttemptAudit, refusal?: { code: string; details: Record<string, unknown> }): Promise<void> {
    const parsed = AttemptAudit.parse(audit);
    this.ctx.storage.transactionSync(() => recordAttempt(this.sql, parsed, refusal, Date.now()));
    await this.afterWrite();
  }

  /**
   * Claims this attempt's Idempotency-Key: the first request goes ahead with a lease; a repeat of a
   * finished one gets its outcome; another request under the key is refused; a repeat while the
   * first is running is told to retry, unless the first's lease ran out (it died), when it takes over
   * under the same reservation id, so the sessions replay what the first one did.
   */
  async claim(input: z.input<typeof ClaimInput>): Promise<ClaimResult> {
    const { requestHash, reservationId, leaseMs } = ClaimInput.parse(input);
    return this.ctx.storage.transactionSync((): ClaimResult => {
      const now = Date.now();
      const row = this.sql.exec<{ request_hash: string; reservation_id: string; lease_until: number; outcome: string | null }>(`SELECT * FROM claim WHERE id = 1`).toArray()[0];
      if (!row) {
        this.sql.exec(`INSERT INTO claim (id, request_hash, reservation_id, lease_until, created_at) VALUES (1, ?, ?, ?, ?)`, requestHash, reservationId, now + leaseMs, now);
        return { state: "go", reservationId, lease: now + leaseMs };
      }
      if (row.request_hash !== requestHash) return { state: "reused" };
      if (row.outcome) return { state: "replay", outcome: JSON.parse(row.outcome) as RecordedOutcome };
      if (row.lease_until > now) return { state: "in_progress", retryAfterMs: row.lease_until - now };
      this.sql.exec(`UPDATE claim SET lease_until = ? WHERE id = 1`, now + leaseMs);
      return { state: "go", reservationId: row.reservation_id, lease: now + leaseMs };
    });
  }

  /** Keeps the outcome for repeats (only while `lease` is still the claim's: a slow original cannot overwrite a takeover's). */
  async complete(lease: number, outcome: RecordedOutcome): Promise<void> {
    this.sql.exec(`UPDATE claim SET outcome = ? WHERE id = 1 AND lease_until = ? AND outcome IS NULL`, JSON.stringify(outcome), lease);
  }

  /** Lets the lease go after a failure on our side, so a retry takes over at once under the same ids. */
  async abandon(lease: number): Promise<void> {
    this.sql.exec(`UPDATE claim SET lease_until = 0 WHERE id = 1 AND lease_until = ? AND outcome IS NULL`, lease);
  }

  // ---- a booking's move ledger (move-ledger.ts): only the object named for the booking keeps one ----

  /** Starts a move of the booking unless one is under way or it moved since the caller read `movesBefore`; the alarm finishes it should the caller not. */
  async beginMove(raw: MoveIntent, movesBefore: number): Promise<BeginMoveResult> {
    const intent = MoveIntent.parse(raw);
    const result = this.ctx.storage.transactionSync(() => beginMove(this.sql, intent, movesBefore, Date.now()));
    await this.scheduleAlarm();
    return result;
  }

  /** Finishes a move as its coordinator decided: `read` (the caller, right after the commit) or `abort` unless committed (a move given up). */
  async settleMove(attempt: string, ask: "read" | "abort"): Promise<MoveState> {
    return settleMove(this.sql, this.env, attempt, ask);
  }

  /** The booking's moves, and how `attempt` stands when given. */
  async moveLedger(attempt?: string): Promise<MoveLedgerView> {
    return ledgerView(this.sql, attempt);
  }

  /** Settles moves whose caller did not finish them, and retries outbox deliveries that failed. */
  override async alarm(): Promise<void> {
    for (const attempt of dueMoves(this.sql, Date.now())) {
      try {
        await settleMove(this.sql, this.env, attempt, "abort");
      } catch (error) {
        console.log(JSON.stringify({ level: "warn", msg: "move not settled yet", attempt, error: String(error) }));
        retryLater(this.sql, attempt, Date.now());
      }
    }
    await this.outbox.sendDue();
    await this.scheduleAlarm();
  }

  /** The alarm at the next outbox retry or move check, whichever is first (never later than one already set). */
  private async scheduleAlarm(): Promise<void> {
    const outboxAt = this.sql.exec<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox`).one().at;
    const due = [outboxAt, nextMoveCheck(this.sql)].filter((at): at is number => at !== null);
    if (due.length === 0) return;
    const current = await this.ctx.storage.getAlarm();
    const next = Math.min(...due);
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /** The pump sends now; the alarm, set before the caller is answered, is the backstop should this object die first. */
  private async afterWrite(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now() + OUTBOX_GRACE_MS);
    this.outbox.pump();
  }

  private standing(): Decision | null {
    const row = this.sql.exec<{ decision: string; body: string | null }>(`SELECT decision, body FROM decision WHERE id = 1`).toArray()[0];
    if (!row) return null;
    if (row.decision === "abort") return { decision: "abort" };
    const { booking, linePrices } = JSON.parse(row.body!) as { booking: BookingProjection; linePrices: Record<string, number> };
    return { decision: "commit", booking, linePrices };
  }
}
