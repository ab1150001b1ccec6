/**
 * The alarm's work that needs more than one transaction: when it should next go off, and letting
 * expired holds go (a hold of a booking spanning sessions asks its coordinator first, over RPC,
 * so it runs outside any transaction). Alarms are at-least-once: running this twice changes nothing.
 */
import { MIN_OFFER_MS } from "../../domain/waitlist";
import type { Env } from "../../env";
import type { Decision } from "../coordinator-contract";
import { fullnessNow, queueFullnessChange } from "./fullness";
import { IDEMPOTENCY_RETENTION_MS } from "./idempotency";
import { reservationById } from "./ledger";
import { confirmHold, endHold } from "./seat-changes";
import { readConfig, type ReservationRow, withConfigCopy } from "./storage";

/** How soon to ask a coordinator again about an expired hold when it could not be reached. */
const DECISION_RETRY_MS = 5_000;

/**
 * The next hold expiry, offer reminder, unconfirmed entry's end, outbox retry, waitlist closing before the start or key
 * expiry, whichever is first (all in SQL, so the minimum is always right), or null for none.
 */
export function nextAlarmAt(sql: SqlStorage): number | null {
  return sql
    .exec<{ at: number | null }>(
      `SELECT min(at) AS at FROM (
         SELECT min(expires_at) AS at FROM reservations WHERE status = 'held'
         UNION ALL SELECT min(CASE WHEN status = 'offered' THEN reminder_at WHEN status = 'waiting' AND confirmed_at IS NULL THEN confirm_by END) FROM waitlist
         UNION ALL SELECT (SELECT starts_at FROM config) - ${MIN_OFFER_MS} WHERE EXISTS (SELECT 1 FROM waitlist WHERE status = 'waiting')
         UNION ALL SELECT min(next_attempt_at) FROM outbox
         UNION ALL SELECT min(created_at) + ${IDEMPOTENCY_RETENTION_MS} FROM idempotency)`,
    )
    .one().at;
}

/**
 * Lets expired holds go. A hold of a booking spanning sessions asks its coordinator first (which
 * records `abort` unless `commit` stands): if the booking was committed, the hold is confirmed
 * instead (DESIGN invariant 3). A coordinator that cannot be asked keeps the seats held.
 */
export async function settleExpiredHolds(ctx: DurableObjectState, env: Pick<Env, "COORDINATOR">, log: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void): Promise<void> {
  const sql = ctx.storage.sql;
  const expired = sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE status = 'held' AND expires_at <= ?`, Date.now()).toArray();
  for (const hold of expired) {
    let decision: Decision = { decision: "abort" };
    if (hold.coordinator) {
      try {
        decision = await env.COORDINATOR.getByName(hold.coordinator).decide({ decision: "abort" });
      } catch (error) {
        log("warn", "hold decision unavailable", { holdId: hold.id, error: String(error) });
        sql.exec(`UPDATE reservations SET expires_at = ? WHERE id = ? AND status = 'held'`, Date.now() + DECISION_RETRY_MS, hold.id);
        continue;
      }
    }
    withConfigCopy(sql, () =>
      ctx.storage.transactionSync(() => {
        const row = reservationById(sql, hold.id);
        if (row?.status !== "held") return;
        const before = fullnessNow(sql);
        const sessionId = readConfig(sql)!.session_id;
        if (decision.decision === "commit" && sessionId in decision.linePrices) {
          confirmHold(sql, row, { ...decision.booking, linePricePence: decision.linePrices[sessionId]! }, Date.now());
        } else endHold(sql, row, "released", Date.now());
        queueFullnessChange(sql, before, Date.now());
      }),
    );
  }
}
