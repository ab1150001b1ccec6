import type { MessageBatchMessage, QueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { domainEvent } from "../src/domain/events";
import { consumeEvents } from "../src/jobs/events-consumer";
import { consumeWebhookDeliveries } from "../src/jobs/webhook-deliveries";
import { postBooking, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, eventually } from "./helpers";
import { admin, batchOf, createEndpoint, deliveriesOf, installReceiver, receiver, recordingQueue, cleanUp } from "./webhooks-helpers";

afterEach(cleanUp);

const confirmed = () =>
  domainEvent("BOOKING_CONFIRMED", {
    bookingId: `bkg_${crypto.randomUUID().slice(0, 12)}`,
    sessionId: "ses_fan",
    classId: "cls_fan",
    customerId: "cus_fan",
    email: "ada@example.test",
    seats: 2,
    amountPence: 5000,
    source: "web",
    data: { currency: "GBP", guestCount: 2, manageToken: "never-shared" },
  });

describe("webhooks: fan-out from the events consumer", () => {
  it("creates one delivery per subscribed, enabled endpoint, once however often the event comes", async () => {
    const r = receiver();
    const subscribed = await createEndpoint(r.url, ["booking.confirmed", "booking.cancelled"]);
    const other = await createEndpoint(receiver().url, ["booking.cancelled"]);
    const disabled = await createEndpoint(receiver().url, ["booking.confirmed"]);
    await call("PATCH", `/api/v1/admin/webhooks/${disabled.id}`, { token: await admin(), body: { status: "disabled" } });

    const event = confirmed();
    const viewed = domainEvent("COURSE_VIEWED", { classId: "cls_fan" });
    const { queue, sent } = recordingQueue();
    const first = batchOf("booking-events", [event, viewed]);
    await consumeEvents(first.batch, { ...env, WEBHOOKS: queue });
    expect(first.outcomes).toEqual([{ acked: true }, { acked: true }]);
    const rows = await deliveriesOf(subscribed.id);
    expect(rows).toEqual([expect.objectContaining({ event_type: "booking.confirmed", event_id: event.id, status: "pending", attempts: 0 })]);
    expect(sent.map((m) => m.deliveryId)).toContain(rows[0]!.id);
    expect(await deliveriesOf(other.id)).toHaveLength(0);
    expect(await deliveriesOf(disabled.id)).toHaveLength(0);

    // The same event again (a redelivered message): no second delivery, nothing queued twice.
    const queuedBefore = sent.length;
    const again = batchOf("booking-events", [event]);
    await consumeEvents(again.batch, { ...env, WEBHOOKS: queue });
    expect(again.outcomes).toEqual([{ acked: true }]);
    expect(await deliveriesOf(subscribed.id)).toHaveLength(1);
    expect(sent.slice(queuedBefore).map((m) => m.deliveryId)).not.toContain(rows[0]!.id);

    // What the subscriber receives: the facts and ids, signed; no email, no token.
    const delivery = batchOf("webhook-deliveries", [{ deliveryId: rows[0]!.id }]);
    await consumeWebhookDeliveries(delivery.batch, env, { fetch: r.fetch });
    expect(delivery.outcomes).toEqual([{ acked: true }]);
    const body = new Webhook(subscribed.secret).verify(r.received[0]!.body, r.received[0]!.headers);
    expect(body).toEqual({
      type: "booking.confirmed",
      timestamp: new Date(event.occurredAt).toISOString(),
      data: expect.objectContaining({ eventId: event.id, bookingId: event.bookingId, sessionId: "ses_fan", classId: "cls_fan", customerId: "cus_fan", seats: 2, amountPence: 5000, currency: "GBP" }),
    });
    expect(r.received[0]!.body).not.toMatch(/ada@example|never-shared/);
  });

  it("goes from the Worker's events queue handler to the receiver through the webhooks queue", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url, ["booking.confirmed"]);
    const event = confirmed();
    const handler = exports.default as unknown as { queue(queue: string, messages: MessageBatchMessage[]): Promise<QueueResult> };
    const result = await handler.queue("booking-events", [{ id: `m_${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: event }]);
    expect(result.outcome).toBe("ok");
    const message = await eventually(() => r.received.find((m) => m.body.includes(event.id)));
    expect(new Webhook(endpoint.secret).verify(message.body, message.headers)).toMatchObject({ type: "booking.confirmed", data: { bookingId: event.bookingId } });
    expect(message.headers["webhook-id"]).toBe((await deliveriesOf(endpoint.id))[0]!.id);
  });
});

describe("webhooks: session.full and session.reopened from the session's object", () => {
  it("sends session.full when the last seat is booked and session.reopened when a booking is cancelled", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url, ["session.full", "session.reopened"]);
    const { session, klass } = await makeBookableSession({ capacity: 2 });
    const bodiesFor = (type: string) =>
      r.received.map((m) => new Webhook(endpoint.secret).verify(m.body, m.headers) as { type: string; data: Record<string, unknown> }).filter((b) => b.type === type && b.data.sessionId === session.id);

    const one = await postBooking(singleBookingBody(session.id, klass.pricePence));
    expect(one.status).toBe(201);
    const two = await postBooking(singleBookingBody(session.id, klass.pricePence));
    expect(two.status).toBe(201);
    const [full] = await eventually(() => (bodiesFor("session.full").length > 0 ? bodiesFor("session.full") : null));
    expect(full!.data).toMatchObject({ sessionId: session.id, capacity: 2, booked: 2, held: 0, availableSpots: 0 });
    // Refused third booking: still full, nothing new.
    expect((await postBooking(singleBookingBody(session.id, klass.pricePence))).status).toBe(409);

    const cancelled = await call("POST", `/api/v1/bookings/${two.json.booking.id}/cancel?token=${two.json.manageToken}`);
    expect(cancelled.status).toBe(200);
    const [reopened] = await eventually(() => (bodiesFor("session.reopened").length > 0 ? bodiesFor("session.reopened") : null));
    expect(reopened!.data).toMatchObject({ sessionId: session.id, capacity: 2, booked: 1, availableSpots: 1 });

    // Exactly one of each: the first booking (1 of 2 seats) and the refusal changed nothing.
    const { results } = await env.DB.prepare(`SELECT type FROM events WHERE session_id = ? AND type IN ('SESSION_FULL', 'SESSION_REOPENED') ORDER BY occurred_at`).bind(session.id).all<{ type: string }>();
    expect(results.map((row) => row.type)).toEqual(["SESSION_FULL", "SESSION_REOPENED"]);
    expect(bodiesFor("session.full")).toHaveLength(1);
  });
});

describe("webhooks: booking.confirmed and booking.cancelled from a real booking", () => {
  // These events reach D1 with their attempt through the projection queue, not the events queue.
  it("a booking made and cancelled through the API arrives at the receiver as both", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url, ["booking.confirmed", "booking.cancelled"]);
    const { session, klass } = await makeBookableSession({ capacity: 3 });
    const booked = await postBooking(singleBookingBody(session.id, klass.pricePence));
    expect(booked.status).toBe(201);
    const bookingId = booked.json.booking.id as string;
    const bodies = () => r.received.map((m) => new Webhook(endpoint.secret).verify(m.body, m.headers) as { type: string; data: Record<string, unknown> }).filter((b) => b.data.bookingId === bookingId);

    const [confirmedBody] = await eventually(() => (bodies().some((b) => b.type === "booking.confirmed") ? bodies() : null));
    expect(confirmedBody).toMatchObject({ type: "booking.confirmed", data: { bookingId, sessionId: session.id, classId: klass.id } });
    const cancelled = await call("POST", `/api/v1/bookings/${bookingId}/cancel?token=${booked.json.manageToken}`);
    expect(cancelled.status).toBe(200);
    await eventually(() => bodies().find((b) => b.type === "booking.cancelled"));
    expect(bodies().map((b) => b.type)).toEqual(["booking.confirmed", "booking.cancelled"]);
    expect(r.received.map((m) => m.body).join("")).not.toContain(booked.json.manageToken);
  });
});
