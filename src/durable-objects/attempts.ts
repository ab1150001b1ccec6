/**
 * Records a finished attempt in a Durable Object's outbox: the audit row and the domain events it
 * stands for (src/domain/attempt-events.ts), in the transaction that decided it, so an attempt the
 * object answered is never lost (DESIGN invariant 7).
 */
import { type AttemptRefusal, attemptEvents } from "../domain/attempt-events";
import { queueOut } from "./outbox";
import type { AttemptAudit } from "./session-contract";

/** Queues the attempt and its events; `refusal` when it was refused, with the code the client got. */
export function recordAttempt(sql: SqlStorage, audit: AttemptAudit, refusal: AttemptRefusal | undefined, now: number, more: { bookingId?: string | null } = {}): void {
  const attempt = {
    ...audit.fields,
    ...(more.bookingId !== undefined ? { bookingId: more.bookingId } : {}),
    outcome: refusal ? ("rejected" as const) : ("accepted" as const),
    errorCode: refusal?.code ?? null,
  };
  const events = attemptEvents(attempt, audit.subject, refusal, { now, checkout: audit.checkout });
  queueOut(sql, {
    kind: "attempt",
    change: { at: now, attempt: { ...attempt, id: audit.id, durationMs: Math.max(0, now - audit.startedAt), at: now }, events },
  });
}
