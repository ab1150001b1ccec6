/**
 * The projection consumer (queue `booking-projection`, DESIGN invariant 2): validates each message,
 * then writes the whole batch (booking lines with headers and customers, waitlist entries, attempts
 * with their events, promo redemptions) to D1 in one transaction. Every write is an idempotent versioned upsert, so a
 * redelivered or reordered batch converges on the same rows.
 *
 * When the batch's write fails (D1 refusing writes), each message is written on its own: those D1
 * takes are acknowledged, the others retried with backoff, so one message D1 always refuses cannot
 * hold back the rest, and nothing is dropped while D1 is down: the queue retries for hours, then
 * its dead-letter consumer keeps trying and alerts.
 */
import { attemptStatements, attendeeStatements, lineStatements } from "../db/booking-projection";
import { getDb, type Db } from "../db/client";
import { waitlistStatements, type WaitlistEntryChange } from "../db/waitlist-projection";
import { promoRedemptionStatements } from "../db/promo-redemption-projection";
import { type LineChange, ProjectionMessage, type AttemptRow, type PromoRedemptionChange } from "../domain/projection";
import type { Env } from "../env";
import { DomainEventSchema, type DomainEvent } from "../domain/events";
import { raiseAlert } from "../services/alerts";
import { fanOutEvents } from "../services/webhooks";
import { eventInserts } from "../db/event-inserts";
import { validMessages } from "./valid-messages";

/** Seconds before the next delivery: 1 s doubling per attempt, at most 5 minutes (D1 back soon is the common case). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts - 1));
}

type Parsed = { message: Message<unknown>; body: ProjectionMessage };

export async function consumeProjection(batch: MessageBatch<unknown>, env: Pick<Env, "DB"> & Partial<Pick<Env, "WEBHOOKS">>): Promise<void> {
  const accepted: Parsed[] = validMessages(batch, ProjectionMessage, "projection message is malformed", retryDelaySeconds);
  if (accepted.length === 0) return;
  const db = getDb(env.DB);
  try {
    const statements = await writeProjection(env.DB, accepted.map((item) => item.body));
    await fanOutAttemptEvents(env, db, accepted.map((item) => item.body));
    for (const { message } of accepted) message.ack();
    await alertRepeatedAttempts(db, accepted.map((item) => item.body));
    console.log(JSON.stringify({ level: "info", msg: "projection written", queue: batch.queue, messages: accepted.length, statements }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not write projection batch", queue: batch.queue, messages: accepted.length, error: String(error) }));
    await writeOneByOne(env, batch.queue, accepted);
  }
}

/**
 * Booking and cancellation events reach D1 here (with their attempt), not through the events
 * consumer, so their webhook deliveries are made here too: after the write, before the ack (a
 * failure retries the batch, and deliveries are created once per endpoint and event). No D1 read
 * when no event of the batch can be subscribed to.
 */
async function fanOutAttemptEvents(env: Partial<Pick<Env, "WEBHOOKS">>, db: Db, bodies: ProjectionMessage[]): Promise<void> {
  const events = bodies.flatMap((body) =>
    body.kind === "attempt"
      ? body.change.events.flatMap((event) => {
          const parsed = DomainEventSchema.safeParse(event);
          return parsed.success ? [parsed.data] : [];
        })
      : [],
  );
  await fanOutEvents(env, db, events);
}

async function writeOneByOne(env: Pick<Env, "DB"> & Partial<Pick<Env, "WEBHOOKS">>, queue: string, accepted: Parsed[]): Promise<void> {
  const d1 = env.DB;
  let written = 0;
  for (const { message, body } of accepted) {
    try {
      await writeProjection(d1, [body]);
      await fanOutAttemptEvents(env, getDb(d1), [body]);
      message.ack();
      written += 1;
    } catch (error) {
      if (accepted.length === 1 || written === 0) console.error(JSON.stringify({ level: "warn", msg: "projection message not written; retrying", queue, messageId: message.id, attempts: message.attempts, error: String(error) }));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (accepted.length > 1) console.log(JSON.stringify({ level: "info", msg: "projection written one by one", queue, written, retried: accepted.length - written }));
}

/**
 * Writes projection messages in one D1 batch (one transaction). Lines go in version order, so a
 * batch holding several changes of one line applies them oldest first. Returns the statement count.
 */
export async function writeProjection(target: D1Database | Db, bodies: ProjectionMessage[]): Promise<number> {
  const d1 = "$client" in target ? target.$client : target;
  const db = getDb(d1);
  const lines: LineChange[] = [];
  const entries: WaitlistEntryChange[] = [];
  const attempts: AttemptRow[] = [];
  const events: DomainEvent[] = [];
  const redemptions: PromoRedemptionChange[] = [];
  for (const body of bodies) {
    if (body.kind === "line") lines.push(body.change);
    else if (body.kind === "waitlist") entries.push(body.change as unknown as WaitlistEntryChange);
    else if (body.kind === "promo") redemptions.push(body.change);
    else {
      attempts.push(body.change.attempt);
      for (const event of body.change.events) {
        const parsed = DomainEventSchema.safeParse(event);
        if (parsed.success) events.push(parsed.data);
        else console.error(JSON.stringify({ level: "error", msg: "attempt event is malformed; dropped", eventId: event.id }));
      }
    }
  }
  lines.sort((a, b) => a.version - b.version);
  entries.sort((a, b) => a.version - b.version);
  const built = waitlistStatements(db, entries).map((query) => {
    const { sql, params } = query.toSQL();
    return d1.prepare(sql).bind(...params);
  });
  const statements = [
    ...lineStatements(d1, lines),
    ...attendeeStatements(d1, lines),
    ...attemptStatements(d1, attempts),
    ...built,
    ...promoRedemptionStatements(d1, redemptions),
    ...eventInserts(d1, events),
  ];
  if (statements.length === 0) return 0;
  await d1.batch(statements);
  return statements.length;
}

/**
 * A second booking attempt by one email for one session (DUPLICATE_ATTEMPT) raises one warning
 * alert per email and session, here rather than on the booking's way. Best effort: the events are
 * in D1 already, and the hourly checks see them too.
 */
async function alertRepeatedAttempts(db: Db, bodies: ProjectionMessage[]): Promise<void> {
  for (const body of bodies) {
    if (body.kind !== "attempt") continue;
    for (const event of body.change.events as DomainEvent[]) {
      if (event.type !== "DUPLICATE_ATTEMPT" || !event.email || !event.sessionId) continue;
      await raiseAlert(db, {
        type: "DUPLICATE_BOOKING",
        severity: "warning",
        subjectKey: `${event.email}|${event.sessionId}`,
        title: `Repeated booking attempt by ${event.email}`,
        details: { email: event.email, sessionId: event.sessionId, existingBookingId: event.data?.existingBookingId ?? null },
      }).catch((error) => console.error(JSON.stringify({ level: "error", msg: "could not raise the duplicate alert", error: String(error) })));
    }
  }
}
