/**
 * The notifications consumer delivers a batch together (one read of undeliverable addresses, one
 * transaction of claims, the dev mailbox's sendMany, one send of events) and every message still
 * gets its own outcome: sent, duplicate, dead-lettered, unreadable or retried. When D1 refuses the
 * claims, each message is delivered on its own, and nothing is lost.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { undeliverableAddresses } from "../src/db/schema";
import { consumeNotifications } from "../src/jobs/notifications-consumer";
import type { NotificationProvider, OutgoingMessage } from "../src/services/notification-providers";
import { uniqueEmail } from "./booking-helpers";
import { unique } from "./helpers";
import { confirmationRequest } from "./notification-helpers";

const db = getDb(env.DB);

async function consume(bodies: unknown[], provider?: NotificationProvider) {
  const batch = createMessageBatch(
    "booking-notifications",
    bodies.map((body, index) => ({ id: `msg-${index}-${unique()}`, timestamp: new Date(), attempts: 1, body })),
  );
  await consumeNotifications(batch, env, provider);
  const result = await getQueueResult(batch, createExecutionContext());
  return { acked: new Set(result.explicitAcks), retried: new Set(result.retryMessages.map((retry) => retry.msgId)), ids: batch.messages.map((message) => message.id) };
}

const communication = (id: string) => env.DB.prepare(`SELECT status, provider, provider_message_id, attempts FROM booking_communications WHERE id = ?`).bind(id).first<Record<string, unknown>>();
const copies = (id: string) => env.DB.prepare(`SELECT count(*) AS n FROM dev_mailbox WHERE communication_id = ?`).bind(id).first<number>("n");

describe("a batch of notifications", () => {
  afterEach(async () => {
    await env.DB.exec("DROP TRIGGER IF EXISTS refuse_communication_writes");
  });

  it("is delivered together, each message with its own outcome", async () => {
    const fresh = [confirmationRequest(uniqueEmail("batch-a")), confirmationRequest(uniqueEmail("batch-b")), confirmationRequest(uniqueEmail("batch-c"))];
    const bounced = confirmationRequest(uniqueEmail("batch-bounced"));
    await db.insert(undeliverableAddresses).values({ email: bounced.recipient.email, reason: "hard bounce", provider: "resend" });
    const already = confirmationRequest(uniqueEmail("batch-already"));
    expect((await consume([already])).acked.size).toBe(1);

    const { acked, retried, ids } = await consume([...fresh, bounced, already, { kind: "NOT_A_KIND" }]);
    expect(retried.size).toBe(0);
    expect(acked).toEqual(new Set(ids));
    for (const body of fresh) {
      expect(await communication(body.id)).toMatchObject({ status: "sent", provider: "dev-mailbox", provider_message_id: expect.stringMatching(/^dmb_/), attempts: 1 });
      expect(await copies(body.id)).toBe(1);
    }
    expect(await communication(bounced.id)).toMatchObject({ status: "failed" });
    expect(await copies(bounced.id)).toBe(0);
    // The duplicate was neither claimed again nor delivered twice.
    expect(await communication(already.id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(await copies(already.id)).toBe(1);
  });

  it("is delivered one by one with a provider that has no batch, or whose batch fails", async () => {
    const sent: string[] = [];
    const single: NotificationProvider = {
      name: "test-single",
      recordsDelivery: false,
      send: async (message: OutgoingMessage) => {
        sent.push(message.id);
        return { providerMessageId: `single-${message.id}` };
      },
    };
    const failingBatch: NotificationProvider = { ...single, name: "test-batch-fails", sendMany: async () => Promise.reject(new Error("batch endpoint down")) };
    for (const provider of [single, failingBatch]) {
      const bodies = [confirmationRequest(uniqueEmail("one-a")), confirmationRequest(uniqueEmail("one-b"))];
      const { acked, ids } = await consume(bodies, provider);
      expect(acked).toEqual(new Set(ids));
      for (const body of bodies) expect(await communication(body.id)).toMatchObject({ status: "sent", provider: provider.name, provider_message_id: `single-${body.id}` });
    }
    expect(sent).toHaveLength(4);
  });

  it("sends a request that came twice in one batch once; the copy waits out the lease", async () => {
    const body = confirmationRequest(uniqueEmail("twice"));
    const control = confirmationRequest(uniqueEmail("twice-control"));
    const { acked, retried, ids } = await consume([body, control, body]);
    expect(acked).toEqual(new Set([ids[0], ids[1]]));
    expect(retried).toEqual(new Set([ids[2]]));
    expect(await communication(body.id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(await copies(body.id)).toBe(1);
    expect(await communication(control.id)).toMatchObject({ status: "sent", attempts: 1 });
    // Its retry finds the row sent and acknowledges without sending.
    const again = await consume([body, control]);
    expect(again.acked).toEqual(new Set(again.ids));
    expect(await copies(body.id)).toBe(1);
  });

  it("marks rows sent after a provider's batch that does not record delivery itself", async () => {
    const batchOnly: NotificationProvider = {
      name: "test-batch",
      recordsDelivery: false,
      send: async () => Promise.reject(new Error("only the batch is used here")),
      sendMany: async (messages) => new Map(messages.map((message) => [message.id, { providerMessageId: `batch-${message.id}` }])),
    };
    const bodies = [confirmationRequest(uniqueEmail("batch-only-a")), confirmationRequest(uniqueEmail("batch-only-b"))];
    const { acked, ids } = await consume(bodies, batchOnly);
    expect(acked).toEqual(new Set(ids));
    for (const body of bodies) expect(await communication(body.id)).toMatchObject({ status: "sent", provider: "test-batch", provider_message_id: `batch-${body.id}` });
  });

  it("falls back to one by one while D1 refuses the claims, and loses nothing", async () => {
    await env.DB.exec(
      "CREATE TRIGGER refuse_communication_writes BEFORE INSERT ON booking_communications BEGIN SELECT RAISE(ABORT, 'D1 refuses writes'); END",
    );
    const bodies = [confirmationRequest(uniqueEmail("outage-a")), confirmationRequest(uniqueEmail("outage-b"))];
    const during = await consume(bodies);
    // Control: the refusal was seen (every message retried, nothing recorded or delivered).
    expect(during.retried).toEqual(new Set(during.ids));
    for (const body of bodies) expect(await communication(body.id)).toBeNull();
    await env.DB.exec("DROP TRIGGER refuse_communication_writes");
    const after = await consume(bodies);
    expect(after.acked).toEqual(new Set(after.ids));
    for (const body of bodies) {
      expect(await communication(body.id)).toMatchObject({ status: "sent" });
      expect(await copies(body.id)).toBe(1);
    }
  });
});
