/**
 * A move whose caller dies after the move's coordinator committed (or before): every object
 * evicted, the booking still ends in exactly one session — moved when committed, untouched when not.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { BookingCoordinatorDO } from "../src/durable-objects/coordinator";
import { availability, expireHolds, projectionCaughtUp, sessionStub } from "./booking-helpers";
import { call } from "./helpers";
import { book, d1Header, getBooking, ledgerStub, linesOf, postMove, sessionsOfOneClass } from "./move-helpers";

describe("a caller that dies after the move's commit", () => {
  /** Runs a move whose caller fails right after the commit (before confirming or cancelling anything), then evicts every object. */
  async function moveThatDies() {
    const { sessions } = await sessionsOfOneClass([2, 2]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const dies = vi.spyOn(BookingCoordinatorDO.prototype, "settleMove").mockImplementationOnce(async () => {
      throw new Error("simulated: the caller died after the commit");
    });
    let response;
    try {
      response = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
    } finally {
      dies.mockRestore();
    }
    expect(response.status).toBe(500);
    // Committed, nothing confirmed or cancelled yet: the target holds the seat, the source still has the line.
    expect(await availability(to.id)).toMatchObject({ booked: 0, held: 1 });
    expect(await availability(from.id)).toMatchObject({ booked: 1 });
    await abortAllDurableObjects();
    return { from, to, booking };
  }

  async function runLedgerAlarm(bookingId: string) {
    const ledger = await ledgerStub(bookingId);
    await runInDurableObject(ledger, (_instance, state) => {
      state.storage.sql.exec(`UPDATE moves SET check_at = 0 WHERE state = 'pending'`);
    });
    expect(await runDurableObjectAlarm(ledger)).toBe(true);
  }

  it("the ledger's alarm finishes it: moved, not both", async () => {
    const { from, to, booking } = await moveThatDies();
    await runLedgerAlarm(booking.id);
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(await projectionCaughtUp(from.id)).toEqual([{ bookingId: booking.id, seats: 1, status: "cancelled" }]);
    expect(await projectionCaughtUp(to.id)).toEqual([{ bookingId: booking.id, seats: 1, status: "confirmed" }]);
    expect(await d1Header(booking.id)).toMatchObject({ status: "confirmed" });
  });

  it("the target's hold expiring first confirms it from the commit; the ledger then lets the source go", async () => {
    const { from, to, booking } = await moveThatDies();
    await expireHolds(to.id);
    expect(await runDurableObjectAlarm(sessionStub(to.id))).toBe(true);
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    await runLedgerAlarm(booking.id);
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
  });

  it("a cancellation while a committed move is unfinished waits for it (409, retry), then frees the seat the move ended in", async () => {
    const { from, to, booking } = await moveThatDies();
    // Cancelling now could miss the seat the move is about to confirm: refused, nothing changed.
    const early = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.token } });
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ code: "MOVE_NOT_ALLOWED", details: { reason: "in_progress" } });
    expect(early.headers.get("Retry-After")).toBe("5");
    // The ledger finishes the move by its alarm; the cancellation then goes through and frees the new seat.
    await runLedgerAlarm(booking.id);
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.token } });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    expect(await availability(to.id)).toMatchObject({ booked: 0, held: 0, availableSpots: 2 });
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
    expect((await getBooking(booking.id, booking.token)).json.status).toBe("cancelled");
  });

  it("a repeat of the keyed request finishes it and answers the move", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const key = `move-${crypto.randomUUID()}`;
    const body = { fromSessionId: from.id, toSessionId: to.id };
    const dies = vi.spyOn(BookingCoordinatorDO.prototype, "settleMove").mockImplementationOnce(async () => {
      throw new Error("simulated: the caller died after the commit");
    });
    try {
      expect((await postMove(booking.id, body, { manageToken: booking.token, idempotencyKey: key })).status).toBe(500);
    } finally {
      dies.mockRestore();
    }
    await abortAllDurableObjects();
    const retried = await postMove(booking.id, body, { manageToken: booking.token, idempotencyKey: key });
    expect(retried.status, JSON.stringify(retried.json)).toBe(200);
    expect(linesOf(retried.json)).toEqual({ [from.id]: "cancelled", [to.id]: "confirmed" });
    expect(await availability(to.id)).toMatchObject({ booked: 1, held: 0 });
    expect(await availability(from.id)).toMatchObject({ booked: 0, held: 0 });
  });

  it("a caller that dies before the commit leaves the original: the ledger aborts the move and lets the target's hold go", async () => {
    const { sessions } = await sessionsOfOneClass([2, 2]);
    const [from, to] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const booking = await book(from.id);
    const dies = vi.spyOn(BookingCoordinatorDO.prototype, "decide").mockImplementationOnce(async () => {
      throw new Error("simulated: the caller died before the commit");
    });
    try {
      expect((await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token })).status).toBe(500);
    } finally {
      dies.mockRestore();
    }
    expect(await availability(to.id)).toMatchObject({ held: 1 });
    await abortAllDurableObjects();
    await runLedgerAlarm(booking.id);
    expect(await availability(to.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await availability(from.id)).toMatchObject({ booked: 1, held: 0 });
    expect(linesOf((await getBooking(booking.id, booking.token)).json)).toEqual({ [from.id]: "confirmed" });
    // The move is over: the booking can be moved again.
    const again = await postMove(booking.id, { fromSessionId: from.id, toSessionId: to.id }, { manageToken: booking.token });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
  });
});
