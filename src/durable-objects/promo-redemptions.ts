/**
 * PromoRedemptionsDO: one per promo code, the single writer of the code's uses, so a booking with
 * a promo writes no D1 on its way either (DESIGN invariant 2). A redemption is decided in one
 * transaction that counts the uses itself, so parallel bookings cannot both take the last one;
 * the same transaction queues the change in the object's outbox, which the projection Queue
 * carries to D1's promo_redemptions (versioned upserts: redelivered or reordered changes converge).
 *
 * The object starts from what D1 holds (the uses made before it existed): once, on its first
 * call, a read, so this works while D1 refuses writes.
 */
import { DurableObject } from "cloudflare:workers";
import type { PromoRedemptionChange } from "../domain/projection";
import type { Env } from "../env";
import { OUTBOX_GRACE_MS, OUTBOX_TABLE, OutboxPump, queueOut } from "./outbox";
import { type RedeemAnswer, RedeemInput } from "./promo-redemptions-contract";

type RedemptionRow = { booking_id: string; email: string; status: PromoRedemptionChange["status"]; redeemed_at: number };

export class PromoRedemptionsDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly outbox: OutboxPump;
  /** The first call's copy of D1's uses (in memory: every later call of this instance waits for the same one). */
  private seeding: Promise<void> | null = null;
  /** Whether D1's uses are copied (read from storage at start; true for good once they are). */
  private seeded = false;
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outbox = new OutboxPump(this.sql, env, (level, msg, fields) => console.log(JSON.stringify({ level, msg, object: "promo-redemptions", ...fields })));
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS redemptions (
        booking_id TEXT PRIMARY KEY, email TEXT NOT NULL, status TEXT NOT NULL, redeemed_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE INDEX IF NOT EXISTS redemptions_email ON redemptions (email, status)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), promo_code_id TEXT, seeded INTEGER NOT NULL, version INTEGER NOT NULL)`);
      this.sql.exec(`INSERT OR IGNORE INTO meta (id, promo_code_id, seeded, version) VALUES (1, NULL, 0, 0)`);
      this.sql.exec(OUTBOX_TABLE);
      this.seeded = this.sql.exec<{ seeded: number }>(`SELECT seeded FROM meta WHERE id = 1`).one().seeded === 1;
      this.alarmSet = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /** Takes one use for the booking unless the code's limits are reached; a repeat for the same booking passes again. */
  async redeem(raw: RedeemInput): Promise<RedeemAnswer> {
    const input = RedeemInput.parse(raw);
    await this.seed(input.promoCodeId);
    const answer = this.ctx.storage.transactionSync((): RedeemAnswer => {
      const existing = this.row(input.bookingId);
      if (existing?.status === "redeemed") return { ok: true, replayed: true };
      const uses = this.counts(input.email);
      if (input.maxUses !== null && uses.uses >= input.maxUses) return { ok: false, limit: "total", uses: uses.uses, maxUses: input.maxUses };
      if (input.maxUsesPerEmail !== null && uses.byEmail >= input.maxUsesPerEmail) {
        return { ok: false, limit: "per_email", usesByEmail: uses.byEmail, maxUsesPerEmail: input.maxUsesPerEmail };
      }
      const now = Date.now();
      this.sql.exec(
        `INSERT OR REPLACE INTO redemptions (booking_id, email, status, redeemed_at, updated_at) VALUES (?, ?, 'redeemed', ?, ?)`,
        input.bookingId,
        input.email,
        now,
        now,
      );
      this.queueChange(input.promoCodeId, { booking_id: input.bookingId, email: input.email, status: "redeemed", redeemed_at: now }, now);
      return { ok: true, replayed: false };
    });
    if (answer.ok && !answer.replayed) this.afterCommit();
    return answer;
  }

  /** Gives back the use a booking took (it failed, or its payment did); true if there was one. */
  async release(promoCodeId: string, bookingId: string): Promise<boolean> {
    await this.seed(String(promoCodeId));
    const released = this.ctx.storage.transactionSync(() => {
      const existing = this.row(String(bookingId));
      if (existing?.status !== "redeemed") return false;
      const now = Date.now();
      this.sql.exec(`UPDATE redemptions SET status = 'released', updated_at = ? WHERE booking_id = ?`, now, existing.booking_id);
      this.queueChange(String(promoCodeId), { ...existing, status: "released" }, now);
      return true;
    });
    if (released) this.afterCommit();
    return released;
  }

  /** The code's uses as this object counts them (in total, or by one normalised email). */
  async uses(promoCodeId: string, email?: string): Promise<number> {
    await this.seed(String(promoCodeId));
    const counts = this.counts(email === undefined ? null : String(email));
    return email === undefined ? counts.uses : counts.byEmail;
  }

  /** Retries what the outbox could not send, until it is empty. */
  override async alarm(): Promise<void> {
    this.alarmSet = false;
    await this.outbox.sendDue();
    const next = this.sql.exec<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox`).one().at;
    if (next !== null) await this.setAlarm(next);
  }

  /** The uses in total, and by one email (0 for none). */
  private counts(email: string | null): { uses: number; byEmail: number } {
    return this.sql
      .exec<{ uses: number; byEmail: number }>(`SELECT count(*) AS uses, coalesce(sum(email = ?), 0) AS byEmail FROM redemptions WHERE status = 'redeemed'`, email)
      .one();
  }

  private row(bookingId: string): RedemptionRow | undefined {
    return this.sql.exec<RedemptionRow>(`SELECT booking_id, email, status, redeemed_at FROM redemptions WHERE booking_id = ?`, bookingId).toArray()[0];
  }

  private queueChange(promoCodeId: string, row: RedemptionRow, now: number): void {
    const version = this.sql.exec<{ version: number }>(`UPDATE meta SET version = version + 1 WHERE id = 1 RETURNING version`).one().version;
    const change: PromoRedemptionChange = { promoCodeId, bookingId: row.booking_id, email: row.email, status: row.status, version, redeemedAt: row.redeemed_at, at: now };
    queueOut(this.sql, { kind: "promo", change }, now);
  }

  /** The outbox is sent now; the alarm is the retry should the send fail or the object die first. */
  private afterCommit(): void {
    this.outbox.pump();
    if (!this.alarmSet) void this.setAlarm(Date.now() + OUTBOX_GRACE_MS);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmSet = true;
    await this.ctx.storage.setAlarm(at).catch(() => {
      // Not set: the next write sets it again.
      this.alarmSet = false;
    });
  }

  /** Copies the uses D1 holds for the code, once in the object's life (later ones are ours). */
  private seed(promoCodeId: string): Promise<void> {
    if (this.seeded) return Promise.resolve();
    this.seeding ??= this.copyFromD1(promoCodeId).finally(() => {
      this.seeding = null;
    });
    return this.seeding;
  }

  private async copyFromD1(promoCodeId: string): Promise<void> {
    const { results } = await this.env.DB.prepare(`SELECT booking_id, email, created_at FROM promo_redemptions WHERE promo_code_id = ? AND status = 'redeemed'`)
      .bind(promoCodeId)
      .all<{ booking_id: string; email: string; created_at: number }>();
    this.ctx.storage.transactionSync(() => {
      if (this.sql.exec<{ seeded: number }>(`SELECT seeded FROM meta WHERE id = 1`).one().seeded) return;
      for (const row of results) {
        this.sql.exec(
          `INSERT OR IGNORE INTO redemptions (booking_id, email, status, redeemed_at, updated_at) VALUES (?, ?, 'redeemed', ?, ?)`,
          row.booking_id,
          row.email,
          row.created_at,
          row.created_at,
        );
      }
      this.sql.exec(`UPDATE meta SET seeded = 1, promo_code_id = ? WHERE id = 1`, promoCodeId);
    });
    this.seeded = true;
  }
}
