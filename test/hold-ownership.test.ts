/**
 * A hold across sessions belongs to one booking attempt: a second booking naming it (a retry
 * without its key, a double click) never releases what the first committed, and a booking of
 * other sessions (or of one of them alone) cannot confirm a part of it.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { SessionDO } from "../src/durable-objects/session";
import { availability, dropInBookingBody, expireHolds, holdBody, postBooking, postHold, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeSchedule } from "./fixtures";

describe("a hold across sessions", () => {
  it("is not released by a second booking naming it while the first's commit stands; the held session completes by its alarm", async () => {
    const { sessions } = await makeSchedule({ sessions: 2, capacity: 3, pricePence: 1000 });
    const [a, b] = sessions.map((session) => session.id) as [string, string];
    const email = uniqueEmail("twice");
    const hold = await postHold(holdBody([a, b], 1, email));
    expect(hold.status).toBe(201);
    const body = dropInBookingBody([a, b], 1000, { holdId: hold.json.holdId, contact: { email, firstName: "Hol", lastName: "Der" } });

    // The first booking commits, confirms in A, and its caller dies before B.
    const original = SessionDO.prototype.confirm;
    const spy = vi.spyOn(SessionDO.prototype, "confirm").mockImplementation(async function (this: SessionDO, ...args) {
      if ((this as unknown as { ctx: DurableObjectState }).ctx.id.name === b) throw new Error("simulated caller crash");
      return original.apply(this, args);
    });
    try {
      expect((await postBooking(body)).status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    expect(await availability(b)).toMatchObject({ held: 1, booked: 0 });

    // The retry without a key is another booking: refused, and B's hold is left to the first.
    const again = await postBooking(body);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "already_booked" } });
    expect(await availability(b)).toMatchObject({ held: 1, booked: 0 });

    // B's alarm finds the commit and confirms: the first booking ends whole.
    await expireHolds(b);
    expect(await runDurableObjectAlarm(sessionStub(b))).toBe(true);
    for (const id of [a, b]) expect(await availability(id)).toMatchObject({ booked: 1, held: 0 });
  });

  it("cannot be confirmed in part: a one-session booking or a drop-in of other sessions naming it is refused, and the hold stays whole", async () => {
    const { sessions } = await makeSchedule({ sessions: 3, capacity: 3, pricePence: 1000 });
    const [a, b, c] = sessions.map((session) => session.id) as [string, string, string];
    const email = uniqueEmail("part");
    const contact = { email, firstName: "Hol", lastName: "Der" };
    const hold = await postHold(holdBody([a, b], 1, email));
    expect(hold.status).toBe(201);

    const single = await postBooking(singleBookingBody(a, 1000, { holdId: hold.json.holdId, contact }));
    expect(single.status).toBe(409);
    expect(single.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });

    const wider = await postBooking(dropInBookingBody([a, b, c], 1000, { holdId: hold.json.holdId, contact }));
    expect(wider.status).toBe(409);
    expect(wider.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });

    for (const id of [a, b]) expect(await availability(id)).toMatchObject({ held: 1, booked: 0 });
    expect(await availability(c)).toMatchObject({ held: 0, booked: 0 });
    // The hold's own booking still confirms it whole.
    const whole = await postBooking(dropInBookingBody([a, b], 1000, { holdId: hold.json.holdId, contact }));
    expect(whole.status).toBe(201);
    for (const id of [a, b]) expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
  });
});
