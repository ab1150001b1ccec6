/**
 * SeatQuotaDO: the single writer that counts what each party (a client address, an email
 * identity, a signed-in customer) has taken across all sessions in a sliding window (seats,
 * waiting parties), so one party cannot spread a hoard over many sessions. Parties are spread over
 * SEAT_QUOTA_SHARDS objects by a hash of their name. A Durable Object rather than D1: it is on the
 * booking path, where D1 is never written, and it decides atomically, so concurrent requests from
 * one party cannot all pass the same check.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type QuotaAnswer, QuotaCharge } from "./seat-quota-contract";

const PRUNE_EVERY_MS = 1_000;

export class SeatQuotaDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** When charges that left the window were last dropped (in memory: a new instance prunes at once). */
  private prunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS subject_charges (
        subject TEXT NOT NULL, charge_id TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL, charged_at INTEGER NOT NULL,
        PRIMARY KEY (subject, charge_id))`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS subject_charges_window ON subject_charges (subject, kind, charged_at)`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS subject_charges_age ON subject_charges (charged_at)`);
    });
  }

  /** Charges `amount` if what the subject was charged in the window leaves room for it; a repeat of a charge id passes again. */
  async charge(raw: QuotaCharge): Promise<QuotaAnswer> {
    const input = QuotaCharge.parse(raw);
    const now = Date.now();
    return this.ctx.storage.transactionSync((): QuotaAnswer => {
      const since = now - input.windowMs;
      this.pruneBefore(since, now);
      // One read: whether this charge id is in the window already, and what the window holds.
      const taken = this.sql
        .exec<{ earlier: number; used: number; oldest: number | null }>(
          `SELECT (SELECT count(*) FROM subject_charges WHERE subject = ?1 AND charge_id = ?2 AND charged_at > ?4) AS earlier,
                  coalesce(sum(amount), 0) AS used, min(charged_at) AS oldest
             FROM subject_charges WHERE subject = ?1 AND kind = ?3 AND charged_at > ?4`,
          input.subject,
          input.chargeId,
          input.kind,
          since,
        )
        .one();
      if (taken.earlier > 0) return { ok: true, repeated: true };
      if (taken.used + input.amount > input.limit) {
        // Room comes back as the oldest charges leave the window.
        const oldest = taken.oldest ?? now;
        return { ok: false, used: taken.used, limit: input.limit, retryAfterSeconds: Math.max(1, Math.ceil((oldest + input.windowMs - now) / 1000)) };
      }
      // REPLACE: a charge of the same id that already left the window (not yet pruned) is charged anew.
      this.sql.exec(
        `INSERT OR REPLACE INTO subject_charges (subject, charge_id, kind, amount, charged_at) VALUES (?, ?, ?, ?, ?)`,
        input.subject,
        input.chargeId,
        input.kind,
        input.amount,
        now,
      );
      return { ok: true };
    });
  }

  /**
   * Drops charges that left the window, so the object stays small: at most once a second, since
   * every read counts only what is inside the window anyway.
   */
  private pruneBefore(since: number, now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.sql.exec(`DELETE FROM subject_charges WHERE charged_at <= ?`, since);
    this.prunedAt = now;
  }

  /** Gives a charge back: the request it paid for took nothing (refused by the session, or failed). */
  async refund(subject: string, chargeId: string): Promise<void> {
    this.sql.exec(`DELETE FROM subject_charges WHERE subject = ? AND charge_id = ?`, String(subject), String(chargeId));
  }
}
