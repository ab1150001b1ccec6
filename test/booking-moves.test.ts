/**
 * Moving a booking to another session of its class (POST /api/v1/bookings/{id}/move): the target
 * seat is held before the source seat is let go, so the booking is never in neither session and
 * never left in both — under refusals, races for the last seat and repeats. A caller that dies
 * mid-move: test/booking-moves-faults.test.ts.
 */
import { describe, expect, it } from "vitest";
import { availability, doLines, nextClientIp, postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail, withD1WritesRefused } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { book, d1Header, getBooking, HOUR, linesOf, postMove, PRICE, sessionsOfOneClass } from "./move-helpers";
import { newestMessage } from "./sign-in-helpers";

describe("moving a booking", () => {
  it("moves the line: GET shows it at once and after the projection drains; the source seat is free, the target's taken", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id, 2);
    // D1 has the booking before the move, so the GET below must not answer from its stale copy.
    await projectionCaughtUp(from.id);

    const moved = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);
    expect(moved.json).toMatchObject({ id: booking.id, status: "confirmed", guestCount: 2, totalAmountPence: 2 * PRICE });
    expect(linesOf(moved.json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(moved.json.lines.find((line: { sessionId: string }) => line.sessionId === to.id)).toMatchObject({ seats: 2, pricePence: 2 * PRICE, startsAt: to.startsAt.toISOString() });

    const now = await getBooking(booking.id, booking.token);
    expect(now.status).toBe(200);
    expect(linesOf(now.json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(now.json.status).toBe("confirmed");

    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0, availableSpots: 2 });
    expect(await availability(to.id)).toMatchObject({ booked: 2, held: 0, availableSpots: 0 });
    expect(await projectionCaughtUp(from.id)).toEqual([{ bookingId: booking.id, seats: 2, status: "cancelled" }]);
    expect(await projectionCaughtUp(to.id)).toEqual([{ bookingId: booking.id, seats: 2, status: "confirmed" }]);
    expect(await d1Header(booking.id)).toMatchObject({ status: "confirmed", guestCount: 2, total: 2 * PRICE });
    const drained = await getBooking(booking.id, booking.token);
    expect(linesOf(drained.json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(drained.json.status).toBe("confirmed");

    // The customer is told once, with the new time and a link that opens the booking.
    const message = await newestMessage(booking.email, /Booking moved/);
    expect(message.text).toContain(booking.id);
    expect(message.text).toMatch(/has moved from .+ to .+\./);
    const { json: mailbox } = await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(booking.email)}`);
    expect(mailbox.data.filter((m: { subject: string }) => /Booking moved/.test(m.subject))).toHaveLength(1);
    expect(mailbox.data.some((m: { subject: string }) => /Booking cancelled/.test(m.subject))).toBe(false);

    // Cancelling the moved booking frees the target seat (the cancelled source line changes nothing).
    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.token } });
    expect(cancelled.status).toBe(200);
    expect(await availability(to.id)).toMatchObject({ booked: 0, availableSpots: 2 });
  });

  it("while D1 refuses writes, a booking moves and is read from its objects in its new session; D1 converges after", async () => {
    const { sessions } = await sessionsOfOneClass([1, 1]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await withD1WritesRefused(async () => {
      const booking = await book(from.id);
      const moved = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
      expect(moved.status, JSON.stringify(moved.json)).toBe(200);
      // D1 has nothing of it: the id names the source session, whose line is cancelled; the ledger knows where it went.
      expect(await d1Header(booking.id)).toBeNull();
      const read = await getBooking(booking.id, booking.token);
      expect(read.status).toBe(200);
      expect(read.json.status).toBe("confirmed");
      expect(linesOf(read.json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
      return booking;
    });
    expect(await projectionCaughtUp(to.id, 30_000)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
    expect(await projectionCaughtUp(from.id, 30_000)).toEqual([{ bookingId: booking.id, seats: 1, status: "cancelled" }]);
    expect(await d1Header(booking.id)).toMatchObject({ status: "confirmed" });
  });

  it("target full: 409 and the original untouched, no seat left held in the target", async () => {
    const { sessions } = await sessionsOfOneClass([2, 1]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    await book(to.id);
    const refused = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
    expect(refused.status).toBe(409);
    expect(["SESSION_FULL", "INSUFFICIENT_CAPACITY"]).toContain(refused.json.error.code);
    expect(await availability(from.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "confirmed" });
  });

  it("refuses what is not a move: the same session, another class, a session it is not in, a duplicate in the target, bad input", async () => {
    const { sessions } = await sessionsOfOneClass([3, 3]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const same = await postMove(booking.id, { fromSessionId: from.id, toSessionId: from.id }, { manageToken: booking.token });
    expect(same.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "same_session" } });

    const { session: elsewhere } = await makeBookableSession({ capacity: 3, pricePence: PRICE });
    const otherClass = await postMove(booking.id, { fromSessionId: from.id, toSessionId: elsewhere.id }, { manageToken: booking.token });
    expect(otherClass.status).toBe(409);
    expect(otherClass.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "other_class" } });

    const notIn = await postMove(booking.id, { fromSessionId: to.id, toSessionId: from.id }, { manageToken: booking.token });
    expect(notIn.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "not_in_booking" } });

    const unknown = await postMove(booking.id, { fromSessionId: from.id, toSessionId: "ses_nosuchsession" }, { manageToken: booking.token });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("SESSION_NOT_FOUND");

    await book(to.id, 1, booking.email);
    const duplicate = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe("DUPLICATE_BOOKING");
    expect(duplicate.json.error.details).not.toHaveProperty("existingBookingId");
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });

    const missing = await postMove(booking.id, { fromSessionId: from.id }, { manageToken: booking.token });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.issues[0].path).toBe("toSessionId");

    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.token } });
    expect(cancelled.status).toBe(200);
    const { session: third } = await makeBookableSession({ classId: (await getBooking(booking.id, booking.token)).json.classId, capacity: 3 });
    const ofCancelled = await postMove(booking.id, { fromSessionId: from.id, toSessionId: third.id }, { manageToken: booking.token });
    expect(ofCancelled.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "cancelled" } });
    expect(await availability(third.id)).toMatchObject({ booked: 0, held: 0 });
  });

  it("another customer's booking is refused as cancel refuses it; staff may move it", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const body = { fromSessionId: from.id, toSessionId: to.id };
    expect((await postMove(booking.id, body)).status).toBe(401);
    expect((await postMove(booking.id, body, { token: await tokenFor("customer") })).status).toBe(403);
    const other = await book(from.id);
    expect((await postMove(booking.id, body, { manageToken: other.token })).status).toBe(403);
    expect((await postMove("bkg_0000000000000000-ses_nosuch", body, { token: await tokenFor("staff") })).status).toBe(404);
    expect(await availability(to.id)).toMatchObject({ booked: 0, held: 0 });
    // The owner signed in may.
    const owned = await postMove(booking.id, body, { token: await tokenFor("customer", booking.email) });
    expect(owned.status, JSON.stringify(owned.json)).toBe(200);
  });

  it("customers move only until the policy's self-cancel cutoff of the source session; staff at any time", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2], { freeCancellationHours: 48, selfCancelCutoffHours: 12 }, [5, 24 * 7]);
    const [soon, later] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(soon.id);
    const body = { fromSessionId: soon.id, toSessionId: later.id };
    const refused = await postMove(booking.id, body, { manageToken: booking.token });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "SELF_CANCELLATION_CLOSED", details: { selfCancelCutoffHours: 12 } });
    expect(await availability(later.id)).toMatchObject({ booked: 0, held: 0 });
    expect(soon.startsAt.getTime() - Date.now()).toBeLessThan(12 * HOUR);

    const byStaff = await postMove(booking.id, body, { token: await tokenFor("staff") });
    expect(byStaff.status, JSON.stringify(byStaff.json)).toBe(200);
    expect(linesOf(byStaff.json)).toEqual({ [soon.id]: "cancelled", [later.id]: "confirmed" });
  });

  it("customers move only while cancelling is free: after the free window (a late fee due) they ask the studio", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2], { freeCancellationHours: 48, lateCancellationFeePercent: 50, selfCancelCutoffHours: 2 }, [24, 24 * 7]);
    const [soon, later] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(soon.id);
    const body = { fromSessionId: soon.id, toSessionId: later.id };
    // Inside the late window a customer could still cancel (with the fee), but not move away from it.
    const refused = await postMove(booking.id, body, { manageToken: booking.token });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "late_window", feePercent: 50 } });
    expect(await availability(later.id)).toMatchObject({ booked: 0, held: 0 });
    // Control: the same move from a session still in its free window goes through.
    const { sessions: free } = await sessionsOfOneClass([2, 2], { freeCancellationHours: 48, lateCancellationFeePercent: 50, selfCancelCutoffHours: 2 }, [24 * 5, 24 * 9]);
    const early = await book(free[0]!.id);
    const moved = await postMove(early.id, { fromSessionId: free[0]!.id, toSessionId: free[1]!.id }, { manageToken: early.token });
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);
  });

  it("an Idempotency-Key replays the first answer; the key with another body is refused; nothing moves twice", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2, 2]);
    const [from, to, third] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const key = `move-${crypto.randomUUID()}`;
    const body = { fromSessionId: from.id, toSessionId: to.id };
    const ip = nextClientIp();
    const first = await postMove(booking.id, body, { manageToken: booking.token, idempotencyKey: key, ip });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const again = await postMove(booking.id, body, { manageToken: booking.token, idempotencyKey: key, ip });
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    const reused = await postMove(booking.id, { fromSessionId: to.id, toSessionId: third.id }, { manageToken: booking.token, idempotencyKey: key, ip });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Without the key, the same request is a new move: the booking is no longer in the source.
    const unkeyed = await postMove(booking.id, body, { manageToken: booking.token });
    expect(unkeyed.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED" });
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await availability(third.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await doLines(to.id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);

    // And it moves on from there: a second move starts from the first one's result.
    const onwards = await postMove(booking.id, { fromSessionId: to.id, toSessionId: third.id }, { manageToken: booking.token });
    expect(onwards.status, JSON.stringify(onwards.json)).toBe(200);
    expect(linesOf(onwards.json)).toEqual({ [from.id]: "cancelled", [to.id]: "cancelled", [third.id]: "confirmed" });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "cancelled", [to.id]: "cancelled", [third.id]: "confirmed" });
  });
});

describe("moves racing for the last seat", () => {
  /** Movers and buyers all at once for `targetCapacity` seats; returns who got in. */
  async function race(targetCapacity: number) {
    const { sessions } = await sessionsOfOneClass([4, targetCapacity]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const movers = [await book(from.id), await book(from.id), await book(from.id)];
    const [moves, buys] = await Promise.all([
      Promise.all(movers.map((mover) => postMove(mover.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: mover.token }))),
      Promise.all([1, 2, 3].map(() => postBooking(singleBookingBody(to.id, PRICE)))),
    ]);
    return { from, to, movers, moves, buys };
  }

  it("one seat left: exactly one of three moves and three buyers gets it; the losing movers keep their seats", async () => {
    const { from, to, movers, moves, buys } = await race(1);
    const won = moves.filter((response) => response.status === 200).length + buys.filter((response) => response.status === 201).length;
    expect(won).toBe(1);
    for (const response of [...moves, ...buys].filter((r) => r.status !== 200 && r.status !== 201)) {
      expect(response.status, JSON.stringify(response.json)).toBe(409);
      expect(["SESSION_FULL", "INSUFFICIENT_CAPACITY"]).toContain(response.json.error.code);
    }
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0, availableSpots: 0 });
    const movedCount = moves.filter((response) => response.status === 200).length;
    expect(await availability(from.id)).toMatchObject({ booked: 3 - movedCount, held: 0 });
    for (const [index, mover] of movers.entries()) {
      const lines = linesOf((await getBooking(mover.id, mover.token)).json);
      expect(lines).toEqual(moves[index]!.status === 200 ? { [from.id]: "cancelled", [to.id]: "confirmed" } : { [from.id]: "confirmed" });
    }
    const confirmedInTarget = (await projectionCaughtUp(to.id)).filter((line) => line.status === "confirmed");
    expect(confirmedInTarget.reduce((sum, line) => sum + line.seats, 0)).toBe(1);
  });

  it("CONTROL: with room for all six, every move and every purchase succeeds (the requests really ran together)", async () => {
    const { from, to, moves, buys } = await race(6);
    expect(moves.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(buys.map((response) => response.status)).toEqual([201, 201, 201]);
    expect(await availability(to.id)).toMatchObject({ booked: 6, held: 0 });
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
  });
});

describe("moves of one booking at once", () => {
  it("two moves of the same booking to different sessions, in parallel: one wins, the booking ends in exactly one session", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2, 2]);
    const [from, first, second] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const answers = await Promise.all(
      [first, second].map((to) => postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.status === 409)!.json.error.code).toMatch(/^(MOVE_NOT_ALLOWED|HOLD_EXPIRED)$/);
    const winner = answers.findIndex((answer) => answer.status === 200);
    const [won, lost] = winner === 0 ? [first, second] : [second, first];
    expect(await availability(won.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await availability(lost.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "cancelled", [won.id]: "confirmed" });
  });

  it("CONTROL: the same two moves of two bookings both succeed", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2, 2]);
    const [from, first, second] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
    const bookings = [await book(from.id), await book(from.id)];
    const answers = await Promise.all(
      [first, second].map((to, index) => postMove(bookings[index]!.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: bookings[index]!.token })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
  });

  it("a session of a drop-in booking moves; its other session stays", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2, 2]);
    const [kept, from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0], (typeof sessions)[0]];
    const created = await postBooking({
      registrationType: "DROP_IN",
      sessionIds: [kept.id, from.id],
      guestCount: 1,
      contact: { email: uniqueEmail("dropin"), firstName: "Drop", lastName: "In" },
      totalAmountPence: 2 * PRICE,
      currency: "GBP",
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const { id, lines } = created.json.booking;
    const token = created.json.manageToken;
    const moved = await postMove(id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: token });
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);
    expect(linesOf(moved.json)).toEqual({ [kept.id]: "confirmed", [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(moved.json.lines.find((line: { sessionId: string }) => line.sessionId === to.id).pricePence).toBe(
      lines.find((line: { sessionId: string }) => line.sessionId === from.id).pricePence,
    );
    expect(linesOf((await getBooking(id, token)).json)).toEqual({ [kept.id]: "confirmed", [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(await availability(kept.id)).toMatchObject({ booked: 1 });
    expect(await availability(from.id)).toMatchObject({ booked: 0 });
    expect(await availability(to.id)).toMatchObject({ booked: 1 });
    await projectionCaughtUp(to.id);
    await projectionCaughtUp(from.id);
    expect(await d1Header(id)).toMatchObject({ status: "confirmed", total: 2 * PRICE });
    expect(linesOf((await getBooking(id, token)).json)).toEqual({ [kept.id]: "confirmed", [from.id]: "cancelled", [to.id]: "confirmed" });
  });
});
