/**
 * Sending domain events (DESIGN invariant 7) to the events Queue, whose consumer writes them to D1
 * in batches; their definitions are src/domain/events.ts. Metrics are derived from these rows only.
 */
import type { DomainEvent } from "../domain/events";
import type { Env } from "../env";
import { jsonBatchesTo, SEND_ATTEMPTS, sendWithRetry } from "../lib/queue-send";

export { DomainEventSchema, domainEvent, EVENT_TYPES } from "../domain/events";
export type { DomainEvent, EventType } from "../domain/events";

/**
 * Sends events to the Queue, retrying a failed send (see sendWithRetry). What still fails is
 * logged with the events' ids, never turned into the caller's failure: the request already did its
 * work, and losing analytics must not lose a booking.
 */
export async function emitEvents(env: Pick<Env, "EVENTS">, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { lost, errors } = await sendWithRetry(jsonBatchesTo(env.EVENTS), events);
  if (lost.length > 0) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "could not send events; they are lost",
        attempts: SEND_ATTEMPTS,
        error: errors[errors.length - 1],
        eventIds: lost.map((event) => event.id),
        types: lost.map((event) => event.type),
      }),
    );
  }
}

/** `ExecutionContext.waitUntil`: keeps work running after the response has gone. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Emits after the response when the runtime can wait for it (`waitUntil`), otherwise before: the
 * caller never waits on the Queue where it does not have to, and never loses events where it does.
 */
export async function dispatchEvents(env: Pick<Env, "EVENTS">, events: DomainEvent[], waitUntil?: WaitUntil): Promise<void> {
  if (events.length === 0) return;
  if (waitUntil) waitUntil(emitEvents(env, events));
  else await emitEvents(env, events);
}
