/**
 * The notifications consumer and its dead-letter consumer: idempotent delivery, per-message retry
 * with backoff, dead-lettering, and the whole path from a booking through the real local queue.
 * Test providers implement our own NotificationProvider interface around the recording provider.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { configOf, parseConfig } from "../src/config";
import { getDb } from "../src/db/client";
import { alerts, bookingCommunications } from "../src/db/schema";
import { consumeNotifications, retryDelaySeconds, SEND_LEASE_MS } from "../src/jobs/notifications-consumer";
import { consumeDeadNotifications } from "../src/jobs/notifications-dead-letter";
import { bookingNotificationId } from "../src/services/booking-notifications";
import { claimForSending, DEAD_LETTER_ALERT, notificationEvent } from "../src/services/communications";
import {
  type NotificationProvider,
  type OutgoingMessage,
  PermanentDeliveryError,
  providerFor,
} from "../src/services/notification-providers";
import type { NotificationRequest } from "../src/services/notifications";
import { DevMailboxProvider } from "../src/services/providers/dev-mailbox";
import { postBooking, projectionCaughtUp, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, eventually, tokenFor, unique } from "./helpers";

const db = getDb(env.DB);
const QUEUE = "booking-notifications";
const DLQ = "booking-notifications-dlq";

/** A valid BOOKING_CONFIRMED request with fresh ids. */
function confirmation(overrides: Partial<NotificationRequest> = {}): NotificationRequest {
  const bookingId = `bkg_test_${unique()}`;
  return {
    id: `booking-confirmed:${bookingId}`,
    kind: "BOOKING_CONFIRMED",
    recipient: { email: `Ada-${unique()}@Example.test`, firstName: "Ada", lastName: "Lovelace" },
    channel: "email",
    bookingId,
    sessionId: "ses_test",
    classId: "cls_test",
    data: {
      className: "Wheel Basics",
      timeZone: "Europe/London",
      sessions: [{ sessionId: "ses_test", startsAt: "2030-03-16T18:00:00Z" }],
      seats: 2,
      totalAmountPence: 5000,
      manageLinkPath: `/api/v1/bookings/${bookingId}?token=secret-${unique()}`,
    },
    requestedAt: Date.now(),
    ...overrides,
  };
}

/**
 * A recording provider that counts what it sends. `before` runs inside each send, before the
 * message is recorded: it may throw (a failing provider) or do other work mid-send.
 */
class TestProvider implements NotificationProvider {
  readonly name = "dev-mailbox";
  readonly recordsDelivery = true;
  readonly sent: OutgoingMessage[] = [];
  private readonly inner = new DevMailboxProvider(db);

  constructor(private readonly before: (message: OutgoingMessage) => unknown = () => undefined) {}

  async send(message: OutgoingMessage) {
    await this.before(message);
    this.sent.push(message);
    return this.inner.send(message);
  }

  sendsOf(id: string) {
    return this.sent.filter((message) => message.id === id).length;
  }
}

type Body = unknown;
let messageCounter = 0;
/** A batch as the queue would deliver it; each message gets a fresh queue message id. */
function batchOf(queue: string, bodies: Body[], attempts = 1) {
  return createMessageBatch<Body>(
    queue,
    bodies.map((body) => ({ id: `msg-${++messageCounter}`, timestamp: new Date(), attempts, body })),
  );
}

/** Runs the consumer with a test provider and returns the per-message acks and retries. */
async function consume(batch: MessageBatch<Body>, provider: NotificationProvider) {
  const ctx = createExecutionContext();
  await consumeNotifications(batch, env, provider);
  return getQueueResult(batch, ctx);
}

interface QueueDelivery {
  outcome: string;
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}
const worker = exports.default as unknown as {
  queue(queueName: string, messages: { id: string; timestamp: Date; attempts: number; body: Body }[]): Promise<QueueDelivery>;
};

/** Delivers messages to the Worker's own queue handler, as the runtime does; returns the acks and retries. */
async function viaWorker(queue: string, bodies: Body[], attempts = 1) {
  const messages = bodies.map((body) => ({ id: `msg-${++messageCounter}`, timestamp: new Date(), attempts, body }));
  const result = await worker.queue(queue, messages);
  return { ...result, ids: messages.map((message) => message.id) };
}

const rowOf = (id: string) => db.query.bookingCommunications.findFirst({ where: eq(bookingCommunications.id, id) });
const rowsFor = (bookingId: string) => db.select().from(bookingCommunications).where(eq(bookingCommunications.bookingId, bookingId));
const deadLetterAlert = (subjectKey: string) =>
  db.query.alerts.findFirst({ where: and(eq(alerts.type, DEAD_LETTER_ALERT), eq(alerts.subjectKey, subjectKey)) });
const idsOf = (batch: MessageBatch<Body>) => batch.messages.map((message) => message.id);


describe("notifications consumer", () => {
  it("renders, sends once and records the message as sent, then acks", async () => {
    const request = confirmation();
    const provider = new TestProvider();
    const batch = batchOf(QUEUE, [request]);
    const result = await consume(batch, provider);

    expect(result.explicitAcks).toEqual(idsOf(batch));
    expect(result.retryMessages).toEqual([]);
    expect(provider.sendsOf(request.id)).toBe(1);
    const row = await rowOf(request.id);
    expect(row).toMatchObject({
      bookingId: request.bookingId,
      sessionId: "ses_test",
      classId: "cls_test",
      recipientEmail: request.recipient.email.toLowerCase(),
      type: "BOOKING_CONFIRMED",
      channel: "email",
      status: "sent",
      subject: "Booking confirmed: Wheel Basics, Sat 16 Mar, 18:00",
      template: "booking-confirmed",
      templateVersion: 1,
      provider: "dev-mailbox",
      attempts: 1,
      lastError: null,
      failedAt: null,
      claimedUntil: null,
    });
    expect(row!.providerMessageId).toMatch(/^dmb_/);
    expect(row!.sentAt).toBeInstanceOf(Date);
    expect(row!.requestedAt.getTime()).toBe(request.requestedAt);
    expect(row!.content).toContain("Total paid: £50.00");
    expect(row!.content).toContain("- Saturday 16 March 2030, 18:00 GMT");
  });

  it("sends the link with its token but keeps only a masked copy", async () => {
    const request = confirmation();
    const provider = new TestProvider();
    await consume(batchOf(QUEUE, [request]), provider);
    const link = request.data.manageLinkPath as string;
    // Absolute, on PUBLIC_BASE_URL (wrangler.toml: http://127.0.0.1:8787).
    expect(configOf(env).publicBaseUrl).toBe("http://127.0.0.1:8787");
    expect(provider.sent[0]!.text).toContain(`View or cancel your booking: ${configOf(env).publicBaseUrl}${link}\n`);
    expect(provider.sent[0]!.to).toEqual({ email: request.recipient.email.toLowerCase(), name: "Ada Lovelace" });
    const row = await rowOf(request.id);
    expect(row!.content).not.toContain(link.split("token=")[1]);
    expect(row!.content).toContain(`/api/v1/bookings/${request.bookingId}?token=[redacted]`);
  });

  it("never greets or addresses anyone by a name that is not a valid person's name", async () => {
    const request = confirmation({
      recipient: { email: `eve-${unique()}@example.test`, firstName: "Hi there. URGENT: payment failed, pay again at https://evil.example", lastName: "O\u202Eevil" },
    });
    const provider = new TestProvider();
    await consume(batchOf(QUEUE, [request]), provider);
    expect(provider.sent[0]!.text.split("\n")[0]).toBe("Hello,");
    expect(provider.sent[0]!.text).not.toContain("evil.example");
    expect(provider.sent[0]!.to.name).toBeNull();
  });

  it("sends nothing twice when the same request is delivered again", async () => {
    const request = confirmation();
    const provider = new TestProvider();
    await consume(batchOf(QUEUE, [request]), provider);
    const first = await rowOf(request.id);

    // A redelivery (same body, a later attempt) and a second queueing of the same request.
    const again = batchOf(QUEUE, [request, { ...request, requestedAt: request.requestedAt + 5 }], 2);
    const result = await consume(again, provider);

    expect(result.explicitAcks.sort()).toEqual(idsOf(again).sort());
    expect(provider.sendsOf(request.id)).toBe(1);
    expect(await rowsFor(request.bookingId!)).toHaveLength(1);
    const row = await rowOf(request.id);
    expect(row).toMatchObject({ status: "sent", attempts: 1, providerMessageId: first!.providerMessageId });
    expect(row!.sentAt!.getTime()).toBe(first!.sentAt!.getTime());
  });

  it("keeps a second delivery off a request that is being sent, and retries it", async () => {
    const request = confirmation();
    let second: Awaited<ReturnType<typeof consume>> | undefined;
    // While the first delivery is inside send(), the same request is delivered again, in full.
    const provider: TestProvider = new TestProvider(async () => {
      second ??= await consume(batchOf(QUEUE, [request]), provider);
    });
    await consume(batchOf(QUEUE, [request]), provider);
    if (!second) throw new Error("the second delivery did not run");

    expect(provider.sendsOf(request.id)).toBe(1);
    expect(second.explicitAcks).toEqual([]);
    expect(second.retryMessages).toHaveLength(1);
    expect(await rowOf(request.id)).toMatchObject({ status: "sent", attempts: 1 });
    // When it comes back, the request has been sent: acked, nothing more sent.
    const later = await consume(batchOf(QUEUE, [request], 2), provider);
    expect(later.explicitAcks).toHaveLength(1);
    expect(provider.sendsOf(request.id)).toBe(1);
  });

  it("retries only the message whose send failed, with backoff, and records the error", async () => {
    const failing = confirmation();
    const fine = [confirmation(), confirmation()];
    const provider = new TestProvider((message) => {
      if (message.id === failing.id) throw new Error("SMTP 451 try later");
    });
    const batch = createMessageBatch<Body>(QUEUE, [
      { id: "ok-1", timestamp: new Date(), attempts: 1, body: fine[0] },
      { id: "bad", timestamp: new Date(), attempts: 3, body: failing },
      { id: "ok-2", timestamp: new Date(), attempts: 1, body: fine[1] },
    ]);
    const result = await consume(batch, provider);

    expect(result.explicitAcks.sort()).toEqual(["ok-1", "ok-2"]);
    // (The delay, retryDelaySeconds(3), is not reported by getQueueResult; see the backoff tests.)
    expect(result.retryMessages.map((retry) => retry.msgId)).toEqual(["bad"]);
    expect(result.retryBatch.retry).toBe(false);
    for (const request of fine) expect((await rowOf(request.id))!.status).toBe("sent");
    expect(await rowOf(failing.id)).toMatchObject({ status: "pending", attempts: 1, lastError: "dev-mailbox: Error: SMTP 451 try later", claimedUntil: null, sentAt: null });

    // The retry, once the provider recovers, sends it and counts the second attempt.
    const recovered = new TestProvider();
    const retried = await consume(createMessageBatch<Body>(QUEUE, [{ id: "bad", timestamp: new Date(), attempts: 4, body: failing }]), recovered);
    expect(retried.explicitAcks).toEqual(["bad"]);
    expect(recovered.sendsOf(failing.id)).toBe(1);
    expect(await rowOf(failing.id)).toMatchObject({ status: "sent", attempts: 2, lastError: "dev-mailbox: Error: SMTP 451 try later" });
  });

  it("backs off exponentially: 30 s, 1, 2, 4, 8 min, capped at 15 min", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it("dead-letters a request whose data its template cannot use: failed, alerted, acked, never sent", async () => {
    const request = confirmation({ kind: "OFFER_MADE", id: `offer:${unique()}`, data: { className: "Wheel Basics", seats: 1 } });
    const good = confirmation();
    const provider = new TestProvider();
    const batch = batchOf(QUEUE, [request, good]);
    const result = await consume(batch, provider);

    expect(result.explicitAcks.sort()).toEqual(idsOf(batch).sort());
    expect(result.retryMessages).toEqual([]);
    expect(provider.sent.map((message) => message.id)).toEqual([good.id]);
    const row = await rowOf(request.id);
    expect(row).toMatchObject({ status: "failed", type: "OFFER_MADE", subject: null, content: null, attempts: 0, sentAt: null });
    expect(row!.failedAt).toBeInstanceOf(Date);
    expect(row!.lastError).toMatch(/^Invalid OFFER_MADE data: .*sessionStartsAt/);
    const alert = await deadLetterAlert("notifications:OFFER_MADE");
    expect(alert).toMatchObject({ status: "open", severity: "warning" });
    expect(alert!.details).toMatchObject({ requestId: request.id, code: "INVALID_DATA", bookingId: request.bookingId });

    // Delivered again, it stays failed and is not counted again.
    await consume(batchOf(QUEUE, [request], 2), provider);
    expect((await deadLetterAlert("notifications:OFFER_MADE"))!.occurrences).toBe(alert!.occurrences);
  });

  it("dead-letters at once what the provider refuses for good", async () => {
    const request = confirmation({ kind: "BOOKING_CANCELLED", id: `booking-cancelled:${unique()}` });
    const provider = new TestProvider(() => {
      throw new PermanentDeliveryError("mailbox does not exist");
    });
    const result = await consume(batchOf(QUEUE, [request]), provider);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await rowOf(request.id)).toMatchObject({ status: "failed", attempts: 1, lastError: "dev-mailbox: mailbox does not exist" });
    expect((await deadLetterAlert("notifications:BOOKING_CANCELLED"))!.details).toMatchObject({ requestId: request.id, code: "REJECTED_BY_PROVIDER" });
  });

  it("acks a message that is not a notification request and alerts on it", async () => {
    const provider = new TestProvider();
    const id = `junk-${unique()}`;
    const batch = batchOf(QUEUE, [{ id, kind: "NOT_A_KIND" }, "just a string"]);
    const result = await consume(batch, provider);
    expect(result.explicitAcks.sort()).toEqual(idsOf(batch).sort());
    expect(provider.sent).toEqual([]);
    expect(await rowOf(id)).toBeUndefined();
    const alert = await deadLetterAlert("notifications:unreadable");
    expect(alert!.occurrences).toBeGreaterThanOrEqual(2);
  });

  it("is what the Worker's queue handler runs for booking-notifications, with the recording provider", async () => {
    const request = confirmation();
    const result = await viaWorker(QUEUE, [request]);
    expect(result.outcome).toBe("ok");
    expect(result.explicitAcks).toEqual(result.ids);
    expect(await rowOf(request.id)).toMatchObject({ status: "sent", provider: "dev-mailbox" });
  });

  it("hands the runtime a retry delay: a request claimed by another delivery waits out its lease", async () => {
    const request = confirmation();
    const stored = { subject: "s", content: "c", template: "booking-confirmed", templateVersion: 1 };
    const claim = await claimForSending(db, request, stored, new Date(), SEND_LEASE_MS - 15_000);
    expect(claim).toEqual({ claimed: true, attempts: 1 });
    const result = await viaWorker(QUEUE, [request]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(SEND_LEASE_MS / 1000 - 16);
    expect(result.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(SEND_LEASE_MS / 1000 - 15);
    expect(await rowOf(request.id)).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("selects the provider by NOTIFICATION_PROVIDER (the dev mailbox in development, none in production) and refuses names it does not know", () => {
    expect(configOf(env).notificationProvider).toBe("dev-mailbox");
    expect(providerFor(configOf(env), db)).toBeInstanceOf(DevMailboxProvider);
    expect(providerFor(parseConfig({ ...env, NOTIFICATION_PROVIDER: "", ENVIRONMENT: "production" }), db)).toBeNull();
    expect(() => parseConfig({ ...env, NOTIFICATION_PROVIDER: "dev-mailbox", ENVIRONMENT: "production" })).toThrow(/NOTIFICATION_PROVIDER is "dev-mailbox", which delivers nowhere outside ENVIRONMENT=development/);
    expect(() => parseConfig({ ...env, NOTIFICATION_PROVIDER: "resend" })).toThrow(/RESEND_API_KEY is required when NOTIFICATION_PROVIDER is resend/);
    expect(() => parseConfig({ ...env, NOTIFICATION_PROVIDER: "carrier-pigeon" })).toThrow(/NOTIFICATION_PROVIDER must be one of "dev-mailbox", "resend", "none" \(got "carrier-pigeon"\)/);
  });

  it("gives its events ids from the request, so a request reported twice is one event", () => {
    const request = confirmation();
    const first = notificationEvent("NOTIFICATION_SENT", request, { data: { provider: "dev-mailbox" } });
    const second = notificationEvent("NOTIFICATION_SENT", request, { data: { provider: "dev-mailbox" } });
    expect(first.id).toBe(second.id);
    expect(first).toMatchObject({
      type: "NOTIFICATION_SENT",
      bookingId: request.bookingId,
      sessionId: "ses_test",
      email: request.recipient.email.toLowerCase(),
      data: { kind: "BOOKING_CONFIRMED", requestId: request.id, channel: "email", provider: "dev-mailbox" },
    });
    expect(notificationEvent("NOTIFICATION_FAILED", request, {}).id).not.toBe(first.id);
  });
});

describe("dead-letter consumer", () => {
  it("marks a request that ran out of retries failed, keeps its last error, alerts once", async () => {
    const request = confirmation({ kind: "OFFER_EXPIRED", id: `offer-expired:${unique()}`, data: { className: "Glaze", sessionStartsAt: Date.now() } });
    // Its last attempt failed in the provider …
    await consume(batchOf(QUEUE, [request], 6), new TestProvider(() => {
        throw new Error("provider down");
      }));
    expect((await rowOf(request.id))!.status).toBe("pending");

    // … so the queue moved it to the dead-letter queue.
    const before = (await deadLetterAlert("notifications:OFFER_EXPIRED"))?.occurrences ?? 0;
    const result = await viaWorker(DLQ, [request]);
    expect(result.explicitAcks).toEqual(result.ids);
    const row = await rowOf(request.id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, lastError: "dev-mailbox: Error: provider down", claimedUntil: null });
    expect(row!.failedAt).toBeInstanceOf(Date);
    const alert = await deadLetterAlert("notifications:OFFER_EXPIRED");
    expect(alert!.occurrences).toBe(before + 1);
    expect(alert!.details).toMatchObject({ requestId: request.id, code: "RETRIES_EXHAUSTED", error: "dev-mailbox: Error: provider down", attempts: 1 });

    // A redelivered dead letter changes nothing and alerts no more.
    const again = await viaWorker(DLQ, [request], 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect((await deadLetterAlert("notifications:OFFER_EXPIRED"))!.occurrences).toBe(before + 1);
    expect((await rowOf(request.id))!.failedAt!.getTime()).toBe(row!.failedAt!.getTime());
  });

  it("records a failed row for a request that never got one, and leaves sent ones alone", async () => {
    const never = confirmation();
    const sent = confirmation();
    await consume(batchOf(QUEUE, [sent]), new TestProvider());
    const ctx = createExecutionContext();
    const batch = batchOf(DLQ, [never, sent, { nonsense: true }]);
    await consumeDeadNotifications(batch, env);
    const result = await getQueueResult(batch, ctx);

    expect(result.explicitAcks.sort()).toEqual(idsOf(batch).sort());
    expect(await rowOf(never.id)).toMatchObject({ status: "failed", attempts: 0, lastError: "Dead-lettered before any send attempt", bookingId: never.bookingId });
    expect((await rowOf(sent.id))!.status).toBe("sent");
  });
});

describe("booking notifications through the real queue", () => {
  it("a booking and its cancellation each leave one message, listed for staff in order", async () => {
    const { session, klass } = await makeBookableSession({ pricePence: 1250 });
    const body = singleBookingBody(session.id, 1250, { guestCount: 2 });
    const booked = await postBooking(body);
    expect(booked.status).toBe(201);
    const bookingId: string = booked.json.booking.id;

    const confirmed = await eventually(async () => {
      const row = await rowOf(bookingNotificationId("BOOKING_CONFIRMED", bookingId));
      return row?.status === "sent" ? row : undefined;
    });
    expect(confirmed).toMatchObject({ type: "BOOKING_CONFIRMED", bookingId, sessionId: session.id, classId: klass.id, recipientEmail: body.contact.email, provider: "dev-mailbox" });
    expect(confirmed.subject).toContain(`Booking confirmed: ${klass.name}`);
    expect(confirmed.content).toContain("Seats: 2\nTotal paid: £25.00");
    expect(confirmed.content).toContain(`/api/v1/bookings/${bookingId}?token=[redacted]`);
    // The manage link is absolute, on PUBLIC_BASE_URL.
    expect(confirmed.content).toContain(`View or cancel your booking: ${configOf(env).publicBaseUrl}/api/v1/bookings/${bookingId}?token=[redacted]`);
    expect(confirmed.content).toMatch(/^View or cancel your booking: http:\/\/127\.0\.0\.1:8787\/api\/v1\/bookings\//m);
    expect(confirmed.content).not.toContain(booked.json.manageToken);

    const cancel = await call("POST", `/api/v1/bookings/${bookingId}/cancel`, { headers: { "X-Manage-Token": booked.json.manageToken } });
    expect(cancel.status).toBe(200);
    // A repeat cancel asks again under the same id: still one message.
    expect((await call("POST", `/api/v1/bookings/${bookingId}/cancel`, { headers: { "X-Manage-Token": booked.json.manageToken } })).status).toBe(200);
    await eventually(async () => ((await rowOf(bookingNotificationId("BOOKING_CANCELLED", bookingId)))?.status === "sent" ? true : undefined));

    // The staff list names a booking D1 has: wait for the projection (its own Queue) to write it.
    await projectionCaughtUp(session.id);
    const staff = await tokenFor("staff");
    const listed = await call("GET", `/api/v1/admin/bookings/${bookingId}/communications`, { token: staff });
    expect(listed.status).toBe(200);
    expect(listed.json.nextCursor).toBeNull();
    expect(listed.json.data.map((row: { type: string }) => row.type)).toEqual(["BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
    expect(listed.json.data[1]).toMatchObject({
      id: `booking-cancelled:${bookingId}`,
      status: "sent",
      channel: "email",
      recipientEmail: body.contact.email,
      template: "booking-cancelled",
      templateVersion: 1,
      attempts: 1,
      lastError: null,
      failedAt: null,
    });
    expect(listed.json.data[1].subject).toBe(confirmed.subject!.replace("Booking confirmed", "Booking cancelled"));
    expect(listed.json.data[1]).not.toHaveProperty("claimedUntil");
    expect(Date.parse(listed.json.data[0].sentAt)).toBeGreaterThan(0);
  });
});

describe("GET /api/v1/admin/bookings/{id}/communications", () => {
  let bookingId: string;
  let staff: string;
  let admin: string;
  let customer: string;

  beforeAll(async () => {
    [staff, admin, customer] = await Promise.all([tokenFor("staff"), tokenFor("admin"), tokenFor("customer")]);
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000));
    bookingId = booked.json.booking.id;
    await eventually(async () => ((await rowOf(bookingNotificationId("BOOKING_CONFIRMED", bookingId)))?.status === "sent" ? true : undefined));
    await projectionCaughtUp(session.id);
    // Two more messages about the same booking, requested later.
    const provider = new TestProvider();
    const base = Date.now() + 1000;
    await consume(
      batchOf(QUEUE, [
        confirmation({ id: `note-a:${bookingId}`, bookingId, requestedAt: base }),
        confirmation({ id: `note-b:${bookingId}`, bookingId, requestedAt: base + 1 }),
      ]),
      provider,
    );
  });

  const path = () => `/api/v1/admin/bookings/${bookingId}/communications`;

  it("pages through a booking's messages oldest first, for staff and admins", async () => {
    const first = await call("GET", `${path()}?limit=2`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data.map((row: { id: string }) => row.id)).toEqual([`booking-confirmed:${bookingId}`, `note-a:${bookingId}`]);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call("GET", `${path()}?limit=2&cursor=${first.json.nextCursor}`, { token: admin });
    expect(second.status).toBe(200);
    expect(second.json.data.map((row: { id: string }) => row.id)).toEqual([`note-b:${bookingId}`]);
    expect(second.json.nextCursor).toBeNull();
  });

  it("needs a staff or admin token", async () => {
    expect((await call("GET", path())).status).toBe(401);
    const forbidden = await call("GET", path(), { token: customer });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe("FORBIDDEN");
  });

  it("answers 404 for an unknown booking and 400 for a cursor it did not make", async () => {
    const missing = await call("GET", `/api/v1/admin/bookings/bkg_nope_${unique()}/communications`, { token: staff });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: "NOT_FOUND", details: { resource: "Booking" } });
    const badCursor = await call("GET", `${path()}?cursor=${btoa(JSON.stringify(["x", 1]))}`, { token: staff });
    expect(badCursor.status).toBe(400);
    expect(badCursor.json.error.code).toBe("VALIDATION_FAILED");
    expect((await call("GET", `${path()}?limit=0`, { token: staff })).status).toBe(400);
  });
});
