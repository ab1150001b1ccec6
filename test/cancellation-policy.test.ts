/**
 * A class's cancellation policy: set by admins, shown in the quote, the confirmation and the
 * portal, and binding a customer's own cancellation — never a studio's.
 */
import { describe, expect, it } from "vitest";
import { makeBookableSession, makeClass, makeRole } from "./fixtures";
import { nextClientIp, postBooking, singleBookingBody } from "./booking-helpers";
import { call, eventually, tokenFor } from "./helpers";
import { newestMessage } from "./sign-in-helpers";

const HOUR = 3_600_000;
const POLICY = { freeCancellationHours: 48, lateCancellationFeePercent: 50, selfCancelCutoffHours: 12 };
const SUMMARY = "Free cancellation until 48 hours before the start; after that 50% of the price is kept; you can cancel online until 12 hours before the start (after that, ask the studio).";

/** A bookable session of a class with POLICY, starting in about `hours` hours. */
async function sessionWithPolicy(hours: number) {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id, pricePence: 2000, ...POLICY });
  const { session } = await makeBookableSession({ classId: klass.id, startsInHours: hours - 1 });
  return { klass, session };
}

describe("cancellation policy", () => {
  it("admins set it on a class; a cutoff after the free window ends, a fee over 100 or negative hours are 400; staff may not", async () => {
    const admin = await tokenFor("admin");
    const role = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id });
    const patched = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: POLICY });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ ...POLICY, paymentMode: "at_studio", cancellationPolicy: SUMMARY });
    const cleared = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { freeCancellationHours: null, selfCancelCutoffHours: null, lateCancellationFeePercent: 0 } });
    expect(cleared.json.cancellationPolicy).toBe("Free cancellation until the class starts.");

    const cutoffTooLong = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { freeCancellationHours: 2, selfCancelCutoffHours: 24 } });
    expect(cutoffTooLong.status).toBe(400);
    expect(cutoffTooLong.json.error.details.issues[0].path).toBe("selfCancelCutoffHours");
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { lateCancellationFeePercent: 101 } })).status).toBe(400);
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { freeCancellationHours: -1 } })).status).toBe(400);
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: await tokenFor("staff"), body: POLICY })).status).toBe(403);
  });

  it("the class page and the public class show it, with how the class is paid for", async () => {
    const { klass } = await sessionWithPolicy(24 * 7);
    const publicClass = await call("GET", `/api/v1/classes/${klass.id}`);
    expect(publicClass.status).toBe(200);
    expect(publicClass.json).toMatchObject({ paymentMode: "at_studio", cancellationPolicy: SUMMARY });
    expect(publicClass.json).not.toHaveProperty("policy");
    const page = await call("GET", `/classes/${klass.id}`);
    expect(page.text).toContain(SUMMARY);
  });

  it("the quote shows the terms for the session asked about, with its deadlines", async () => {
    const { session } = await sessionWithPolicy(24 * 7);
    const quote = await call("POST", "/api/v1/quotes", { body: { registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1 }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(quote.status).toBe(200);
    expect(quote.json.paymentMode).toBe("at_studio");
    expect(quote.json.cancellationPolicy).toEqual({
      summary: SUMMARY,
      freeCancellationUntil: new Date(session.startsAt.getTime() - 48 * HOUR).toISOString(),
      selfCancellationUntil: new Date(session.startsAt.getTime() - 12 * HOUR).toISOString(),
      lateCancellationFeePercent: 50,
    });
  });

  it("the confirmation email, the booking page and the portal show it", async () => {
    const { session } = await sessionWithPolicy(24 * 7);
    const body = singleBookingBody(session.id, 2000);
    const created = await postBooking(body);
    expect(created.status).toBe(201);
    const message = await newestMessage(body.contact.email, /Booking confirmed/);
    expect(message.text).toContain(`Cancellation policy: ${SUMMARY}`);
    const page = await call("GET", `/bookings/${created.json.booking.id}?token=${created.json.manageToken}`);
    expect(page.text).toContain(SUMMARY);
    const customer = await tokenFor("customer", body.contact.email);
    const listed = await eventually(async () => (await call("GET", "/api/v1/me/bookings", { token: customer })).json.data.find((b: { id: string }) => b.id === created.json.booking.id));
    expect(listed).toMatchObject({ cancellable: true, cancellationPolicy: SUMMARY });
  });

  it("inside the cutoff a customer is refused with SELF_CANCELLATION_CLOSED, the portal says not cancellable, and staff still cancel", async () => {
    const { session } = await sessionWithPolicy(6);
    const body = singleBookingBody(session.id, 2000);
    const created = await postBooking(body);
    expect(created.status).toBe(201);
    const { booking, manageToken } = created.json;
    const refused = await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "SELF_CANCELLATION_CLOSED", details: { reason: "policy", selfCancelCutoffHours: 12 } });
    expect(refused.json.error.message).toContain(SUMMARY);
    const customer = await tokenFor("customer", body.contact.email);
    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { token: customer })).status).toBe(409);
    // The portal reads D1, which the projection fills just after the 201.
    const listed = await eventually(async () => (await call("GET", "/api/v1/me/bookings", { token: customer })).json.data.find((b: { id: string }) => b.id === booking.id));
    expect(listed).toMatchObject({ cancellable: false, cancellationPolicy: SUMMARY });
    const page = await call("GET", `/bookings/${booking.id}?token=${manageToken}`);
    expect(page.text).toContain('id="not-cancellable"');

    const byStaff = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { token: await tokenFor("staff") });
    expect(byStaff.status).toBe(200);
    expect(byStaff.json.status).toBe("cancelled");
  });

  it("between the free window and the cutoff a customer may cancel (the late fee applies once payments are taken)", async () => {
    const { session } = await sessionWithPolicy(30);
    const created = await postBooking(singleBookingBody(session.id, 2000));
    const cancelled = await call("POST", `/api/v1/bookings/${created.json.booking.id}/cancel?token=${created.json.manageToken}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");
  });
});
