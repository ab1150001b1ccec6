/**
 * SeatQuotaDO: one per client address, per email identity and per signed-in customer. The single
 * writer that counts what each has taken across all sessions in a sliding window (seats, waiting
 * parties), so one party cannot spread a hoard over many sessions. A Durable Object rather than D1:
 * it is on the booking path, where D1 is never written, and it decides atomically, so concurrent
 * requests from one address cannot all pass the same check.
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
      this.sql.exec(`CREATE TABLE IF NOT EXISTS charges (
        charge_id TEXT PRIMARY KEY, kind TEXT NOT NULL, amount INTEGER NOT NULL, charged_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS charges_window ON charges (kind, charged_at)`);
    });
  }

  /** Charges `amount` if what was charged in the window leaves room for it; a repeat of a charge id passes again. */
  async charge(raw: QuotaCharge): Promise<QuotaAnswer> {
    const input = QuotaCharge.parse(raw);
    const now = Date.now();
    return this.ctx.storage.transactionSync((): QuotaAnswer => {
      const since = now - input.windowMs;
      // Charges that left the window are dropped as they go, so the object stays small.
      this.sql.exec(`DELETE FROM charges WHERE kind = ? AND charged_at <= ?`, input.kind, since);
      const earlier = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM charges WHERE charge_id = ?`, input.chargeId).one().n;
      if (earlier > 0) return { ok: true };
      const used = this.sql.exec<{ used: number }>(`SELECT coalesce(sum(amount), 0) AS used FROM charges WHERE kind = ? AND charged_at > ?`, input.kind, since).one().used;
      if (used + input.amount > input.limit) {
        // Room comes back as the oldest charges leave the window.
        const oldest = this.sql.exec<{ at: number | null }>(`SELECT min(charged_at) AS at FROM charges WHERE kind = ? AND charged_at > ?`, input.kind, since).one().at ?? now;
        return { ok: false, used, limit: input.limit, retryAfterSeconds: Math.max(1, Math.ceil((oldest + input.windowMs - now) / 1000)) };
      }
      this.sql.exec(
        `INSERT INTO charges (charge_id, kind, amount, charged_at) VALUES (?, ?, ?, ?) ON CONFLICT (charge_id) DO UPDATE SET amount = excluded.amount, charged_at = excluded.charged_at`,
        input.chargeId,
        input.kind,
        input.amount,
        now,
      );
      return { ok: true };
    });
  }

  /** Gives a charge back: the request it paid for took nothing (refused by the session, or failed). */
  async refund(chargeId: string): Promise<void> {
    this.sql.exec(`DELETE FROM charges WHERE charge_id = ?`, String(chargeId));
  }
}
