/**
 * SESSION_FULL and SESSION_REOPENED: a write that takes the session's available seats to 0 (a
 * booking, a hold, a waitlist offer, a lowered capacity) or brings them back from 0 puts the event
 * in the outbox in its own transaction. Compared across the whole write, so a cancellation whose
 * seat goes straight to a waitlist offer reopens nothing. A cancelled session is neither.
 */
import { domainEvent } from "../../domain/events";
import { queueOut } from "../outbox";
import { availabilityNow } from "./ledger";
import { bumpVersion, readConfig } from "./storage";

type Fullness = "full" | "open" | null;

/** Whether the session is full now (null: cancelled). Before its first write an object has every seat free. */
export function fullnessNow(sql: SqlStorage): Fullness {
  if (!readConfig(sql)) return "open";
  const { status } = availabilityNow(sql);
  return status === "cancelled" ? null : status === "full" ? "full" : "open";
}

/** Queues the event when the write changed `before` into full or back into open; call inside its transaction. */
export function queueFullnessChange(sql: SqlStorage, before: Fullness, now: number): void {
  const after = fullnessNow(sql);
  if (before === null || after === null || before === after) return;
  const config = readConfig(sql)!;
  const { capacity, booked, held, availableSpots } = availabilityNow(sql);
  const event = domainEvent(after === "full" ? "SESSION_FULL" : "SESSION_REOPENED", {
    occurredAt: now,
    sessionId: config.session_id,
    data: { capacity, booked, held, availableSpots },
  });
  // A version of its own makes the id this change's: a redelivered outbox entry is one event, two changes are two.
  const version = bumpVersion(sql);
  queueOut(sql, { kind: "event", change: { at: now, event: { ...event, id: `evt_${event.type.toLowerCase()}_${config.session_id}_${version}` } } }, now);
}
