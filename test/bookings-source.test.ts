/**
 * Booking `source` is a closed list: customers and guests book on the website; phone, email,
 * walk-in and staff bookings are recorded by staff, who are remembered as `bookedBy`; the admin
 * list filters on both.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeBookableSession } from "./fixtures";
import { postBooking, projectionCaughtUp, singleBookingBody } from "./booking-helpers";
import { call, tokenFor } from "./helpers";

describe("booking source", () => {
  it("a guest or customer claiming a staff-only source is refused with 403; an unknown one is 400 with the field", async () => {
    const { session } = await makeBookableSession({ pricePence: 1500 });
    for (const source of ["phone", "email", "walk_in", "staff"]) {
      const guest = await postBooking(singleBookingBody(session.id, 1500, { source }));
      expect(guest.status, source).toBe(403);
      expect(guest.json.error).toMatchObject({ code: "FORBIDDEN", details: { field: "source", allowed: ["website"] } });
    }
    const body = singleBookingBody(session.id, 1500, { source: "phone" });
    expect((await postBooking(body, { token: await tokenFor("customer", body.contact.email) })).status).toBe(403);
    const waitlist = await postBooking(singleBookingBody(session.id, 1500, { source: "waitlist" }));
    expect(waitlist.status).toBe(400);
    const unknown = await postBooking(singleBookingBody(session.id, 1500, { source: "fax" }));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe("VALIDATION_FAILED");
    expect(unknown.json.error.details.issues[0].path).toBe("source");
    // Nothing was booked by the refusals.
    expect((await call("GET", `/api/v1/sessions/${session.id}/availability`)).json.booked).toBe(0);
  });

  it("a guest or customer without a source books as website; staff default to staff, may say phone, and are recorded as bookedBy", async () => {
    const { session } = await makeBookableSession({ pricePence: 1500 });
    const guest = await postBooking(singleBookingBody(session.id, 1500));
    expect(guest.status).toBe(201);
    expect(guest.json.booking.source).toBe("website");
    const customerBody = singleBookingBody(session.id, 1500);
    const customer = await postBooking(customerBody, { token: await tokenFor("customer", customerBody.contact.email) });
    expect(customer.status).toBe(201);
    expect(customer.json.booking).toMatchObject({ source: "website", bookedBy: null });
    const staffEmail = `desk-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const staff = await tokenFor("staff", staffEmail);
    const byStaff = await postBooking(singleBookingBody(session.id, 1500), { token: staff });
    expect(byStaff.status).toBe(201);
    expect(byStaff.json.booking.source).toBe("staff");
    const byPhone = await postBooking(singleBookingBody(session.id, 1500, { source: "phone" }), { token: staff });
    expect(byPhone.status).toBe(201);
    expect(byPhone.json.booking.source).toBe("phone");
    expect(byPhone.json.booking.bookedBy).toBe(byStaff.json.booking.bookedBy);
    expect(byPhone.json.booking.bookedBy).toContain(staffEmail);
    expect(guest.json.booking.bookedBy).toBeNull();
    // D1 keeps what the answer said, once the projection has written it.
    await projectionCaughtUp(session.id);
    const stored = await env.DB.prepare(`SELECT id, source, booked_by AS bookedBy FROM bookings WHERE id IN (?, ?, ?, ?) ORDER BY id`)
      .bind(guest.json.booking.id, customer.json.booking.id, byStaff.json.booking.id, byPhone.json.booking.id)
      .all<{ id: string; source: string; bookedBy: string | null }>();
    const expected = [guest, customer, byStaff, byPhone].map(({ json: { booking } }) => ({ id: booking.id, source: booking.source, bookedBy: booking.bookedBy }));
    expect(stored.results).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : 1)));
  });

  it("the admin list filters on source and bookedBy, alone and together; a bad source is 400; customers 403, anonymous 401", async () => {
    const { session } = await makeBookableSession({ pricePence: 1500, capacity: 20 });
    const staffA = await tokenFor("staff", `a-${crypto.randomUUID().slice(0, 8)}@example.test`);
    const staffB = await tokenFor("staff", `b-${crypto.randomUUID().slice(0, 8)}@example.test`);
    const made = {
      guest: (await postBooking(singleBookingBody(session.id, 1500))).json.booking,
      aPhone: (await postBooking(singleBookingBody(session.id, 1500, { source: "phone" }), { token: staffA })).json.booking,
      aWalkIn: (await postBooking(singleBookingBody(session.id, 1500, { source: "walk_in" }), { token: staffA })).json.booking,
      bPhone: (await postBooking(singleBookingBody(session.id, 1500, { source: "phone" }), { token: staffB })).json.booking,
      bDefault: (await postBooking(singleBookingBody(session.id, 1500), { token: staffB })).json.booking,
    };
    expect(Object.values(made).map((booking) => booking.source)).toEqual(["website", "phone", "walk_in", "phone", "staff"]);
    const admin = await tokenFor("admin");
    const ids = async (query: string) => {
      const listed = await call("GET", `/api/v1/admin/bookings?sessionId=${session.id}&${query}`, { token: admin });
      expect(listed.status, query).toBe(200);
      return (listed.json.data as { id: string }[]).map((booking) => booking.id).sort();
    };
    const sorted = (...bookings: { id: string }[]) => bookings.map((booking) => booking.id).sort();
    // The list reads D1, which the projection fills just after each 201.
    await projectionCaughtUp(session.id);
    expect(await ids("")).toEqual(sorted(...Object.values(made)));
    expect(await ids("source=phone")).toEqual(sorted(made.aPhone, made.bPhone));
    expect(await ids("source=website")).toEqual(sorted(made.guest));
    expect(await ids("source=staff")).toEqual(sorted(made.bDefault));
    expect(await ids("source=email")).toEqual([]);
    expect(await ids(`bookedBy=${encodeURIComponent(made.aPhone.bookedBy)}`)).toEqual(sorted(made.aPhone, made.aWalkIn));
    expect(await ids(`bookedBy=${encodeURIComponent(made.aPhone.bookedBy)}&source=phone`)).toEqual(sorted(made.aPhone));
    expect(await ids(`bookedBy=${encodeURIComponent(made.bPhone.bookedBy)}`)).toEqual(sorted(made.bPhone, made.bDefault));
    expect(await ids(`bookedBy=${encodeURIComponent(made.bPhone.bookedBy)}&source=walk_in`)).toEqual([]);
    expect(await ids("bookedBy=staff%3Anobody%40example.test")).toEqual([]);

    const bad = await call("GET", "/api/v1/admin/bookings?source=fax", { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe("source");
    expect((await call("GET", "/api/v1/admin/bookings?source=phone", { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/bookings?source=phone")).status).toBe(401);
  });
});
