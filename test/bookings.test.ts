import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, d1BookedSeats, postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeRole, makeSession, makeStaff } from "./fixtures";
import { customerIdFor } from "../src/services/booking-context";
import { call, eventually, eventuallyPasses, tokenFor } from "./helpers";

describe("POST /api/v1/bookings, single session", () => {
  it("books, projects into D1, and answers with the booking and a manage token", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5, pricePence: 3000 });
    const body = singleBookingBody(session.id, 3000, { guestCount: 2, source: "website", notes: "Window seat" });
    const response = await postBooking(body);
    expect(response.status).toBe(201);
    const { booking, manageToken } = response.json;
    expect(manageToken).toEqual(expect.any(String));
    expect(booking).toMatchObject({
      status: "confirmed",
      registrationType: "SINGLE_SESSION",
      classId: klass.id,
      guestCount: 2,
      totalAmountPence: 6000,
      currency: "GBP",
      source: "website",
      lines: [{ sessionId: session.id, seats: 2, status: "confirmed", pricePence: 6000 }],
    });
    expect(booking.customer.email).toBe(body.contact.email);
    expect(booking).not.toHaveProperty("manageTokenHash");
    // D1 is a projection, written after the answer through the projection Queue.
    expect(await eventually(async () => (await d1BookedSeats(session.id)) === 2)).toBe(true);
    expect(await availability(session.id)).toMatchObject({ capacity: 5, booked: 2, held: 0, availableSpots: 3, status: "open", isFull: false, pricePence: 3000 });
  });

  it("matches the customer by email case-insensitively", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const email = uniqueEmail("Case");
    const first = await postBooking(singleBookingBody(session.id, 1000, { contact: { email: email.toUpperCase(), firstName: "A", lastName: "B" } }));
    const other = await makeBookableSession({ pricePence: 1000 });
    const second = await postBooking(singleBookingBody(other.session.id, 1000, { contact: { email, firstName: "A", lastName: "B" } }));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.json.booking.customer.id).toBe(first.json.booking.customer.id);
    expect(first.json.booking.customer.email).toBe(email.toLowerCase());
  });

  it("reads and cancels with the manage token; cancelling a full session re-opens it", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1500 });
    const created = await postBooking(singleBookingBody(session.id, 1500, { guestCount: 2 }));
    expect(created.status).toBe(201);
    expect(await availability(session.id)).toMatchObject({ status: "full", isFull: true, availableSpots: 0 });

    const { booking, manageToken } = created.json;
    expect((await call("GET", `/api/v1/bookings/${booking.id}`)).status).toBe(401);
    expect((await call("GET", `/api/v1/bookings/${booking.id}?token=wrong`)).status).toBe(403);
    const read = await call("GET", `/api/v1/bookings/${booking.id}`, { headers: { "X-Manage-Token": manageToken } });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(booking.id);

    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "cancelled", lines: [{ status: "cancelled" }] });
    expect(await availability(session.id)).toMatchObject({ status: "open", availableSpots: 2, booked: 0 });
    // D1 follows through the projection Queue: the line ends up cancelled (not merely not yet there).
    expect(await projectionCaughtUp(session.id)).toEqual([{ bookingId: booking.id, seats: 2, status: "cancelled" }]);
    expect(await d1BookedSeats(session.id)).toBe(0);

    const again = await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe("cancelled");
  });

  it("lets the owning customer and staff in, and keeps other customers out", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const email = uniqueEmail("owner");
    const owner = await tokenFor("customer", email);
    const created = await postBooking(singleBookingBody(session.id, 1000, { contact: { email, firstName: "O", lastName: "W" } }), { token: owner });
    expect(created.status).toBe(201);
    const id = created.json.booking.id;
    expect((await call("GET", `/api/v1/bookings/${id}`, { token: owner })).status).toBe(200);
    expect((await call("GET", `/api/v1/bookings/${id}`, { token: await tokenFor("staff") })).status).toBe(200);
    expect((await call("GET", `/api/v1/bookings/${id}`, { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("POST", `/api/v1/bookings/${id}/cancel`, { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("GET", "/api/v1/bookings/bkg_nope", { token: owner })).status).toBe(404);
  });

  it("refuses a customer token booking for another email, and guests overriding duplicates", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const customer = await tokenFor("customer", uniqueEmail("me"));
    const other = await postBooking(singleBookingBody(session.id, 1000), { token: customer });
    expect(other.status).toBe(403);
    const override = await postBooking(singleBookingBody(session.id, 1000, { overrideDuplicate: true }));
    expect(override.status).toBe(403);
  });
});

describe("booking rejections carry a stable code and the details a client needs", () => {
  it("SESSION_NOT_FOUND", async () => {
    const response = await postBooking(singleBookingBody("ses_missing", 1000));
    expect(response.status).toBe(404);
    expect(response.json.error).toMatchObject({ code: "SESSION_NOT_FOUND", details: { sessionIds: ["ses_missing"] } });
  });

  it("SESSION_NOT_BOOKABLE for cancelled and started sessions", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    await env.DB.prepare(`UPDATE class_sessions SET status = 'cancelled', updated_at = ? WHERE id = ?`).bind(Date.now(), session.id).run();
    const cancelled = await postBooking(singleBookingBody(session.id, 1000));
    expect(cancelled.status).toBe(409);
    expect(cancelled.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "cancelled" } });

    const past = await makeBookableSession({ pricePence: 1000, startsInHours: -2 });
    const started = await postBooking(singleBookingBody(past.session.id, 1000));
    expect(started.status).toBe(409);
    expect(started.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "started" } });
  });

  it("NO_TRAINER, recording a PURCHASE_BLOCKED demand signal", async () => {
    const role = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id, pricePence: 1000 });
    const untaught = await makeSession(klass.id, { instructorId: null });
    const unqualified = await makeSession(klass.id, { instructorId: (await makeStaff([])).id });
    for (const session of [untaught, unqualified]) {
      const body = singleBookingBody(session.id, 1000);
      const response = await postBooking(body);
      expect(response.status).toBe(409);
      expect(response.json.error).toMatchObject({ code: "NO_TRAINER", details: { courseId: klass.id, canRegisterInterest: true, sessionIds: [session.id] } });
      // The signal comes through the projection Queue: written once its consumer has run. It names
      // the customer by the id derived from the email (no profile is written for a refusal).
      const customerId = await customerIdFor(body.contact.email);
      const signal = await eventually(() =>
        env.DB.prepare(`SELECT d.* FROM demand_signals d WHERE d.user_id = ? AND d.signal_type = 'PURCHASE_BLOCKED'`)
          .bind(customerId)
          .first<{ course_id: string; city_id: string; reason: string }>(),
      );
      expect(signal).toMatchObject({ course_id: klass.id, reason: "NO_TRAINER" });
      expect(signal?.city_id).toEqual(expect.any(String));
    }
  });

  it("SESSION_FULL and INSUFFICIENT_CAPACITY with the spots left", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1000 });
    expect((await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }))).status).toBe(201);
    const tooMany = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }));
    expect(tooMany.status).toBe(409);
    expect(tooMany.json.error).toMatchObject({ code: "INSUFFICIENT_CAPACITY", details: { availableSpots: 1, requested: 2 } });
    expect((await postBooking(singleBookingBody(session.id, 1000))).status).toBe(201);
    const full = await postBooking(singleBookingBody(session.id, 1000));
    expect(full.status).toBe(409);
    expect(full.json.error).toMatchObject({ code: "SESSION_FULL", details: { availableSpots: 0 } });
  });

  it("RESOURCE_UNAVAILABLE names the resource, what is needed and what is left", async () => {
    const { session, resource } = await makeBookableSession({ capacity: 10, pricePence: 1000, resource: { quantity: 5, perStudent: 2 } });
    expect((await postBooking(singleBookingBody(session.id, 1000, { guestCount: 2 }))).status).toBe(201);
    const response = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 1 }));
    expect(response.status).toBe(409);
    expect(response.json.error).toMatchObject({ code: "RESOURCE_UNAVAILABLE", details: { resourceId: resource!.id, needed: 2, available: 1 } });
  });

  it("AMOUNT_MISMATCH, INVALID_AMOUNT and CURRENCY_NOT_SUPPORTED", async () => {
    const { session } = await makeBookableSession({ pricePence: 2500 });
    const mismatch = await postBooking(singleBookingBody(session.id, 2500, { totalAmountPence: 2400 }));
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.error).toMatchObject({ code: "AMOUNT_MISMATCH", details: { expectedPence: 2500, givenPence: 2400 } });
    for (const amount of [0, -100]) {
      const invalid = await postBooking(singleBookingBody(session.id, 2500, { totalAmountPence: amount }));
      expect(invalid.status).toBe(422);
      expect(invalid.json.error.code).toBe("INVALID_AMOUNT");
    }
    const currency = await postBooking(singleBookingBody(session.id, 2500, { currency: "EUR" }));
    expect(currency.status).toBe(422);
    expect(currency.json.error).toMatchObject({ code: "CURRENCY_NOT_SUPPORTED", details: { currency: "EUR" } });
    // Refused before any seat was taken: the session's object holds nothing, and D1 has no line.
    expect(await availability(session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await d1BookedSeats(session.id)).toBe(0);
  });

  it("DUPLICATE_BOOKING with the existing booking, one alert per email and session, and a recorded staff override", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const email = uniqueEmail("dup");
    const contact = { email, firstName: "D", lastName: "Up" };
    const first = await postBooking(singleBookingBody(session.id, 1000, { contact }));
    expect(first.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const again = await postBooking(singleBookingBody(session.id, 1000, { contact }));
      expect(again.status).toBe(409);
      // An anonymous caller only knows the email: the refusal names no booking (test/hostage.test.ts).
      expect(again.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: {} });
    }
    // Raised by the projection consumer as it writes the DUPLICATE_ATTEMPT events, off the booking's path.
    await eventuallyPasses(async () => {
      const alerts = await env.DB.prepare(`SELECT * FROM alerts WHERE type = 'DUPLICATE_BOOKING' AND subject_key = ?`)
        .bind(`${email}|${session.id}`)
        .all<{ status: string; occurrences: number }>();
      expect(alerts.results).toHaveLength(1);
      expect(alerts.results[0]).toMatchObject({ status: "open", occurrences: 3 });
    });

    const staff = await tokenFor("staff");
    const seenByStaff = await postBooking(singleBookingBody(session.id, 1000, { contact }), { token: staff });
    expect(seenByStaff.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: { existingBookingId: first.json.booking.id } });
    const override = await postBooking(singleBookingBody(session.id, 1000, { contact, overrideDuplicate: true }), { token: staff });
    expect(override.status).toBe(201);
    expect(override.json.booking).toMatchObject({ duplicateOverride: true, bookedBy: expect.stringContaining("staff") });
  });

  it("BOOKING_KIND_NOT_ALLOWED when the class does not offer the registration type", async () => {
    const role = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id, bookingKinds: ["FULL_SCHEDULE"], fullSchedulePricePence: 9000 });
    const session = await makeSession(klass.id, { instructorId: (await makeStaff([role.id])).id });
    const response = await postBooking(singleBookingBody(session.id, klass.pricePence));
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: "BOOKING_KIND_NOT_ALLOWED", details: { allowed: ["FULL_SCHEDULE"] } });
  });

  it("validates the body with field paths", async () => {
    const response = await postBooking({ registrationType: "DROP_IN", sessionId: "x", guestCount: 0, contact: { email: "nope" }, currency: "GBP" });
    expect(response.status).toBe(400);
    const paths = response.json.error.details.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["guestCount", "contact.email", "contact.firstName", "totalAmountPence"]));
  });

  it("records every attempt, accepted or rejected, in the audit trail", async () => {
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 1000 });
    const ok = singleBookingBody(session.id, 1000, { source: "website" });
    const full = singleBookingBody(session.id, 1000, { source: "website" });
    await postBooking(ok);
    await postBooking(full);
    // Each attempt is recorded by the session's object with its outcome, and reaches D1 through the projection Queue.
    await eventuallyPasses(async () => {
      const rows = await env.DB.prepare(`SELECT outcome, error_code, amount_pence, source, duration_ms FROM booking_attempts WHERE email IN (?, ?) ORDER BY created_at`)
        .bind(ok.contact.email, full.contact.email)
        .all();
      expect(rows.results).toEqual([
        expect.objectContaining({ outcome: "accepted", error_code: null, amount_pence: 1000, source: "website" }),
        expect.objectContaining({ outcome: "rejected", error_code: "SESSION_FULL", amount_pence: 1000, source: "website" }),
      ]);
    });
  });
});
