/**
 * The projection Queue's consumer through the Worker's real queue handler: a batch failing halfway
 * (D1 refusing one booking's rows) acknowledges what D1 took and retries only the rest, which lands
 * once D1 takes it; and a coordinator evicted between its commit and the last confirm still has
 * the commit, so the session left holding confirms by its alarm.
 */
import { evictDurableObject, type MessageBatchMessage, type QueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { LineChange } from "../src/domain/projection";
import { SessionDO } from "../src/durable-objects/session";
import { guestScopeOf } from "../src/middleware/idempotency";
import { keyedCoordinatorName } from "../src/services/session-client";
import { availability, coordinatorStub, d1Lines, expireHolds, fullScheduleBookingBody, postBooking, projectionCaughtUp, sessionStub, uniqueEmail, testProjection } from "./booking-helpers";
import { makeBookableSession, makeCustomer, makeSchedule } from "./fixtures";

async function deliver(bodies: unknown[]) {
  const messages = bodies.map((body) => ({ id: `msg_${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body }));
  const handler = exports.default as unknown as { queue(queue: string, messages: MessageBatchMessage[]): Promise<QueueResult> };
  const result = await handler.queue("booking-projection", messages);
  return { result, ids: messages.map((message) => message.id) };
}

async function lineChange(sessionId: string, classId: string, status: "confirmed" | "cancelled" = "confirmed"): Promise<{ kind: "line"; change: LineChange }> {
  const id = `bkg_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}-${sessionId}`;
  const email = uniqueEmail("projection");
  const booking = testProjection({ id, customerId: `cus_${crypto.randomUUID().replaceAll("-", "")}`, customer: { email, firstName: "Pro", lastName: "Jection", phone: null }, classId });
  return { kind: "line", change: { booking, sessionId, seats: 1, status, version: 1, at: Date.now() } };
}

describe("the projection consumer", () => {
  it("acknowledges what D1 took from a batch failing halfway, retries only the rest, and lands it once D1 takes it", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10 });
    const [a, poisoned, c] = await Promise.all([lineChange(session.id, klass.id), lineChange(session.id, klass.id), lineChange(session.id, klass.id)]);
    const trigger = `refuse_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    await env.DB.exec(`CREATE TRIGGER ${trigger} BEFORE INSERT ON booking_sessions WHEN NEW.booking_id = '${poisoned!.change.booking.id}' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    let outcome;
    try {
      outcome = await deliver([a, poisoned, c]);
    } finally {
      await env.DB.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    const { result, ids } = outcome;
    expect(result.explicitAcks.sort()).toEqual([ids[0], ids[2]].sort());
    expect(result.retryMessages.map((message) => message.msgId)).toEqual([ids[1]]);
    // Nothing of the refused message was half-written: its whole transaction was rolled back.
    expect((await d1Lines(session.id)).map((line) => line.bookingId).sort()).toEqual([a!.change.booking.id, c!.change.booking.id].sort());
    const header = await env.DB.prepare(`SELECT id FROM bookings WHERE id = ?`).bind(poisoned!.change.booking.id).first();
    expect(header).toBeNull();

    // Its redelivery, with D1 taking writes again, lands it; redelivering the others writes nothing twice.
    const again = await deliver([poisoned, a, c]);
    expect(again.result.retryMessages).toEqual([]);
    expect((await d1Lines(session.id)).map((line) => line.bookingId).sort()).toEqual([a!.change.booking.id, poisoned!.change.booking.id, c!.change.booking.id].sort());
  });
});

describe("bookings committed before the projection carried their contact", () => {
  it("project under the customer id they name (D1's own profile), for their cancellations too", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10 });
    const customer = await makeCustomer();
    const message = await lineChange(session.id, klass.id, "cancelled");
    const { customer: _contact, ...legacy } = message.change.booking;
    const { result } = await deliver([{ kind: "line", change: { ...message.change, booking: { ...legacy, customerId: customer.id } } }]);
    expect(result.retryMessages).toEqual([]);
    const row = await env.DB.prepare(`SELECT customer_id, status FROM bookings WHERE id = ?`).bind(message.change.booking.id).first();
    expect(row).toEqual({ customer_id: customer.id, status: "cancelled" });
  });
});

describe("a coordinator evicted between its commit and the last confirm", () => {
  it("keeps its commit, so the session left holding confirms by its alarm and the booking ends whole", async () => {
    const { pattern, sessions } = await makeSchedule({ sessions: 3, capacity: 3, pricePence: 1000, fullSchedulePricePence: 6000 });
    const last = sessions[2]!.id;
    const original = SessionDO.prototype.confirm;
    // The caller dies before confirming in the last session.
    const spy = vi.spyOn(SessionDO.prototype, "confirm").mockImplementation(async function (this: SessionDO, ...args) {
      const { ctx } = this as unknown as { ctx: DurableObjectState };
      if (ctx.id.name === last) throw new Error("simulated caller crash");
      return original.apply(this, args);
    });
    const key = `evict-${crypto.randomUUID()}`;
    const body = fullScheduleBookingBody(pattern.id, 6000);
    let response;
    try {
      response = await postBooking(body, { idempotencyKey: key });
    } finally {
      spy.mockRestore();
    }
    expect(response.status).toBe(500);
    expect(await availability(last)).toMatchObject({ held: 1, booked: 0 });

    const coordinator = coordinatorStub(await keyedCoordinatorName(await guestScopeOf(body.contact.email), key));
    const before = await coordinator.decision();
    expect(before).toMatchObject({ decision: "commit" });
    await evictDurableObject(coordinator);
    expect(await coordinator.decision()).toEqual(before);

    await expireHolds(last);
    expect(await runDurableObjectAlarm(sessionStub(last))).toBe(true);
    for (const session of sessions) expect(await availability(session.id)).toMatchObject({ booked: 1, held: 0 });
    const lines = await projectionCaughtUp(last);
    expect(lines).toEqual([expect.objectContaining({ status: "confirmed", seats: 1 })]);
    // The price of the line confirmed by the alarm is the committed one.
    const row = await env.DB.prepare(`SELECT price_pence FROM booking_sessions WHERE session_id = ?`).bind(last).first<{ price_pence: number }>();
    expect(row!.price_pence).toBe(2000);
  });
});
