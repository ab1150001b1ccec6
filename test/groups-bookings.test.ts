/**
 * Group and corporate bookings: one booking of N seats for N named participants (a session or a
 * whole course), the organiser's and each participant's confirmation, adding and removing a
 * participant (the session's seat count moves by one each time), and who may call the routes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1Lines, projectionCaughtUp, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { call, eventually, eventuallyPasses, tokenFor } from "./helpers";
import { doAvailability, groupBody, participants, postGroup, staff } from "./groups-helpers";

const mailbox = async (email: string) => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data as { subject: string; text: string }[];

describe("POST /api/v1/admin/bookings/groups", () => {
  it("books N participants into one session as one booking of N seats, names every seat and emails everyone", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10, pricePence: 2000 });
    const body = groupBody(klass.id, session.id, 4, { participants: [...participants(3), { name: "Nora Noemail" }] });
    const created = await postGroup(body);
    expect(created.status).toBe(201);
    const { group, bookings, participants: named } = created.json;
    expect(group).toMatchObject({ reference: body.reference, company: "Acme Ltd", classId: klass.id, sessionId: session.id, status: "active" });
    // No payer given: the organiser pays.
    expect(group.payer).toEqual(group.organiser);
    expect(bookings).toHaveLength(1);
    expect(bookings[0]).toMatchObject({ guestCount: 4, source: "staff", totalAmountPence: 8000, customer: { email: body.organiser.email } });
    expect(bookings[0].bookedBy).toMatch(/^staff:/);
    expect(named.map((p: { name: string }) => p.name)).toEqual(body.participants.map((p) => p.name));
    expect(named.map((p: { position: number }) => p.position)).toEqual([1, 2, 3, 4]);
    expect(named[0].attendeeId).toBe(`atd_${bookings[0].id.replace(/^bkg_/, "")}.1`);

    expect(await doAvailability(session.id)).toMatchObject({ booked: 4, availableSpots: 6 });
    await projectionCaughtUp(session.id);
    expect(await d1Lines(session.id)).toEqual([{ bookingId: bookings[0].id, seats: 4, status: "confirmed" }]);
    const stored = await env.DB.prepare(`SELECT source, booked_by AS bookedBy, guest_count AS guestCount FROM bookings WHERE id = ?`).bind(bookings[0].id).first();
    expect(stored).toMatchObject({ source: "staff", guestCount: 4, bookedBy: bookings[0].bookedBy });

    // The organiser's confirmation lists everyone; each participant with an email gets their own, without a manage link.
    const organiserMail = await eventually(async () => (await mailbox(body.organiser.email))[0]);
    expect(organiserMail.subject).toContain("Group booking confirmed");
    for (const person of body.participants) expect(organiserMail.text).toContain(person.name);
    expect(organiserMail.text).toContain(body.reference);
    for (const person of body.participants.slice(0, 3)) {
      const mail = await eventually(async () => (await mailbox(person.email!))[0]);
      expect(mail.subject).toContain("You are booked");
      expect(mail.text).toContain(person.name);
      expect(mail.text).not.toContain("token=");
    }
    // The payer is not sent the ordinary BOOKING_CONFIRMED as well: the group's messages replace it.
    const kinds = await eventually(async () => {
      const { results } = await env.DB.prepare(`SELECT type FROM booking_communications WHERE booking_id = ? ORDER BY type`).bind(bookings[0].id).all<{ type: string }>();
      return results.length === 4 ? results.map((row) => row.type) : null;
    });
    expect(kinds).toEqual(["GROUP_CONFIRMATION", "GROUP_PARTICIPANT_CONFIRMATION", "GROUP_PARTICIPANT_CONFIRMATION", "GROUP_PARTICIPANT_CONFIRMATION"]);
    // GROUP_BOOKED reaches the events table.
    const event = await eventually(() => env.DB.prepare(`SELECT seats, booking_id AS bookingId, source FROM events WHERE type = 'GROUP_BOOKED' AND booking_id = ?`).bind(bookings[0].id).first());
    expect(event).toEqual({ seats: 4, bookingId: bookings[0].id, source: "staff" });

    // The detail and the list show it.
    const detail = await call("GET", `/api/v1/admin/bookings/groups/${group.id}`, { token: await staff() });
    expect(detail.status).toBe(200);
    expect(detail.json.participants).toEqual(named);
  });

  it("books a whole course: one booking of N seats in every session, with a separate payer", async () => {
    const { klass, sessions } = await makeSchedule({ sessions: 3, capacity: 6, fullSchedulePricePence: 9000 });
    const payer = { name: "Penny Payer", email: uniqueEmail("payer") };
    const created = await postGroup(groupBody(klass.id, "", 3, { sessionId: undefined, registrationType: "full_schedule", payer }));
    expect(created.status).toBe(201);
    const [booking] = created.json.bookings;
    expect(booking).toMatchObject({ registrationType: "FULL_SCHEDULE", guestCount: 3, totalAmountPence: 27000, customer: { email: payer.email } });
    expect(booking.lines.map((line: { sessionId: string }) => line.sessionId)).toEqual(sessions.map((s) => s.id));
    for (const session of sessions) expect(await doAvailability(session.id)).toMatchObject({ booked: 3, availableSpots: 3 });
    expect(created.json.group.sessionId).toBeNull();
    // The organiser's message lists every session.
    const mail = await eventually(async () => (await mailbox(created.json.group.organiser.email))[0]);
    expect(mail.text).toContain("Sessions (3)");
  });

  it("refuses a reference already used with 409 ALREADY_EXISTS, taking no seats", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10 });
    const first = await postGroup(groupBody(klass.id, session.id, 2));
    expect(first.status).toBe(201);
    const again = await postGroup(groupBody(klass.id, session.id, 2, { reference: first.json.group.reference }));
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("ALREADY_EXISTS");
    expect(await doAvailability(session.id)).toMatchObject({ booked: 2 });
  });

  it("refuses a group larger than the seats left with the booking's own code, and frees the reference", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 3 });
    const body = groupBody(klass.id, session.id, 4);
    const refused = await postGroup(body);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("INSUFFICIENT_CAPACITY");
    expect(await doAvailability(session.id)).toMatchObject({ booked: 0, held: 0 });
    // The refused group left nothing behind: its reference books once seats allow.
    const smaller = await postGroup({ ...body, participants: body.participants.slice(0, 3) });
    expect(smaller.status).toBe(201);
  });

  it("replays a repeat with the same Idempotency-Key instead of booking twice", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10 });
    const body = groupBody(klass.id, session.id, 3);
    const key = `grp-${crypto.randomUUID()}`;
    const first = await postGroup(body, { idempotencyKey: key });
    const second = await postGroup(body, { idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.json.group.id).toBe(first.json.group.id);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 3 });
  });

  it("validates the body (400 with field paths) and the class (422), and who may call (401, 403)", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10 });
    const other = await makeBookableSession({ capacity: 10 });
    const empty = await postGroup(groupBody(klass.id, session.id, 0, { participants: [] }));
    expect(empty.status).toBe(400);
    expect(empty.json.error.details.issues[0].path).toBe("participants");
    const tooMany = await postGroup(groupBody(klass.id, session.id, 51));
    expect(tooMany.status).toBe(400);
    const noSession = await postGroup(groupBody(klass.id, session.id, 2, { sessionId: undefined }));
    expect(noSession.status).toBe(400);
    expect(noSession.json.error.details.issues[0].path).toBe("sessionId");
    const badEmail = await postGroup(groupBody(klass.id, session.id, 1, { participants: [{ name: "Ann Example", email: "not-an-email" }] }));
    expect(badEmail.status).toBe(400);
    expect(badEmail.json.error.details.issues[0].path).toBe("participants.0.email");
    const wrongClass = await postGroup(groupBody(other.klass.id, session.id, 2));
    expect(wrongClass.status).toBe(422);
    expect(wrongClass.json.error.code).toBe("INVALID_REFERENCE");

    const body = groupBody(klass.id, session.id, 2);
    expect((await call("POST", "/api/v1/admin/bookings/groups", { body })).status).toBe(401);
    expect((await postGroup(body, { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/bookings/groups")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/bookings/groups", { token: await tokenFor("customer") })).status).toBe(403);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 0 });
  });
});

describe("GET /api/v1/admin/bookings/groups", () => {
  it("lists groups newest first in cursor pages, filtered by class", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 20 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await postGroup(groupBody(klass.id, session.id, 1))).json.group.id);
    const token = await staff();
    const first = await call("GET", `/api/v1/admin/bookings/groups?classId=${klass.id}&limit=2`, { token });
    expect(first.status).toBe(200);
    const next = await call("GET", `/api/v1/admin/bookings/groups?classId=${klass.id}&limit=2&cursor=${first.json.nextCursor}`, { token });
    expect([...first.json.data, ...next.json.data].map((g: { id: string }) => g.id)).toEqual([...ids].reverse());
    expect(next.json.nextCursor).toBeNull();
    expect((await call("GET", `/api/v1/admin/bookings/groups/grp_nope`, { token })).status).toBe(404);
  });
});

describe("adding and removing participants", () => {
  it("adds a participant as a one-seat booking and removes participants one seat at a time", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5 });
    const created = await postGroup(groupBody(klass.id, session.id, 3));
    const { group } = created.json;
    const token = await staff();
    expect(await doAvailability(session.id)).toMatchObject({ booked: 3 });

    const newcomer = { name: "Ned Newcomer", email: uniqueEmail("ned") };
    const added = await call("POST", `/api/v1/admin/bookings/groups/${group.id}/participants`, { token, body: newcomer });
    expect(added.status).toBe(201);
    expect(added.json.participant).toMatchObject({ name: "Ned Newcomer", position: 1 });
    expect(added.json.bookings).toHaveLength(2);
    expect(added.json.participants).toHaveLength(4);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 4 });
    const mail = await eventually(async () => (await mailbox(newcomer.email))[0]);
    expect(mail.subject).toContain("You are booked");

    // A seat of the group's 3-seat booking: the booking shrinks to 2, the others keep their names.
    const [first, second, third] = created.json.participants;
    const removed = await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${second.attendeeId}`, { token });
    expect(removed.status).toBe(200);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 3 });
    const names = removed.json.participants.map((p: { name: string }) => p.name);
    expect(names.sort()).toEqual([first.name, third.name, newcomer.name].sort());
    expect(removed.json.bookings[0].guestCount).toBe(2);
    // D1 follows: the line's seats, the header's guest count, and two named seats.
    await eventuallyPasses(async () => {
      expect(await d1Lines(session.id)).toContainEqual({ bookingId: created.json.bookings[0].id, seats: 2, status: "confirmed" });
      const header = await env.DB.prepare(`SELECT guest_count AS n FROM bookings WHERE id = ?`).bind(created.json.bookings[0].id).first<{ n: number }>();
      expect(header?.n).toBe(2);
    });
    const detail = await call("GET", `/api/v1/admin/bookings/groups/${group.id}`, { token });
    expect(detail.json.participants.map((p: { name: string }) => p.name).sort()).toEqual(names);

    // The newcomer's own booking is cancelled through the cancellation service.
    const gone = await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${added.json.participant.attendeeId}`, { token });
    expect(gone.status).toBe(200);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 2 });
    expect(gone.json.bookings.find((b: { id: string }) => b.id === added.json.participant.bookingId)?.status).toBe("cancelled");
    expect(gone.json.participants).toHaveLength(2);

    // Gone already, or never on the group: 404.
    const twice = await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${added.json.participant.attendeeId}`, { token });
    expect(twice.status).toBe(404);
    expect((await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/atd_nope.1`, { token })).status).toBe(404);
    // Who may not: anonymous 401, a customer 403.
    expect((await call("DELETE", `/api/v1/admin/bookings/groups/${group.id}/participants/${first.attendeeId}`)).status).toBe(401);
    expect((await call("POST", `/api/v1/admin/bookings/groups/${group.id}/participants`, { token: await tokenFor("customer"), body: newcomer })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/bookings/groups/${group.id}/participants`, { token, body: { name: "" } })).status).toBe(400);
  });

  it("refuses a participant when the session is full, and shrinks every session of a course", async () => {
    const { klass, sessions } = await makeSchedule({ sessions: 2, capacity: 3 });
    const created = await postGroup(groupBody(klass.id, "", 3, { sessionId: undefined, registrationType: "full_schedule", patternId: undefined }));
    expect(created.status).toBe(201);
    const token = await staff();
    const full = await call("POST", `/api/v1/admin/bookings/groups/${created.json.group.id}/participants`, { token, body: { name: "Late Comer" } });
    expect(full.status).toBe(409);
    expect(full.json.error.code).toBe("SESSION_FULL");

    const last = created.json.participants[2];
    const removed = await call("DELETE", `/api/v1/admin/bookings/groups/${created.json.group.id}/participants/${last.attendeeId}`, { token });
    expect(removed.status).toBe(200);
    for (const session of sessions) expect(await doAvailability(session.id)).toMatchObject({ booked: 2, availableSpots: 1 });
    // Now there is room for one more, in every session.
    const added = await call("POST", `/api/v1/admin/bookings/groups/${created.json.group.id}/participants`, { token, body: { name: "Late Comer" } });
    expect(added.status).toBe(201);
    for (const session of sessions) expect(await doAvailability(session.id)).toMatchObject({ booked: 3 });
  });

  it("refuses removing a participant once the session has started (409 PARTICIPANTS_LOCKED)", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5 });
    const created = await postGroup(groupBody(klass.id, session.id, 2));
    expect(created.status).toBe(201);
    // The session starts: move its start into the past in D1 and in its object.
    const startsAt = Date.now() - 60_000;
    await env.DB.prepare(`UPDATE class_sessions SET starts_at = ?, updated_at = ? WHERE id = ?`).bind(startsAt, Date.now() + 1000, session.id).run();
    const snapshot = { sessionId: session.id, capacity: 5, startsAt, cancelled: false, configVersion: Date.now() + 1000, resources: [] };
    await env.SESSION.getByName(session.id).availability(snapshot);
    const refused = await call("DELETE", `/api/v1/admin/bookings/groups/${created.json.group.id}/participants/${created.json.participants[1].attendeeId}`, { token: await staff() });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("PARTICIPANTS_LOCKED");
    expect(await doAvailability(session.id)).toMatchObject({ booked: 2 });
    // The object refuses on its own too, whatever the caller thought.
    const direct = await env.SESSION.getByName(session.id).reduceSeats({ bookingId: created.json.bookings[0].id, fromSeats: 2, toSeats: 1, changeId: created.json.participants[1].attendeeId });
    expect(direct).toMatchObject({ ok: false, code: "PARTICIPANTS_LOCKED" });
  });
});
