/**
 * The events consumer (queue `booking-events`): validates each message, then writes every valid
 * event, and the demand signal it stands for, to D1 in one batch of multi-row inserts. Ids come
 * with the events and inserts skip ids already present, so a redelivered batch writes nothing twice.
 *
 * A message that is not an event is retried on its own (a producer deployed ahead of this consumer
 * may fix itself) and, after max_retries, lands in the dead-letter queue; the rest of its batch is
 * written and acknowledged regardless. When the batch's D1 write fails, its events are written one
 * by one: those D1 takes are acknowledged, the others retried with backoff (so one event D1 always
 * refuses reaches the dead-letter queue alone, not with its whole batch). Written events that
 * webhook endpoints subscribe to become deliveries (src/services/webhooks.ts `fanOutEvents`).
 */
import { getDb, type Db } from "../db/client";
import { chunkByParameters, presentValues } from "../db/chunks";
import { demandSignals, events } from "../db/schema";
import { demandSignalOf } from "../domain/demand-signals";
import { type DomainEvent, DomainEventSchema } from "../domain/events";
import type { Env } from "../env";
import { fanOutEvents } from "../services/webhooks";
import { validMessages } from "./valid-messages";

/** Seconds before the next delivery: 10s doubling per attempt, at most 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

export async function consumeEvents(batch: MessageBatch<unknown>, env: Pick<Env, "DB"> & Partial<Pick<Env, "WEBHOOKS">>): Promise<void> {
  const accepted = validMessages(batch, DomainEventSchema, "event message is not a domain event", retryDelaySeconds).map(({ message, body }) => ({ message, event: body }));
  if (accepted.length === 0) return;

  const db = getDb(env.DB);
  try {
    const statements = await writeEvents(db, accepted.map(({ event }) => event));
    // Webhook deliveries for the events written; a failure here retries the batch like a failed write
    // (the events are written again as nothing, and the deliveries created once per endpoint and event).
    await fanOutEvents(env, db, accepted.map(({ event }) => event));
    for (const { message } of accepted) message.ack();
    console.log(JSON.stringify({ level: "info", msg: "events written", queue: batch.queue, events: accepted.length, statements }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not write events", queue: batch.queue, events: accepted.length, error: String(error) }));
    if (accepted.length === 1) {
      accepted[0]!.message.retry({ delaySeconds: retryDelaySeconds(accepted[0]!.message.attempts) });
      return;
    }
    await writeOneByOne(env, db, batch.queue, accepted);
  }
}

/**
 * After a batch write failed: each event on its own, so one that D1 refuses every time is retried
 * (and dead-lettered) alone while the rest are written and acknowledged.
 */
async function writeOneByOne(env: Partial<Pick<Env, "WEBHOOKS">>, db: Db, queue: string, accepted: { message: Message<unknown>; event: DomainEvent }[]): Promise<void> {
  let written = 0;
  for (const { message, event } of accepted) {
    try {
      await writeEvents(db, [event]);
      await fanOutEvents(env, db, [event]);
      message.ack();
      written += 1;
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "could not write event", queue, messageId: message.id, eventId: event.id, attempts: message.attempts, error: String(error) }));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  console.log(JSON.stringify({ level: "info", msg: "events written one by one", queue, written, retried: accepted.length - written }));
}

/**
 * Writes events and their demand signals in one D1 batch (one transaction), as few multi-row
 * `INSERT … ON CONFLICT DO NOTHING` statements as the parameter limit allows. Returns how many
 * statements it took.
 */
export async function writeEvents(db: Db, batch: DomainEvent[]): Promise<number> {
  const statements = eventStatements(db, batch);
  const [first, ...rest] = statements;
  if (!first) return 0;
  await db.batch([first, ...rest]);
  return statements.length;
}

/** The insert statements for some events and the demand signals among them. */
export function eventStatements(db: Db, batch: DomainEvent[]) {
  const unique = [...new Map(batch.map((event) => [event.id, event])).values()];
  const eventRows = unique.map((event) =>
    presentValues({
      id: event.id,
      type: event.type,
      occurredAt: new Date(event.occurredAt),
      sessionId: event.sessionId,
      classId: event.classId,
      studioId: event.studioId,
      cityId: event.cityId,
      bookingId: event.bookingId,
      customerId: event.customerId,
      email: event.email,
      clientKey: event.clientKey,
      code: event.code,
      seats: event.seats,
      amountPence: event.amountPence,
      source: event.source,
      data: event.data,
    }),
  ) as (typeof events.$inferInsert)[];
  const signalRows = unique.flatMap((event) => {
    const signal = demandSignalOf(event);
    return signal ? [presentValues(signal) as typeof demandSignals.$inferInsert] : [];
  });
  return [
    ...chunkByParameters(eventRows).map((rows) => db.insert(events).values(rows).onConflictDoNothing({ target: events.id })),
    ...chunkByParameters(signalRows).map((rows) => db.insert(demandSignals).values(rows).onConflictDoNothing({ target: demandSignals.id })),
  ];
}
