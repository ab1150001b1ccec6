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

export class SeatQuotaDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

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
      // Charges that left the window are dropped as they go, so the object stays small.
      this.sql.exec(`DELETE FROM subject_charges WHERE charged_at <= ?`, since);
      const earlier = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM subject_charges WHERE subject = ? AND charge_id = ?`, input.subject, input.chargeId).one().n;
      if (earlier > 0) return { ok: true, repeated: true };
      const taken = this.sql
        .exec<{ used: number; oldest: number | null }>(
          `SELECT coalesce(sum(amount), 0) AS used, min(charged_at) AS oldest FROM subject_charges WHERE subject = ? AND kind = ? AND charged_at > ?`,
          input.subject,
          input.kind,
          since,
        )
        .one();
      if (taken.used + input.amount > input.limit) {
        // Room comes back as the oldest charges leave the window.
        const oldest = taken.oldest ?? now;
        return { ok: false, used: taken.used, limit: input.limit, retryAfterSeconds: Math.max(1, Math.ceil((oldest + input.windowMs - now) / 1000)) };
      }
      this.sql.exec(
        `INSERT INTO subject_charges (subject, charge_id, kind, amount, charged_at) VALUES (?, ?, ?, ?, ?)`,
        input.subject,
        input.chargeId,
        input.kind,
        input.amount,
        now,
      );
      return { ok: true };
    });
  }

  /** Gives a charge back: the request it paid for took nothing (refused by the session, or failed). */
  async refund(subject: string, chargeId: string): Promise<void> {
    this.sql.exec(`DELETE FROM subject_charges WHERE subject = ? AND charge_id = ?`, String(subject), String(chargeId));
  }
}
