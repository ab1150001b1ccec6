/**
 * Staff customer records: GET /admin/customers/{id} (stats against a recount of generated data,
 * history), PATCH (staff notes and preferences, validated), GET /admin/bookings/{id}/user, who may
 * call them, and that staff notes never reach anything the customer sees.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { attendanceRow, bookingRow, certificateRow, customerRow, type LineSpec, suffix } from "./customers-fixtures";
import { makeBookableSession, makeClass, makeSession } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";

const DAY = 24 * 3600_000;

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** A customer with `count` generated bookings over past and future sessions, some cancelled, with no-shows and certificates. */
async function generatedCustomer(seed: number, count: number) {
  const rand = random(seed);
  const klass = await makeClass();
  const now = Date.now();
  const sessions = await Promise.all(
    [-20, -10, -3, 2, 9, 30].map((days) => makeSession(klass.id, { startsAt: new Date(now + days * DAY + Math.floor(rand() * 3600_000)) })),
  );
  const customer = await customerRow();
  const made = [];
  const marks: { bookingId: string; sessionId: string; status: "checked_in" | "no_show" }[] = [];
  for (let i = 0; i < count; i++) {
    const picked = sessions.filter(() => rand() < 0.4);
    const chosen = picked.length > 0 ? picked : [sessions[Math.floor(rand() * sessions.length)]!];
    const cancelWhole = rand() < 0.25;
    const lines: LineSpec[] = chosen.map((session) => ({
      sessionId: session.id,
      status: cancelWhole || rand() < 0.2 ? "cancelled" : "confirmed",
      pricePence: 500 + Math.floor(rand() * 2500),
    }));
    const booking = await bookingRow(customer.id, klass.id, lines, { guestCount: 1 + Math.floor(rand() * 4), confirmedAt: new Date(now - Math.floor(rand() * 60) * DAY - i) });
    made.push(booking);
    for (const line of lines) {
      for (let position = 1; position <= booking.guestCount; position++) {
        const roll = rand();
        if (roll < 0.3) marks.push({ bookingId: booking.id, sessionId: line.sessionId, status: "no_show" });
        else if (roll < 0.6) marks.push({ bookingId: booking.id, sessionId: line.sessionId, status: "checked_in" });
        if (roll < 0.6) await attendanceRow(booking.id, line.sessionId, position, marks[marks.length - 1]!.status);
      }
    }
  }
  await certificateRow(customer.id, klass.id, made[0]!.id, "valid");
  await certificateRow(customer.id, klass.id, made[1]!.id, "valid");
  await certificateRow(customer.id, klass.id, made[2]!.id, "revoked");
  // Someone else's bookings and marks on the same sessions, which must not count.
  const other = await customerRow();
  const theirs = await bookingRow(other.id, klass.id, [{ sessionId: sessions[0]!.id, status: "confirmed", pricePence: 9999 }], { guestCount: 3 });
  await attendanceRow(theirs.id, sessions[0]!.id, 1, "no_show");
  await certificateRow(other.id, klass.id, theirs.id);
  return { customer, klass, sessions, made, marks, now };
}

describe("GET /api/v1/admin/customers/{id}", () => {
  it("has stats equal to a straightforward recount of generated bookings, net of cancellations", async () => {
    const { customer, sessions, made, marks, now } = await generatedCustomer(12, 30);
    const startOf = new Map(sessions.map((session) => [session.id, session.startsAt.getTime()]));
    const confirmed = made.filter((booking) => booking.status === "confirmed");
    const counted = confirmed.flatMap((booking) => booking.lines.filter((line) => line.status === "confirmed").map((line) => ({ booking, line })));
    const expected = {
      totalBookings: confirmed.length,
      seatsBooked: counted.reduce((sum, { booking }) => sum + booking.guestCount, 0),
      totalSpentPence: counted.reduce((sum, { line }) => sum + line.pricePence, 0),
      firstBookingAt: new Date(Math.min(...confirmed.map((booking) => booking.confirmedAt.getTime()))).toISOString(),
      lastBookingAt: new Date(Math.max(...confirmed.map((booking) => booking.confirmedAt.getTime()))).toISOString(),
      upcomingBookings: confirmed.filter((booking) => booking.lines.some((line) => line.status === "confirmed" && startOf.get(line.sessionId)! > now)).length,
      noShows: marks.filter(
        (mark) => mark.status === "no_show" && counted.some(({ booking, line }) => booking.id === mark.bookingId && line.sessionId === mark.sessionId),
      ).length,
      certificates: 2,
    };
    // The generated data covers what the rules are about, or the comparison would prove little.
    expect(made.some((booking) => booking.status === "cancelled")).toBe(true);
    expect(confirmed.some((booking) => booking.lines.some((line) => line.status === "cancelled"))).toBe(true);
    expect(marks.some((mark) => mark.status === "no_show" && made.find((booking) => booking.id === mark.bookingId)!.status === "cancelled")).toBe(true);
    expect(expected.upcomingBookings).toBeGreaterThan(0);

    const response = await call("GET", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("staff") });
    expect(response.status).toBe(200);
    expect(response.json.stats).toEqual(expected);
  });

  it("shows the profile, staff notes, preferences and history: bookings with sessions and attendance, messages, certificates", async () => {
    const klass = await makeClass();
    const session = await makeSession(klass.id);
    const customer = await customerRow({ firstName: "Grace", lastName: `Hopper${suffix()}`, phone: "+44 20 7946 0000", staffNotes: "Prefers the front row" });
    const booking = await bookingRow(customer.id, klass.id, [{ sessionId: session.id, status: "confirmed", pricePence: 2500 }], {
      guestCount: 2,
      source: "phone",
      bookedBy: "staff:ana@example.test",
      notes: "Window seat",
    });
    await attendanceRow(booking.id, session.id, 2, "no_show");
    const certificateId = await certificateRow(customer.id, klass.id, booking.id);
    await getDb(env.DB)
      .insert(t.bookingCommunications)
      .values({
        id: `booking-confirmed:${booking.id}`,
        bookingId: booking.id,
        recipientEmail: customer.email,
        type: "BOOKING_CONFIRMED",
        channel: "email",
        status: "sent",
        subject: "Booked",
        content: "See you",
        requestedAt: new Date(),
      });

    const response = await call("GET", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("admin") });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(response.json).toMatchObject({
      id: customer.id,
      email: customer.email,
      firstName: "Grace",
      phone: "+44 20 7946 0000",
      staffNotes: "Prefers the front row",
      preferences: {},
      history: {
        moreBookings: false,
        bookings: [
          {
            id: booking.id,
            status: "confirmed",
            className: klass.name,
            guestCount: 2,
            source: "phone",
            bookedBy: "staff:ana@example.test",
            notes: "Window seat",
            sessions: [{ sessionId: session.id, seats: 2, status: "confirmed", attendance: [{ attendeeId: `${booking.id}:2`, status: "no_show" }] }],
          },
        ],
        communications: [{ id: `booking-confirmed:${booking.id}`, type: "BOOKING_CONFIRMED", status: "sent" }],
        certificates: [{ id: certificateId, classId: klass.id, bookingId: booking.id, status: "valid" }],
      },
    });
    expect(response.json.stats).toMatchObject({ totalBookings: 1, seatsBooked: 2, noShows: 1, certificates: 1 });
  });

  it("counts nothing for a customer with no bookings", async () => {
    const customer = await customerRow();
    const response = await call("GET", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("staff") });
    expect(response.json.stats).toEqual({
      totalBookings: 0,
      seatsBooked: 0,
      totalSpentPence: 0,
      firstBookingAt: null,
      lastBookingAt: null,
      upcomingBookings: 0,
      noShows: 0,
      certificates: 0,
    });
    expect(response.json.history).toEqual({ bookings: [], moreBookings: false, communications: [], certificates: [] });
  });

  it("answers 404 for an unknown customer, 401 without a token and 403 to a customer", async () => {
    const customer = await customerRow();
    expect((await call("GET", `/api/v1/admin/customers/cus_nobody${suffix()}`, { token: await tokenFor("staff") })).json.error.code).toBe("NOT_FOUND");
    expect((await call("GET", `/api/v1/admin/customers/${customer.id}`)).status).toBe(401);
    const own = await call("GET", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("customer", customer.email) });
    expect(own.status).toBe(403);
    expect(own.text).not.toContain(customer.id);
  });
});

describe("PATCH /api/v1/admin/customers/{id}", () => {
  it("sets staff notes and replaces preferences; null clears; absent fields stay", async () => {
    const customer = await customerRow();
    const token = await tokenFor("staff");
    const path = `/api/v1/admin/customers/${customer.id}`;
    const first = await call("PATCH", path, { token, body: { staffNotes: "Needs a step stool\nAsks for decaf", preferences: { seat: "front", wheelchair: true, visits: 3, allergy: null } } });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ staffNotes: "Needs a step stool\nAsks for decaf", preferences: { seat: "front", wheelchair: true, visits: 3, allergy: null } });
    const second = await call("PATCH", path, { token, body: { preferences: { seat: "back" } } });
    expect(second.json).toMatchObject({ staffNotes: "Needs a step stool\nAsks for decaf", preferences: { seat: "back" } });
    const cleared = await call("PATCH", path, { token: await tokenFor("admin"), body: { staffNotes: null, preferences: null } });
    expect(cleared.json).toMatchObject({ staffNotes: null, preferences: {} });
    const row = await getDb(env.DB).query.customers.findFirst({ where: (c, { eq }) => eq(c.id, customer.id) });
    expect(row).toMatchObject({ staffNotes: null, preferences: null });
  });

  it("refuses what is not allowed with 400 and the field's path", async () => {
    const customer = await customerRow();
    const token = await tokenFor("staff");
    const path = `/api/v1/admin/customers/${customer.id}`;
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const cases: [unknown, string][] = [
      [{ staffNotes: "x".repeat(4001) }, "staffNotes"],
      [{ preferences: tooMany }, "preferences"],
      [{ preferences: { nested: { deep: true } } }, "preferences.nested"],
      [{ preferences: { list: [1, 2] } }, "preferences.list"],
      [{ preferences: ["a"] }, "preferences"],
      [{ email: "someone@example.test" }, ""],
      [{}, ""],
    ];
    for (const [body, field] of cases) {
      const response = await call("PATCH", path, { token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(field);
    }
    // Exactly at the limits is fine.
    const atLimit = await call("PATCH", path, { token, body: { staffNotes: "x".repeat(4000), preferences: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`])) } });
    expect(atLimit.status).toBe(200);
  });

  it("answers 404 for an unknown customer, 401 without a token and 403 to a customer", async () => {
    const customer = await customerRow();
    const body = { staffNotes: "hello" };
    expect((await call("PATCH", `/api/v1/admin/customers/cus_nobody${suffix()}`, { token: await tokenFor("staff"), body })).status).toBe(404);
    expect((await call("PATCH", `/api/v1/admin/customers/${customer.id}`, { body })).status).toBe(401);
    expect((await call("PATCH", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("customer", customer.email), body })).status).toBe(403);
    const row = await getDb(env.DB).query.customers.findFirst({ where: (c, { eq }) => eq(c.id, customer.id) });
    expect(row?.staffNotes).toBeNull();
  });
});

describe("GET /api/v1/admin/bookings/{id}/user", () => {
  it("answers with the profile of the customer the booking is for", async () => {
    const { session } = await makeBookableSession({ pricePence: 2000 });
    const email = uniqueEmail("profile");
    const made = await postBooking(singleBookingBody(session.id, 2000, { contact: { email, firstName: "Mary", lastName: "Somerville" } }));
    expect(made.status).toBe(201);
    const token = await tokenFor("staff");
    const response = await eventually(async () => {
      const answer = await call("GET", `/api/v1/admin/bookings/${made.json.booking.id}/user`, { token });
      return answer.status === 200 && answer.json.stats.totalBookings === 1 ? answer : undefined;
    });
    expect(response.json).toMatchObject({ email, firstName: "Mary", lastName: "Somerville", history: { bookings: [{ id: made.json.booking.id, source: "website" }] } });
  });

  it("answers 404 for an unknown booking, 401 without a token and 403 to a customer", async () => {
    const staff = await call("GET", `/api/v1/admin/bookings/bkg_nobody${suffix()}/user`, { token: await tokenFor("staff") });
    expect(staff.status).toBe(404);
    expect((await call("GET", `/api/v1/admin/bookings/bkg_nobody/user`)).status).toBe(401);
    expect((await call("GET", `/api/v1/admin/bookings/bkg_nobody/user`, { token: await tokenFor("customer") })).status).toBe(403);
  });
});

describe("staff notes stay with the staff", () => {
  it("are in nothing the customer sees: /me, /me/bookings, their booking, the portal page", async () => {
    const { session } = await makeBookableSession({ pricePence: 2000 });
    const email = uniqueEmail("private");
    const made = await postBooking(singleBookingBody(session.id, 2000, { contact: { email, firstName: "Ada", lastName: "Private" } }));
    expect(made.status).toBe(201);
    const customer = await eventually(() => getDb(env.DB).query.customers.findFirst({ where: (c, { eq }) => eq(c.email, email) }));
    const secret = `note-${suffix()}`;
    const patched = await call("PATCH", `/api/v1/admin/customers/${customer.id}`, { token: await tokenFor("staff"), body: { staffNotes: secret, preferences: { secretPreference: secret } } });
    expect(patched.json.staffNotes).toBe(secret);

    const token = await tokenFor("customer", email);
    const seen = [
      await call("GET", "/api/v1/me", { token }),
      await call("GET", "/api/v1/me/bookings", { token }),
      await call("GET", "/api/v1/me/bookings?when=past", { token }),
      await call("GET", `/api/v1/bookings/${made.json.booking.id}`, { token }),
      await call("GET", `/api/v1/bookings/${made.json.booking.id}`, { headers: { "X-Manage-Token": made.json.manageToken } }),
      await call("GET", "/me", { token }),
      await call("GET", `/bookings/${made.json.booking.id}?token=${made.json.manageToken}`),
    ];
    // The customer's own view shows their booking (so the check looks at a real page, not an error).
    expect(seen[1]!.json.data.map((booking: { id: string }) => booking.id)).toContain(made.json.booking.id);
    for (const response of seen) {
      expect(response.status, response.text.slice(0, 200)).toBe(200);
      expect(response.text).not.toContain(secret);
      expect(response.text).not.toMatch(/staffNotes|staff_notes|secretPreference/);
    }
  });
});
