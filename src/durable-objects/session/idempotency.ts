/**
 * Idempotency-Key records kept beside the writes they protect (DESIGN invariant 4): written in the
 * same transaction as the reservation, so a key and its booking exist together or not at all, and
 * two concurrent requests with one key execute once (the object runs one transaction at a time).
 * The outcome stored is what the Worker answered: the response body of a success, or the refusal.
 */
import type { IdempotencyClaim, RecordedOutcome } from "../session-contract";

/** Records are kept 48 h: comfortably over the 24 h clients are told they may retry for. */
export const IDEMPOTENCY_RETENTION_MS = 48 * 3600_000;

export type KeyLookup = { found: false } | { found: true; reused: true } | { found: true; reused: false; reservationId: string; outcome: RecordedOutcome };

export function lookUpKey(sql: SqlStorage, claim: IdempotencyClaim, now: number): KeyLookup {
  const row = sql
    .exec<{ request_hash: string; reservation_id: string; outcome: string; created_at: number }>(
      `SELECT request_hash, reservation_id, outcome, created_at FROM idempotency WHERE scope = ? AND key = ?`,
      claim.scope,
      claim.key,
    )
    .toArray()[0];
  if (!row || row.created_at <= now - IDEMPOTENCY_RETENTION_MS) return { found: false };
  if (row.request_hash !== claim.requestHash) return { found: true, reused: true };
  return { found: true, reused: false, reservationId: row.reservation_id, outcome: JSON.parse(row.outcome) as RecordedOutcome };
}

export function recordKey(sql: SqlStorage, claim: IdempotencyClaim, reservationId: string, outcome: RecordedOutcome, now: number): void {
  sql.exec(
    `INSERT INTO idempotency (scope, key, request_hash, reservation_id, outcome, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, reservation_id = excluded.reservation_id,
       outcome = excluded.outcome, created_at = excluded.created_at`,
    claim.scope,
    claim.key,
    claim.requestHash,
    reservationId,
    JSON.stringify(outcome),
    now,
  );
}

/** Drops records past their retention (the alarm's chore). */
export function purgeKeys(sql: SqlStorage, now: number): void {
  sql.exec(`DELETE FROM idempotency WHERE created_at <= ?`, now - IDEMPOTENCY_RETENTION_MS);
}

/** A keyed write's repeat: the first outcome again, or the key used for another request. */
export type Replayed = { ok: false; replayed: true; outcome: RecordedOutcome } | { ok: false; replayed: "reused" };

/** What a keyed write keeps for its repeats: the response of a success, or the refusal. */
export function recordedOutcome(result: { ok: boolean }, response?: string): RecordedOutcome {
  if (result.ok) return { ok: true, response: response ?? "" };
  const { code, message, details } = result as unknown as { code: string; message: string; details: Record<string, unknown> };
  return { ok: false, code, message, details };
}
