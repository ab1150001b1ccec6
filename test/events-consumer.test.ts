import type { MessageBatchMessage, QueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { eventStatements } from "../src/jobs/events-consumer";
import { type DomainEvent, domainEvent, type EventType } from "../src/domain/events";
import { eventually } from "./helpers";

/**
 * Delivers bodies as one batch to the Worker's queue handler through workerd (as the Queues
 * runtime does) and returns what it acknowledged or retried, with each retry's delay.
 * (`createMessageBatch` + `getQueueResult` would do too, but they drop `delaySeconds`.)
 */
async function deliver(queue: string, bodies: unknown[], options: { attempts?: number; ids?: string[] } = {}) {
  const messages = bodies.map((body, index) => ({
    id: options.ids?.[index] ?? `msg_${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts: options.attempts ?? 1,
    body,
  }));
  const handler = exports.default as unknown as { queue(queue: string, messages: MessageBatchMessage[]): Promise<QueueResult> };
  const result = await handler.queue(queue, messages);
  expect(result.outcome).toBe("ok");
  return { result, ids: messages.map((message) => message.id) };
}

const tag = () => `t${crypto.randomUUID().slice(0, 8)}`;

async function rowsOf(table: "events" | "demand_signals", ids: string[]) {
  const { results } = await env.DB.prepare(`SELECT * FROM ${table} WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
    .bind(JSON.stringify(ids))
    .all<Record<string, unknown>>();
  return results;
}

function sampleEvents(course: string): DomainEvent[] {
  const of = (type: EventType, count: number, fields: Partial<DomainEvent> = {}) =>
    Array.from({ length: count }, () => domainEvent(type, { classId: course, cityId: "cty_consumer", customerId: "cus_consumer", ...fields }));
  return [
    ...of("COURSE_VIEWED", 40, { data: { from: "search" } }),
    ...of("BOOKING_CONFIRMED", 20, {
      bookingId: "bkg_consumer",
      studioId: "stu_consumer",
      email: "a@example.test",
      seats: 4,
      amountPence: 5000,
      source: "web",
      data: { registrationType: "DROP_IN", guestCount: 2, sessionIds: ["ses_a", "ses_b"] },
    }),
    ...of("PURCHASE_BLOCKED", 20, { code: "NO_TRAINER", data: { attempt: "booking" } }),
    ...of("WAITLIST_JOINED", 10, { sessionId: "ses_a" }),
    ...of("NOTIFY_ME_REGISTERED", 10),
  ];
}

describe("events consumer: batches", () => {
  it("writes 100 events and their 80 demand signals, acknowledging every message", async () => {
    const course = `cls_${tag()}`;
    const events = sampleEvents(course);
    const { result, ids } = await deliver("booking-events", events);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());

    const written = await rowsOf("events", events.map((event) => event.id));
    expect(written).toHaveLength(100);
    const confirmed = events.find((event) => event.type === "BOOKING_CONFIRMED")!;
    expect(written.find((row) => row.id === confirmed.id)).toMatchObject({
      type: "BOOKING_CONFIRMED",
      occurred_at: confirmed.occurredAt,
      class_id: course,
      studio_id: "stu_consumer",
      city_id: "cty_consumer",
      booking_id: "bkg_consumer",
      customer_id: "cus_consumer",
      email: "a@example.test",
      seats: 4,
      amount_pence: 5000,
      source: "web",
      session_id: null,
      code: null,
    });
    expect(JSON.parse(String(written.find((row) => row.id === confirmed.id)!.data))).toEqual(confirmed.data);

    const signals = await rowsOf("demand_signals", events.map((event) => event.id));
    const countBy = (type: string, reason: string | null) => signals.filter((row) => row.signal_type === type && row.reason === reason).length;
    expect(signals).toHaveLength(80);
    expect(countBy("COURSE_VIEW", null)).toBe(40);
    expect(countBy("PURCHASE_BLOCKED", "NO_TRAINER")).toBe(20);
    expect(countBy("WAITLIST", "session_full")).toBe(10);
    expect(countBy("WAITLIST", "no_trainer")).toBe(10);
    const view = events[0]!;
    expect(signals.find((row) => row.id === view.id)).toMatchObject({
      course_id: course,
      user_id: "cus_consumer",
      city_id: "cty_consumer",
      created_at: view.occurredAt,
      metadata: JSON.stringify({ from: "search" }),
    });
  });

  it("packs the rows into few multi-row inserts, none binding more than D1's 100 parameters", () => {
    const statements = eventStatements(getDb(env.DB), sampleEvents(`cls_${tag()}`));
    const parameters = statements.map((statement) => statement.toSQL().params.length);
    expect(Math.max(...parameters)).toBeLessThanOrEqual(100);
    // 100 event rows and 80 signal rows: a statement per row would be 180.
    expect(statements.length).toBeLessThanOrEqual(20);
    expect(statements.every((statement) => /on conflict \("events"\."id"\) do nothing|on conflict \("demand_signals"\."id"\) do nothing/i.test(statement.toSQL().sql))).toBe(true);
  });
});

describe("events consumer: redelivery", () => {
  it("writes nothing twice when the same batch comes again, or an id repeats within a batch", async () => {
    const course = `cls_${tag()}`;
    const events = sampleEvents(course).slice(0, 30);
    const first = await deliver("booking-events", events);
    const again = await deliver("booking-events", [...events, events[0]!], { ids: [...first.ids, first.ids[0]!], attempts: 2 });
    expect(again.result.retryMessages).toEqual([]);
    expect(await rowsOf("events", events.map((event) => event.id))).toHaveLength(30);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM demand_signals WHERE course_id = ?").bind(course).first<{ n: number }>())!;
    expect(n).toBe(30);
  });

  it("an event emitted twice for one state change (same id) is one row", async () => {
    const event = { ...domainEvent("BOOKING_CANCELLED", { bookingId: "bkg_twice" }), id: `evt_booking_cancelled_bkg_${tag()}` };
    await deliver("booking-events", [event]);
    await deliver("booking-events", [{ ...event, occurredAt: event.occurredAt + 5 }]);
    const rows = await rowsOf("events", [event.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occurred_at).toBe(event.occurredAt);
  });
});

describe("events consumer: bad messages", () => {
  it("retries a message that is not an event on its own, with backoff; the rest are written and acked", async () => {
    const good = sampleEvents(`cls_${tag()}`).slice(0, 3);
    const bad = [{ hello: "world" }, { ...good[0]!, id: `evt_${tag()}`, type: "NOT_A_TYPE" }, "just a string", { ...good[1]!, id: `evt_${tag()}`, seats: -1 }];
    const { result, ids } = await deliver("booking-events", [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3]]);
    const goodIds = [ids[0], ids[2], ids[5]];
    const badIds = [ids[1], ids[3], ids[4], ids[6]];
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.explicitAcks.sort()).toEqual(goodIds.sort());
    expect(result.retryMessages.map((retry) => retry.msgId).sort()).toEqual(badIds.sort());
    expect(result.retryMessages.every((retry) => retry.delaySeconds === 10)).toBe(true);
    expect(await rowsOf("events", good.map((event) => event.id))).toHaveLength(3);
    expect(await rowsOf("events", [(bad[1] as DomainEvent).id, (bad[3] as DomainEvent).id])).toHaveLength(0);
  });

  it("backs off longer on each attempt, up to ten minutes", async () => {
    const delays = [];
    for (const attempts of [1, 2, 3, 5, 9]) {
      const { result } = await deliver("booking-events", [{ not: "an event" }], { attempts });
      delays.push(result.retryMessages[0]!.delaySeconds);
    }
    expect(delays).toEqual([10, 20, 40, 160, 600]);
  });

  it("a failed D1 write retries every message it carried and acknowledges none", async () => {
    const events = sampleEvents(`cls_${tag()}`).slice(0, 5);
    // A real D1 failure: the table the consumer writes to is briefly missing.
    await env.DB.exec("ALTER TABLE events RENAME TO events_away");
    let outcome;
    try {
      outcome = await deliver("booking-events", events, { attempts: 2 });
    } finally {
      await env.DB.exec("ALTER TABLE events_away RENAME TO events");
    }
    expect(outcome.result.explicitAcks).toEqual([]);
    expect(outcome.result.retryMessages.map((retry) => retry.msgId).sort()).toEqual([...outcome.ids].sort());
    expect(outcome.result.retryMessages.every((retry) => retry.delaySeconds === 20)).toBe(true);
    // Nothing half-written: the signals went in the same transaction.
    expect(await rowsOf("demand_signals", events.map((event) => event.id))).toHaveLength(0);
  });

  it("an event D1 refuses every time is retried alone: the rest of its batch is written and acknowledged", async () => {
    const events = sampleEvents(`cls_${tag()}`).slice(0, 4);
    const poison = events[2]!;
    // A real, lasting D1 refusal of that one row (a trigger), as a constraint it breaks would be.
    await env.DB.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.id = '${poison.id}' BEGIN SELECT RAISE(ABORT, 'poison event'); END`);
    let outcome;
    try {
      outcome = await deliver("booking-events", events, { attempts: 3 });
    } finally {
      await env.DB.exec("DROP TRIGGER refuse_poison");
    }
    const poisonMessage = outcome.ids[2]!;
    expect(outcome.result.retryMessages).toEqual([{ msgId: poisonMessage, delaySeconds: 40 }]);
    expect(outcome.result.explicitAcks.sort()).toEqual(outcome.ids.filter((id) => id !== poisonMessage).sort());
    const written = await rowsOf("events", events.map((event) => event.id));
    expect(written.map((row) => row.id).sort()).toEqual(events.filter((event) => event !== poison).map((event) => event.id).sort());
  });
});

describe("events queue end to end", () => {
  it("an event sent to the real queue is written by its consumer", async () => {
    const event = domainEvent("CHECKOUT_STARTED", { classId: `cls_${tag()}`, cityId: "cty_e2e", data: { origin: "client" } });
    await env.EVENTS.send(event, { contentType: "json" });
    const signal = await eventually(() => env.DB.prepare("SELECT * FROM demand_signals WHERE id = ?").bind(event.id).first());
    expect(signal).toMatchObject({ signal_type: "CHECKOUT_STARTED", course_id: event.classId, city_id: "cty_e2e" });
  });
});

describe("dead letters", () => {
  async function deadLetters(queue: string, ids: string[]) {
    const { results } = await env.DB.prepare(`SELECT * FROM dead_letters WHERE queue = ? AND message_id IN (SELECT value FROM json_each(?))`)
      .bind(queue, JSON.stringify(ids))
      .all<Record<string, unknown>>();
    return results;
  }
  const alertFor = (queue: string) =>
    env.DB.prepare(`SELECT * FROM alerts WHERE type = 'DEAD_LETTERS' AND subject_key = ? AND status <> 'resolved'`).bind(`queue:${queue}`).first<Record<string, unknown>>();

  it("keeps each dead message once and raises one alert per queue", async () => {
    const bodies = [{ hello: "world" }, domainEvent("COURSE_VIEWED", { classId: "cls_dead" })];
    const first = await deliver("booking-events-dlq", bodies);
    expect(first.result.ackAll).toBe(true);
    const stored = await deadLetters("booking-events-dlq", first.ids);
    expect(stored).toHaveLength(2);
    expect(stored.map((row) => JSON.parse(String(row.body)))).toEqual(expect.arrayContaining(bodies));
    expect(stored[0]).toMatchObject({ attempts: 1, sent_at: expect.any(Number), first_seen_at: expect.any(Number) });
    const alert = await alertFor("booking-events-dlq");
    expect(alert).toMatchObject({ severity: "warning", status: "open", occurrences: 1 });
    expect(JSON.parse(String(alert!.details))).toMatchObject({ queue: "booking-events-dlq", newMessages: 2, messageIds: expect.arrayContaining(first.ids) });

    // Redelivered (same message ids): nothing new stored, no new occurrence.
    const again = await deliver("booking-events-dlq", bodies, { ids: first.ids });
    expect(again.result.ackAll).toBe(true);
    expect(await deadLetters("booking-events-dlq", first.ids)).toHaveLength(2);
    expect((await alertFor("booking-events-dlq"))!.occurrences).toBe(1);

    // A new dead letter counts on the same alert. (Rollup dead letters raise ROLLUP_FAILED per
    // period instead: test/rollup-consumer.test.ts.)
    await deliver("booking-events-dlq", [{ third: true }]);
    expect((await alertFor("booking-events-dlq"))!.occurrences).toBe(2);
  });

  it("retries the batch when D1 cannot store it", async () => {
    await env.DB.exec("ALTER TABLE dead_letters RENAME TO dead_letters_away");
    let outcome;
    try {
      outcome = await deliver("booking-events-dlq", [{ a: 1 }, { b: 2 }]);
    } finally {
      await env.DB.exec("ALTER TABLE dead_letters_away RENAME TO dead_letters");
    }
    expect(outcome.result.ackAll).toBe(false);
    expect(outcome.result.retryMessages.map((retry) => retry.msgId).sort()).toEqual([...outcome.ids].sort());
  });
});
