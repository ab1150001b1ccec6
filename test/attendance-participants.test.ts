/** Named participants: PUT/GET /api/v1/bookings/{id}/participants and the admin PUT (src/services/participants.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attendeeId } from "../src/domain/attendees";
import { writeProjection } from "../src/jobs/projection-consumer";
import { postBooking, projectionCaughtUp, singleBookingBody, testProjection, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeCustomer, makeSession } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { roster, staffToken } from "./attendance-helpers";

/** A real booking of `guestCount` seats, projected into D1. */
async function bookFor(guestCount: number) {
  const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
  const email = uniqueEmail("party");
  const response = await postBooking(singleBookingBody(session.id, 1000, { guestCount, contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  expect(response.status).toBe(201);
  await projectionCaughtUp(session.id);
  return { session, email, bookingId: response.json.booking.id as string, manageToken: response.json.manageToken as string };
}

const participantsPath = (bookingId: string) => `/api/v1/bookings/${bookingId}/participants`;

describe("PUT and GET /api/v1/bookings/{id}/participants", { timeout: 20_000 }, () => {
  it("names seats with the manage token or as the owning customer; the roster shows them", async () => {
    const { session, email, bookingId, manageToken } = await bookFor(3);
    const headers = { "X-Manage-Token": manageToken };
    const listed = await call("GET", participantsPath(bookingId), { headers });
    expect(listed.status).toBe(200);
    expect(listed.json.data).toEqual([
      { attendeeId: attendeeId(bookingId, 1), position: 1, name: "Ada Lovelace", email },
      { attendeeId: attendeeId(bookingId, 2), position: 2, name: null, email: null },
      { attendeeId: attendeeId(bookingId, 3), position: 3, name: null, email: null },
    ]);

    const named = await call("PUT", participantsPath(bookingId), { headers, body: { participants: [{ position: 2, name: "  Grace   Hopper ", email: "Grace@Example.test" }] } });
    expect(named.status).toBe(200);
    expect(named.json.data[1]).toEqual({ attendeeId: attendeeId(bookingId, 2), position: 2, name: "Grace Hopper", email: "grace@example.test" });
    const owner = await tokenFor("customer", email);
    const again = await call("PUT", participantsPath(bookingId), { token: owner, body: { participants: [{ position: 3, name: "Alan Turing" }, { position: 2, name: "Grace Hopper" }] } });
    expect(again.status).toBe(200);
    expect(again.json.data.map((p: { name: string | null; email: string | null }) => [p.name, p.email])).toEqual([
      ["Ada Lovelace", email],
      ["Grace Hopper", null],
      ["Alan Turing", null],
    ]);
    const onRoster = (await roster(session.id, await staffToken())).json.data.filter((entry: { bookingId: string }) => entry.bookingId === bookingId);
    expect(onRoster.map((entry: { name: string }) => entry.name)).toEqual(["Ada Lovelace", "Grace Hopper", "Alan Turing"]);
  });

  it("validates positions and names with field paths", async () => {
    const { bookingId, manageToken } = await bookFor(2);
    const put = (participants: unknown) => call("PUT", participantsPath(bookingId), { headers: { "X-Manage-Token": manageToken }, body: { participants } });
    const beyond = await put([{ position: 1, name: "Ada Lovelace" }, { position: 3, name: "Too Many" }]);
    expect(beyond.status).toBe(400);
    expect(beyond.json.error.details.issues).toEqual([expect.objectContaining({ path: "participants.1.position" })]);
    const twice = await put([{ position: 2, name: "Grace Hopper" }, { position: 2, name: "Alan Turing" }]);
    expect(twice.json.error.details.issues[0].path).toBe("participants.1.position");
    const link = await put([{ position: 2, name: "visit evil.example" }]);
    expect(link.status).toBe(400);
    expect(link.json.error.details.issues[0].path).toBe("participants.0.name");
    expect((await put([{ position: 2, name: "Grace", email: "not-an-email" }])).json.error.details.issues[0].path).toBe("participants.0.email");
    expect((await put([{ position: 0, name: "Grace" }])).status).toBe(400);
    expect((await put([])).status).toBe(400);
    const stored = await env.DB.prepare(`SELECT count(*) AS n FROM booking_attendees WHERE booking_id = ? AND name IS NOT NULL AND position > 1`).bind(bookingId).first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });

  it("is locked for the customer once the first session has started; staff may still rename", async () => {
    const { session, bookingId, manageToken } = await bookFor(2);
    await env.DB.prepare(`UPDATE class_sessions SET starts_at = ? WHERE id = ?`).bind(Date.now() - 60_000, session.id).run();
    const body = { participants: [{ position: 2, name: "Grace Hopper" }] };
    const locked = await call("PUT", participantsPath(bookingId), { headers: { "X-Manage-Token": manageToken }, body });
    expect(locked.status).toBe(409);
    expect(locked.json.error).toMatchObject({ code: "PARTICIPANTS_LOCKED", details: { reason: "started" } });
    const staff = await staffToken();
    const byStaff = await call("PUT", `/api/v1/admin/bookings/${bookingId}/participants`, { token: staff, body });
    expect(byStaff.status).toBe(200);
    expect(byStaff.json.data[1].name).toBe("Grace Hopper");
    expect((await call("GET", `/api/v1/admin/bookings/${bookingId}/participants`, { token: staff })).json.data[1].name).toBe("Grace Hopper");
  });

  it("is locked on a cancelled booking", async () => {
    const body = { participants: [{ position: 2, name: "Grace Hopper" }] };
    const other = await bookFor(2);
    expect((await call("POST", `/api/v1/bookings/${other.bookingId}/cancel`, { headers: { "X-Manage-Token": other.manageToken } })).status).toBe(200);
    await projectionCaughtUp(other.session.id);
    const cancelled = await call("PUT", participantsPath(other.bookingId), { headers: { "X-Manage-Token": other.manageToken }, body });
    expect(cancelled.json.error).toMatchObject({ code: "PARTICIPANTS_LOCKED", details: { reason: "cancelled" } });
  });

  it("refuses anonymous callers, other customers, a wrong manage token, and customers on the admin route; 404 for an unknown booking", async () => {
    const { bookingId } = await bookFor(2);
    const other = await bookFor(1);
    const body = { participants: [{ position: 2, name: "Grace Hopper" }] };
    expect((await call("PUT", participantsPath(bookingId), { body })).status).toBe(401);
    expect((await call("GET", participantsPath(bookingId))).status).toBe(401);
    expect((await call("PUT", participantsPath(bookingId), { token: await tokenFor("customer"), body })).status).toBe(403);
    expect((await call("PUT", participantsPath(bookingId), { headers: { "X-Manage-Token": other.manageToken }, body })).status).toBe(403);
    expect((await call("GET", participantsPath(bookingId), { token: await tokenFor("customer", other.email) })).status).toBe(403);
    expect((await call("PUT", `/api/v1/admin/bookings/${bookingId}/participants`, { token: await tokenFor("customer"), body })).status).toBe(403);
    expect((await call("PUT", `/api/v1/admin/bookings/${bookingId}/participants`, { body })).status).toBe(401);
    expect((await call("PUT", `/api/v1/admin/bookings/bkg_missing/participants`, { token: await staffToken(), body })).status).toBe(404);
    const unnamed = await env.DB.prepare(`SELECT name FROM booking_attendees WHERE id = ?`).bind(attendeeId(bookingId, 2)).first<{ name: string | null }>();
    expect(unnamed).toEqual({ name: null });
  });
});

describe("attendee rows from the projection", () => {
  it("inserts one row per seat once, under redelivery, keeping names given before the header arrived", async () => {
    const klass = await makeClass();
    const session = await makeSession(klass.id);
    const customer = await makeCustomer();
    const booking = testProjection({ id: `bkg_${crypto.randomUUID().slice(0, 8)}-${session.id}`, customerId: customer.id, classId: klass.id, guestCount: 3 });
    // A group booking (or a fast customer) named seat 3 before the projection got here.
    await env.DB.prepare(`INSERT INTO booking_attendees (id, booking_id, position, name) VALUES (?, ?, 3, 'Named Early')`).bind(attendeeId(booking.id, 3), booking.id).run();
    const line = { kind: "line" as const, change: { booking, sessionId: session.id, seats: 3, status: "confirmed" as const, version: 1, at: Date.now() } };
    await writeProjection(env.DB, [line]);
    await writeProjection(env.DB, [line, line]);
    const { results } = await env.DB.prepare(`SELECT id, position, name, email FROM booking_attendees WHERE booking_id = ? ORDER BY position`).bind(booking.id).all();
    expect(results).toEqual([
      { id: attendeeId(booking.id, 1), position: 1, name: "Ada Customer", email: booking.customer!.email },
      { id: attendeeId(booking.id, 2), position: 2, name: null, email: null },
      { id: attendeeId(booking.id, 3), position: 3, name: "Named Early", email: null },
    ]);
  });
});
