/**
 * Online payment for bookings spanning sessions (drop-ins, the full course): every session holds
 * the seats for the payment, the coordinator commits once paid and every session confirms; a
 * hold that expires first makes the coordinator abort, so the payment is refunded and nothing is
 * half-booked. Stripe-format webhooks (signed with the stripe package) settle the same way.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as t from "../src/db/schema";
import { availability, dropInBookingBody, expireHolds, fullScheduleBookingBody, postBooking, reservationIn, sessionStub } from "./booking-helpers";
import { checkout, db, mailArrives, onlineSchedule, paymentRow, payOnlineOnly, readBooking } from "./online-booking-helpers";
import { callWith, completedSession, STRIPE_SETTINGS, stripeEvent, stripeSignature } from "./payments-helpers";
import { makeBookableSession } from "./fixtures";

describe("online payment across sessions", () => {
  it("a drop-in over two sessions is held in both, then confirmed in both once paid", async () => {
    const { sessions } = await onlineSchedule({ sessions: 3, capacity: 6 });
    const picked = [sessions[0]!.id, sessions[2]!.id];
    const booked = await postBooking(dropInBookingBody(picked, 2500));
    expect(booked.status).toBe(201);
    const { booking, payment, manageToken } = booked.json;
    expect(booking.status).toBe("pending_payment");
    expect((await paymentRow(payment.id)).amountPence).toBe(5000);
    for (const id of picked) expect((await availability(id)).held).toBe(1);
    expect((await availability(sessions[1]!.id)).held).toBe(0);

    const paid = await checkout(payment.id, "pay");
    expect(paid.json.booking).toBe("confirmed");
    for (const id of picked) expect(await availability(id)).toMatchObject({ held: 0, booked: 1 });
    const read = await readBooking(booking.id, manageToken);
    expect(read.json.status).toBe("confirmed");
    expect(read.json.lines.map((line: { status: string }) => line.status)).toEqual(["confirmed", "confirmed"]);
  });

  it("a full course whose hold expired in one session before the money came: the coordinator aborts, nothing is booked, the money goes back", async () => {
    const { sessions, pattern } = await onlineSchedule({ sessions: 3, capacity: 6 });
    const booked = await postBooking(fullScheduleBookingBody(pattern.id, 6000));
    expect(booked.status).toBe(201);
    const { booking, payment } = booked.json;
    expect((await paymentRow(payment.id)).amountPence).toBe(6000);
    // One session's hold runs out first: its alarm asks the coordinator, which records abort.
    await expireHolds(sessions[1]!.id);
    await runDurableObjectAlarm(sessionStub(sessions[1]!.id));
    expect((await reservationIn(sessions[1]!.id, booking.id))?.status).toBe("released");

    const paid = await checkout(payment.id, "pay");
    expect(paid.json.booking).toBe("seats_gone");
    expect(paid.json.refund.amountPence).toBe(6000);
    // All or nothing: the other sessions let their holds go, none booked a seat.
    for (const session of sessions) expect(await availability(session.id)).toMatchObject({ held: 0, booked: 0 });
    await mailArrives(booked.json.booking.customer.email, "Refund of £60.00");
  });

  it("settles from Stripe's signed checkout.session.completed the same way, and a replay of it changes nothing", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 4, pricePence: 1999 });
    await payOnlineOnly(klass.id);
    // The Stripe provider's checkout: its API is not reachable here, so the payment row is made the
    // way startPayment leaves it once Stripe answered (a cs_… session), on a booking made locally.
    const booked = await postBooking({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email: `stripe-${crypto.randomUUID().slice(0, 8)}@example.test`, firstName: "Ada", lastName: "Lovelace" }, totalAmountPence: 1999, currency: "GBP" });
    const { booking, payment } = booked.json;
    const checkoutRef = `cs_test_${crypto.randomUUID().replaceAll("-", "")}`;
    await db().update(t.payments).set({ provider: "stripe", providerRef: checkoutRef }).where(eq(t.payments.id, payment.id));

    const event = stripeEvent("checkout.session.completed", completedSession(checkoutRef, payment.id, 1999, `pi_${crypto.randomUUID().slice(0, 12)}`));
    const body = JSON.stringify(event);
    const send = async () => callWith(STRIPE_SETTINGS, "POST", "/api/v1/payments/webhooks/stripe", { headers: { "Content-Type": "application/json", "Stripe-Signature": await stripeSignature(body) }, body });
    expect((await send()).status).toBe(200);
    expect(await availability(session.id)).toMatchObject({ held: 0, booked: 1 });
    expect((await paymentRow(payment.id)).status).toBe("paid");
    const replay = await send();
    expect(replay.status).toBe(200);
    expect(replay.json.duplicate).toBe(true);
    expect((await availability(session.id)).booked).toBe(1);
    // A forged signature is refused and changes nothing.
    const forged = await callWith(STRIPE_SETTINGS, "POST", "/api/v1/payments/webhooks/stripe", { headers: { "Content-Type": "application/json", "Stripe-Signature": await stripeSignature(body, { secret: "whsec_wrong" }) }, body });
    expect(forged.status).toBe(400);
    expect((await readBooking(booking.id, booked.json.manageToken)).json.paymentStatus).toBe("paid");
  });
});
