/**
 * Booking a class paid online (issue 13): 201 pending_payment with the checkout, the seats held in
 * the session's object until the payment's end, confirmed by the provider's verified webhook (here
 * the local provider's, through the same handler), let go when the checkout closes unpaid, and a
 * payment that finds its seats gone refunded in full with the customer told.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, expireHolds, postHold, projectionCaughtUp, reservationIn, sessionStub } from "./booking-helpers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { call, tokenFor, unique } from "./helpers";
import { bookOnline, checkout, d1PaymentStatus, deliverLocal, mailArrives, onlineSession, paymentRow, readBooking, refundsOf } from "./online-booking-helpers";
import { callWith } from "./payments-helpers";
import { closeExpiredCheckouts, finishPaidBookings } from "../src/jobs/payment-sweeps";
import { eq } from "drizzle-orm";
import * as t from "../src/db/schema";
import { db } from "./online-booking-helpers";

/** When a reservation's hold ends, as the session's object has it. */
function holdExpiry(sessionId: string, reservationId: string) {
  return runInDurableObject(sessionStub(sessionId), (_instance, state) => state.storage.sql.exec<{ expires_at: number }>(`SELECT expires_at FROM reservations WHERE id = ?`, reservationId).one().expires_at);
}

describe("an online booking", () => {
  it("answers pending_payment with the checkout, holds the seats, and is confirmed and paid once the webhook says so", async () => {
    const { session } = await onlineSession({ capacity: 8 });
    const before = Date.now();
    const booked = await bookOnline(session.id, { guestCount: 2 });
    expect(booked.status).toBe(201);
    const { booking, payment, manageToken } = booked.json;
    expect(booking.status).toBe("pending_payment");
    expect(booking.paymentStatus).toBe("pending");
    expect(payment.status).toBe("pending");
    expect(new URL(payment.checkoutUrl).pathname).toBe(`/dev/checkout/${payment.id}`);
    // The server's price, held for PAYMENT_HOLD_MINUTES (15).
    expect((await paymentRow(payment.id)).amountPence).toBe(5000);
    const expiresAt = Date.parse(payment.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(15 * 60_000 - 1000);
    expect(expiresAt - before).toBeLessThanOrEqual(15 * 60_000 + 5000);

    // Seats held, not booked: nobody else can have them meanwhile.
    const seatsHeld = await availability(session.id);
    expect(seatsHeld.held).toBe(2);
    expect(seatsHeld.booked).toBe(0);
    expect((await reservationIn(session.id, booking.id))?.status).toBe("held");
    const pending = await readBooking(booking.id, manageToken);
    expect(pending.status).toBe(200);
    expect(pending.json.status).toBe("pending_payment");

    const eventId = `levt_${unique()}${unique()}`;
    const paid = await deliverLocal({ id: payment.id, amountPence: 5000 }, eventId);
    expect(paid.status).toBe(200);
    expect(paid.json.duplicate).toBe(false);
    const after = await availability(session.id);
    expect(after.booked).toBe(2);
    expect(after.held).toBe(0);
    const confirmed = await readBooking(booking.id, manageToken);
    expect(confirmed.json.status).toBe("confirmed");
    expect(confirmed.json.paymentStatus).toBe("paid");
    await mailArrives(booked.email, "Booking confirmed");
    await projectionCaughtUp(session.id);
    expect(await d1PaymentStatus(booking.id)).toBe("paid");

    // The same delivery again (its event id recorded) changes nothing; so does another success event.
    expect((await deliverLocal({ id: payment.id, amountPence: 5000 }, eventId)).json.duplicate).toBe(true);
    expect((await checkout(payment.id, "pay")).json.action).toBe("none");
    expect((await availability(session.id)).booked).toBe(2);
    expect((await paymentRow(payment.id)).refundedPence).toBe(0);
    expect(await refundsOf(payment.id)).toEqual([]);
  });

  it("lets the seats go when the checkout is cancelled, and the booking reads expired", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const booked = await bookOnline(session.id);
    const { booking, payment, manageToken } = booked.json;
    expect((await availability(session.id)).held).toBe(1);
    const cancelled = await checkout(payment.id, "cancel");
    expect(cancelled.json.action).toBe("release");
    expect((await availability(session.id)).held).toBe(0);
    const read = await readBooking(booking.id, manageToken);
    expect(read.status, read.text).toBe(200);
    expect(read.json.status).toBe("expired");
    expect(read.json.paymentStatus).toBe("failed");
    // Paying after the close is refunded in full, and the customer is told.
    const late = await checkout(payment.id, "pay");
    expect(late.json.action).toBe("refund_late");
    expect(late.json.refund.amountPence).toBe(2500);
    expect((await availability(session.id)).booked).toBe(0);
    await mailArrives(booked.email, "Refund of £25.00");
  });

  it("keeps the seats held through a declined card, so the customer can try another", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const { booking, payment } = (await bookOnline(session.id)).json;
    expect((await checkout(payment.id, "decline")).json.action).toBe("none");
    expect((await reservationIn(session.id, booking.id))?.status).toBe("held");
    expect((await checkout(payment.id, "pay")).json.action).toBe("confirm");
    expect((await availability(session.id)).booked).toBe(1);
  });

  it("refunds in full, and tells the customer, when the money finds the seats gone (the hold let go by its alarm)", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const booked = await bookOnline(session.id);
    const { booking, payment } = booked.json;
    // The object's hold ends (its clock ran out) before the payment is in: the seats go back.
    await expireHolds(session.id);
    await runDurableObjectAlarm(sessionStub(session.id));
    expect((await reservationIn(session.id, booking.id))?.status).toBe("released");
    const eventId = `levt_${unique()}${unique()}`;
    expect((await deliverLocal({ id: payment.id, amountPence: 2500 }, eventId)).status).toBe(200);
    expect((await paymentRow(payment.id)).refundedPence).toBe(2500);
    expect(await refundsOf(payment.id)).toHaveLength(1);
    expect((await availability(session.id)).booked).toBe(0);
    await mailArrives(booked.email, "Refund of £25.00");
    // Redelivered, the success neither confirms nor refunds again.
    expect((await deliverLocal({ id: payment.id, amountPence: 2500 }, eventId)).json.duplicate).toBe(true);
    expect(await refundsOf(payment.id)).toHaveLength(1);
    expect((await availability(session.id)).booked).toBe(0);
  });

  it("closes checkouts whose hold ended unpaid (the sweep), letting the seats go; money after that is refunded", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const { booking, payment } = (await bookOnline(session.id)).json;
    // Not due yet: nothing closes.
    expect(await closeExpiredCheckouts(env, Date.now())).toBe(0);
    expect(await closeExpiredCheckouts(env, Date.parse(payment.expiresAt) + 1)).toBeGreaterThanOrEqual(1);
    expect((await paymentRow(payment.id)).status).toBe("failed");
    expect((await reservationIn(session.id, booking.id))?.status).toBe("released");
    const late = await checkout(payment.id, "pay");
    expect(late.json.action).toBe("refund_late");
    expect((await paymentRow(payment.id)).refundedPence).toBe(2500);
  });

  it("replays a keyed request with the same checkout, and opens one payment", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const email = `keyed-${unique()}@example.test`;
    const key = `key-${unique()}`;
    const first = await bookOnline(session.id, { email, idempotencyKey: key });
    const second = await bookOnline(session.id, { email, idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.json.booking.id).toBe(first.json.booking.id);
    expect(second.json.payment).toEqual(first.json.payment);
    expect(second.json.checkout).toBeUndefined();
    expect((await availability(session.id)).held).toBe(1);
  });

  it("keeps a checkout hold for the payment when the booking names it, once", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const email = `hold-${unique()}@example.test`;
    const hold = await postHold({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email, firstName: "Ada", lastName: "Lovelace" } });
    expect(hold.status).toBe(201);
    const booked = await bookOnline(session.id, { email, holdId: hold.json.holdId });
    expect(booked.status).toBe(201);
    expect(booked.json.booking.status).toBe("pending_payment");
    // The hold now lasts as long as the payment (and a minute's grace).
    const row = await reservationIn(session.id, hold.json.holdId);
    expect(row?.booking_id).toBe(booked.json.booking.id);
    const holdEnds = await holdExpiry(session.id, hold.json.holdId);
    expect(holdEnds).toBeGreaterThanOrEqual(Date.parse(booked.json.payment.expiresAt) + 59_000);
    // Booking again on the same hold names the same booking and checkout: the hold is not stretched twice.
    const again = await bookOnline(session.id, { email, holdId: hold.json.holdId });
    expect(again.json.booking.id).toBe(booked.json.booking.id);
    expect(again.json.payment.id).toBe(booked.json.payment.id);
    expect(await holdExpiry(session.id, hold.json.holdId)).toBe(holdEnds);
    expect((await checkout(booked.json.payment.id, "pay")).json.action).toBe("confirm");
    expect((await availability(session.id)).booked).toBe(1);
  });

  it("is refused before any seat is held when no payment provider is configured, and staff bookings confirm at once, unpaid", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const refused = await callWith({ PAYMENT_PROVIDER: "none" }, "POST", "/api/v1/bookings", {
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.77" },
      body: JSON.stringify({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email: `np-${unique()}@example.test`, firstName: "Ada", lastName: "Lovelace" }, totalAmountPence: 2500, currency: "GBP" }),
    });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("PAYMENT_UNAVAILABLE");
    expect((await availability(session.id)).held).toBe(0);

    const staff = await tokenFor("staff");
    const byStaff = await call("POST", "/api/v1/bookings", {
      token: staff,
      body: { registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email: `desk-${unique()}@example.test`, firstName: "Ada", lastName: "Lovelace" }, totalAmountPence: 2500, currency: "GBP" },
    });
    expect(byStaff.status).toBe(201);
    expect(byStaff.json.booking.status).toBe("confirmed");
    expect(byStaff.json.booking.paymentStatus).toBe("unpaid");
    expect(byStaff.json.payment).toBeUndefined();
  });

  it("finishes a paid booking whose confirmation never completed (the sweep), and reads it pending meanwhile, never expired", async () => {
    const { session } = await onlineSession({ capacity: 3 });
    const { booking, payment, manageToken } = (await bookOnline(session.id)).json;
    // The payment row says paid (the webhook's first write) but the seats were never confirmed (the object was unreachable).
    const paidAt = new Date(Date.now() - 10 * 60_000);
    await db().update(t.payments).set({ status: "paid", paidPence: 2500, paidAt }).where(eq(t.payments.id, payment.id));
    expect((await readBooking(booking.id, manageToken)).json.status).toBe("pending_payment");
    expect(await finishPaidBookings(env, Date.now())).toBeGreaterThanOrEqual(1);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 1 });
    expect((await readBooking(booking.id, manageToken)).json.status).toBe("confirmed");
    // Finished once: the next sweep leaves it alone.
    await finishPaidBookings(env, Date.now());
    expect((await availability(session.id)).booked).toBe(1);
  });
});
