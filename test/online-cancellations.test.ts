/**
 * Cancelling a booking paid online (issue 13): the customer gets back what was paid less the
 * class's late fee after the free window, staff cancellations refund in full, a repeat refunds
 * nothing twice, and a booking cancelled before paying closes its checkout (money after that is
 * refunded in full).
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as t from "../src/db/schema";
import { availability } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { bookOnline, checkout, db, deliverLocal, mailArrives, payOnlineOnly, paymentRow, readBooking, refundsOf } from "./online-booking-helpers";

/** A class paid online with a 48 h free window and a 50% late fee, its session `startsInHours` away, booked and paid. */
async function paidBooking(startsInHours: number) {
  const { session, klass } = await makeBookableSession({ capacity: 6, pricePence: 3001, startsInHours });
  await payOnlineOnly(klass.id);
  await db().update(t.classes).set({ freeCancellationHours: 48, lateCancellationFeePercent: 50, selfCancelCutoffHours: 2 }).where(eq(t.classes.id, klass.id));
  const booked = await bookOnline(session.id, { pricePence: 3001 });
  expect(booked.status).toBe(201);
  const { booking, payment, manageToken } = booked.json;
  expect((await checkout(payment.id, "pay")).json.action).toBe("confirm");
  return { session, bookingId: booking.id as string, paymentId: payment.id as string, manageToken: manageToken as string, email: booked.email };
}

const cancelAsCustomer = (bookingId: string, manageToken: string) => call("POST", `/api/v1/bookings/${bookingId}/cancel`, { headers: { "X-Manage-Token": manageToken } });

describe("cancelling a booking paid online", () => {
  it("refunds everything inside the free window, once, and tells the customer", async () => {
    const { bookingId, paymentId, manageToken, email } = await paidBooking(24 * 7);
    const cancelled = await cancelAsCustomer(bookingId, manageToken);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");
    expect(cancelled.json.paymentStatus).toBe("refunded");
    expect((await paymentRow(paymentId)).refundedPence).toBe(3001);
    await mailArrives(email, "Refund of £30.01");
    // Again: the same answer, no second refund.
    const again = await cancelAsCustomer(bookingId, manageToken);
    expect(again.status).toBe(200);
    const refunds = await db().select().from(t.refunds).where(eq(t.refunds.paymentId, paymentId));
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.requestedBy).toBe("customer");
  });

  it("keeps the late fee after the free window (rounded in the customer's favour), but never when staff cancel", async () => {
    const late = await paidBooking(24);
    const cancelled = await cancelAsCustomer(late.bookingId, late.manageToken);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.paymentStatus).toBe("partially_refunded");
    // 50% of 3001p kept is 1500p (rounded down), so 1501p goes back.
    expect((await paymentRow(late.paymentId)).refundedPence).toBe(1501);
    const [refund] = await db().select().from(t.refunds).where(eq(t.refunds.paymentId, late.paymentId));
    expect(refund!.reason).toContain("50%");

    const byStaff = await paidBooking(24);
    const staff = await tokenFor("staff");
    const staffCancel = await call("POST", `/api/v1/bookings/${byStaff.bookingId}/cancel`, { token: staff });
    expect(staffCancel.status).toBe(200);
    expect(staffCancel.json.paymentStatus).toBe("refunded");
    expect((await paymentRow(byStaff.paymentId)).refundedPence).toBe(3001);
  });

  it("closes the checkout of a booking cancelled before it was paid, freeing its seats; paying after that is refunded", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 6, pricePence: 2500 });
    await payOnlineOnly(klass.id);
    const booked = await bookOnline(session.id);
    const { booking, payment, manageToken } = booked.json;
    expect((await availability(session.id)).held).toBe(1);
    const cancelled = await cancelAsCustomer(booking.id, manageToken);
    expect(cancelled.status).toBe(200);
    expect((await availability(session.id)).held).toBe(0);
    expect((await paymentRow(payment.id)).status).toBe("failed");
    expect((await readBooking(booking.id, manageToken)).json.status).toBe("cancelled");
    const late = await checkout(payment.id, "pay");
    expect(late.json.action).toBe("refund_late");
    expect((await paymentRow(payment.id)).refundedPence).toBe(2500);
    expect((await availability(session.id)).booked).toBe(0);
  });

  it("keeps the studio's late fee when the request is repeated and the payment's webhook redelivered afterwards", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 6, pricePence: 3001, startsInHours: 24 });
    await payOnlineOnly(klass.id);
    await db().update(t.classes).set({ freeCancellationHours: 48, lateCancellationFeePercent: 100, selfCancelCutoffHours: 2 }).where(eq(t.classes.id, klass.id));
    const key = `key-${crypto.randomUUID()}`;
    const email = `late-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const booked = await bookOnline(session.id, { pricePence: 3001, email, idempotencyKey: key });
    const { booking, payment, manageToken } = booked.json;
    const eventId = `levt_${crypto.randomUUID().replaceAll("-", "")}`;
    expect((await deliverLocal({ id: payment.id, amountPence: 3001 }, eventId)).status).toBe(200);
    expect((await cancelAsCustomer(booking.id, manageToken)).status).toBe(200);
    // All of it kept (100% late fee): nothing refunded.
    expect((await paymentRow(payment.id)).refundedPence).toBe(0);
    // The booking request again, then the webhook again: neither gives the kept money back.
    expect((await bookOnline(session.id, { pricePence: 3001, email, idempotencyKey: key })).status).toBe(201);
    expect((await deliverLocal({ id: payment.id, amountPence: 3001 }, eventId)).json.duplicate).toBe(true);
    expect((await checkout(payment.id, "pay")).json.refund).toBeUndefined();
    expect((await paymentRow(payment.id)).refundedPence).toBe(0);
    expect(await refundsOf(payment.id)).toEqual([]);
  });
});
