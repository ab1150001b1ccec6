/**
 * The session object's reduceSeats: the one way to give back some seats of a confirmed booking
 * (a group participant removed). Retries converge, a line changed meanwhile is refused, the freed
 * seat reopens a full session, and the routes are documented behind bearerAuth.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { projectionCaughtUp } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { call, eventually } from "./helpers";
import { doAvailability, groupBody, postGroup, staff } from "./groups-helpers";

/** The booking's price as D1 holds it, header and lines. */
async function d1Price(bookingId: string) {
  const header = await env.DB.prepare(`SELECT subtotal_pence AS subtotal, total_amount_pence AS total, guest_count AS seats FROM bookings WHERE id = ?`).bind(bookingId).first<{ subtotal: number; total: number; seats: number }>();
  const { results } = await env.DB.prepare(`SELECT price_pence AS price FROM booking_sessions WHERE booking_id = ? ORDER BY session_id`).bind(bookingId).all<{ price: number }>();
  return { ...header, lines: results.map((row) => row.price) };
}

describe("the price of a group booking that shrinks", () => {
  it("charges the seats that remain: removing 1 of 6 leaves 5 seats' price, in the DO, D1 and every view", async () => {
    const PRICE = 1750;
    const { session, klass } = await makeBookableSession({ capacity: 8, pricePence: PRICE });
    const created = await postGroup(groupBody(klass.id, session.id, 6));
    expect(created.status).toBe(201);
    const { group, bookings, participants } = created.json;
    expect(bookings[0].totalAmountPence).toBe(6 * PRICE);
    const removed = await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${participants[2].attendeeId}`, { token: await staff() });
    expect(removed.status).toBe(200);
    expect(removed.json.bookings[0]).toMatchObject({ guestCount: 5, subtotalPence: 5 * PRICE, totalAmountPence: 5 * PRICE, lines: [{ seats: 5, pricePence: 5 * PRICE }] });
    // The session's object recorded the price with the seats.
    const line = await env.SESSION.getByName(session.id).bookingLine(bookings[0].id);
    expect(line).toMatchObject({ seats: 5, booking: { guestCount: 5, totalAmountPence: 5 * PRICE, linePricePence: 5 * PRICE } });
    // D1 gets it through the projection, and the booking and group reads show it.
    await projectionCaughtUp(session.id);
    await eventually(async () => (await d1Price(bookings[0].id)).total === 5 * PRICE);
    expect(await d1Price(bookings[0].id)).toEqual({ subtotal: 5 * PRICE, total: 5 * PRICE, seats: 5, lines: [5 * PRICE] });
    const read = await call("GET", `/api/v1/bookings/${bookings[0].id}`, { token: await staff() });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ guestCount: 5, totalAmountPence: 5 * PRICE });
    const detail = await call("GET", `/api/v1/admin/bookings/groups/${group.id}`, { token: await staff() });
    expect(detail.json.bookings[0]).toMatchObject({ guestCount: 5, totalAmountPence: 5 * PRICE });
    expect(detail.json.participants).toHaveLength(5);
  });

  it("reprices a whole course's booking in every session, the shares adding up to the new total", async () => {
    const COURSE = 10_001; // per seat, odd: the sessions' shares differ by a penny
    const { klass, sessions } = await makeSchedule({ sessions: 3, capacity: 6, fullSchedulePricePence: COURSE });
    const created = await postGroup(groupBody(klass.id, "", 4, { sessionId: undefined, registrationType: "full_schedule" }));
    expect(created.status).toBe(201);
    const { group, bookings, participants } = created.json;
    const removed = await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${participants[0].attendeeId}`, { token: await staff() });
    expect(removed.status).toBe(200);
    const booking = removed.json.bookings[0];
    expect(booking.totalAmountPence).toBe(3 * COURSE);
    expect(booking.lines.reduce((sum: number, line: { pricePence: number }) => sum + line.pricePence, 0)).toBe(3 * COURSE);
    for (const session of sessions) await projectionCaughtUp(session.id);
    await eventually(async () => (await d1Price(bookings[0].id)).total === 3 * COURSE);
    const stored = await d1Price(bookings[0].id);
    expect(stored.lines.reduce((sum, price) => sum + price, 0)).toBe(3 * COURSE);
    expect(stored).toMatchObject({ subtotal: 3 * COURSE, seats: 3 });
  });
});

describe("SessionDO.reduceSeats", () => {
  it("shrinks a line once for the same target, refuses a stale count, and reopens a full session", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 3 });
    const created = await postGroup(groupBody(klass.id, session.id, 3));
    expect(created.status).toBe(201);
    const bookingId = created.json.bookings[0].id;
    const object = env.SESSION.getByName(session.id);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 3, status: "full" });

    const change = { bookingId, fromSeats: 3, toSeats: 2, changeId: "atd_x.3" };
    expect(await object.reduceSeats(change)).toMatchObject({ ok: true, changed: true, seats: 2, availability: { booked: 2, availableSpots: 1 } });
    // A retry of the same change is answered again and changes nothing more.
    expect(await object.reduceSeats(change)).toMatchObject({ ok: true, changed: false, seats: 2, availability: { booked: 2 } });
    // Another change from the same count (a second removal that read 3 seats too) is refused.
    expect(await object.reduceSeats({ ...change, changeId: "atd_x.2" })).toMatchObject({ ok: false, code: "SEATS_CHANGED" });
    // A caller that saw 3 seats and wants 1 is refused: the line has 2 now.
    expect(await object.reduceSeats({ bookingId, fromSeats: 3, toSeats: 1, changeId: "atd_x.1" })).toMatchObject({ ok: false, code: "SEATS_CHANGED", details: { seats: 2 } });
    expect(await object.reduceSeats({ bookingId: "bkg_0000000000000000-nope", fromSeats: 2, toSeats: 1, changeId: "atd_y.1" })).toMatchObject({ ok: false, code: "NOT_FOUND" });
    expect(await doAvailability(session.id)).toMatchObject({ booked: 2, availableSpots: 1 });

    // The line's new seats and the booking's guest count reach D1, and the object's own view of the booking.
    const [line] = await projectionCaughtUp(session.id);
    expect(line).toMatchObject({ bookingId, seats: 2, status: "confirmed" });
    expect((await object.bookingLine(bookingId))?.booking.guestCount).toBe(2);
    await eventually(async () => (await env.DB.prepare(`SELECT guest_count AS n FROM bookings WHERE id = ?`).bind(bookingId).first<{ n: number }>())?.n === 2);
    // The full session reopened with the seat given back.
    await eventually(() => env.DB.prepare(`SELECT 1 AS yes FROM events WHERE type = 'SESSION_REOPENED' AND session_id = ?`).bind(session.id).first());
  });
});

describe("OpenAPI", () => {
  it("documents the group routes behind bearerAuth", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const ops = [
      ["/api/v1/admin/bookings/groups", "post"],
      ["/api/v1/admin/bookings/groups", "get"],
      ["/api/v1/admin/bookings/groups/{id}", "get"],
      ["/api/v1/admin/bookings/groups/{id}/participants", "post"],
      ["/api/v1/admin/bookings/groups/{id}/participants/{attendeeId}", "delete"],
      ["/api/v1/admin/bookings/groups/{id}/cancel", "post"],
    ] as const;
    for (const [path, method] of ops) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(op.responses["403"]).toBeDefined();
    }
  });
});

describe("group message templates", () => {
  const place = { className: "First aid", studioName: "North Studio", timeZone: "Europe/London" };
  const sessions = [{ startsAt: Date.parse("2030-03-16T18:00:00Z") }, { startsAt: Date.parse("2030-03-23T18:00:00Z") }];

  it("lists every participant and session for the organiser, and names the class and time for a participant", async () => {
    const { renderNotification } = await import("../src/domain/notification-templates");
    const organiser = renderNotification({
      kind: "GROUP_CONFIRMATION",
      data: { ...place, groupName: "Acme team", reference: "PO-1", company: "Acme", sessions, participants: [{ name: "Ada Lovelace" }, { name: "<b>Grace</b>" }] },
      recipient: { firstName: "Olive" },
      baseUrl: "https://book.example.com",
    });
    expect(organiser.ok).toBe(true);
    if (!organiser.ok) return;
    expect(organiser.message.text).toContain("Ada Lovelace");
    expect(organiser.message.text).toContain("Sessions (2)");
    expect(organiser.message.text).toContain("PO-1");
    // Names are text, never markup.
    expect(organiser.message.html).not.toContain("<b>Grace</b>");
    const participant = renderNotification({
      kind: "GROUP_PARTICIPANT_CONFIRMATION",
      data: { ...place, groupName: "Acme team", participantName: "Ada Lovelace", organiserName: "Olive Organiser", sessions: sessions.slice(0, 1) },
      recipient: { firstName: "Ada" },
      baseUrl: "https://book.example.com",
    });
    expect(participant.ok && participant.message.subject).toContain("You are booked: First aid");
    expect(participant.ok && participant.message.text).toContain("North Studio");
    expect(participant.ok && participant.message.text).not.toContain("http");
    // Data that does not fit is refused, not sent.
    const bad = renderNotification({ kind: "GROUP_CONFIRMATION", data: { ...place, groupName: "x", reference: "y", sessions, participants: [] }, recipient: {}, baseUrl: "https://book.example.com" });
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining("participants") });
  });
});
