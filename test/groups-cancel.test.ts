/**
 * Cancelling a group as a whole: every booking of it (the group's seats in every session and each
 * participant's own), the seats free for others, one message to the organiser and to each
 * participant with an email, idempotent; who may call it; and a cancel racing an added participant.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";
import { doAvailability, groupBody, participants, postGroup, staff } from "./groups-helpers";

const mailbox = async (email: string) => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data as { subject: string; text: string }[];
const cancelMails = async (email: string) => (await mailbox(email)).filter((mail) => mail.subject.startsWith("Group booking cancelled"));
const cancelGroup = async (groupId: string, body?: unknown, token?: string) =>
  call("POST", `/api/v1/admin/bookings/groups/${groupId}/cancel`, { token: token ?? (await staff()), ...(body === undefined ? {} : { body }) });
const addParticipant = async (groupId: string, person: { name: string; email?: string }) =>
  call("POST", `/api/v1/admin/bookings/groups/${groupId}/participants`, { token: await staff(), body: person });
const sentToGroup = async (bookingIds: string[]) => {
  const { results } = await env.DB.prepare(`SELECT count(*) AS n FROM booking_communications WHERE type = 'GROUP_CANCELLED' AND booking_id IN (SELECT value FROM json_each(?))`)
    .bind(JSON.stringify(bookingIds))
    .all<{ n: number }>();
  return results[0]!.n;
};

describe("POST /api/v1/admin/bookings/groups/{id}/cancel", () => {
  it("cancels the group's booking and a participant's own, frees the seats, tells everyone once, and answers a repeat the same", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 6, pricePence: 1500 });
    const people = participants(3);
    const body = groupBody(klass.id, session.id, 3, { participants: [...people, { name: "Nora Noemail" }] });
    const created = await postGroup(body);
    expect(created.status).toBe(201);
    const added = await addParticipant(created.json.group.id, { name: "Late Larry", email: uniqueEmail("late") });
    expect(added.status).toBe(201);
    const groupId = created.json.group.id;
    expect(await doAvailability(session.id)).toMatchObject({ booked: 5, availableSpots: 1 });

    const first = await cancelGroup(groupId, { reason: "The team's training moved" });
    expect(first.status).toBe(200);
    expect(first.json.group.status).toBe("cancelled");
    expect(first.json.bookings).toHaveLength(2);
    for (const booking of first.json.bookings) expect(booking).toMatchObject({ status: "cancelled", lines: [{ status: "cancelled" }] });
    expect(first.json.participants).toEqual([]);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 0, availableSpots: 6 });

    // The organiser and each participant with an email are told, the reason with it.
    const organiserMail = await eventually(async () => (await cancelMails(body.organiser.email))[0]);
    expect(organiserMail.text).toContain(body.reference);
    expect(organiserMail.text).toContain("The team's training moved");
    for (const email of [...people.map((p) => p.email), added.json.participant.email]) {
      const mail = await eventually(async () => (await cancelMails(email))[0]);
      expect(mail.text).toContain("your place");
    }
    const bookingIds = first.json.bookings.map((b: { id: string }) => b.id);
    await eventually(async () => (await sentToGroup(bookingIds)) === 5);

    // A repeat answers the same and sends nothing more.
    const again = await cancelGroup(groupId);
    expect(again.status).toBe(200);
    expect(again.json.group.status).toBe("cancelled");
    expect(again.json.bookings.map((b: { id: string; status: string }) => [b.id, b.status])).toEqual(first.json.bookings.map((b: { id: string; status: string }) => [b.id, b.status]));
    expect(await doAvailability(session.id)).toMatchObject({ booked: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await sentToGroup(bookingIds)).toBe(5);
    expect(await cancelMails(body.organiser.email)).toHaveLength(1);

    // D1 and the detail agree; the group takes no one now (409, stable code), nor loses anyone.
    await projectionCaughtUp(session.id);
    const detail = await call("GET", `/api/v1/admin/bookings/groups/${groupId}`, { token: await staff() });
    expect(detail.json.group.status).toBe("cancelled");
    for (const booking of detail.json.bookings) expect(booking.status).toBe("cancelled");
    const refused = await addParticipant(groupId, { name: "Too Late" });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "group_cancelled" } });
    const removal = await call("DELETE", `/api/v1/admin/bookings/groups/${groupId}/participants/${created.json.participants[0].attendeeId}`, { token: await staff() });
    expect(removal.status).toBe(409);
    expect(removal.json.error.code).toBe("SESSION_NOT_BOOKABLE");
  });

  it("gives a cancelled group's seats to others: a full session takes new bookings again", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 4, pricePence: 1200 });
    const created = await postGroup(groupBody(klass.id, session.id, 4));
    expect(created.status).toBe(201);
    const refused = await postBooking(singleBookingBody(session.id, 1200));
    expect(refused.status).toBe(409);
    expect((await cancelGroup(created.json.group.id)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await postBooking(singleBookingBody(session.id, 1200))).status).toBe(201);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 4, status: "full" });
  });

  it("cancels a whole course's booking in every session", async () => {
    const { klass, sessions } = await makeSchedule({ sessions: 3, capacity: 5, fullSchedulePricePence: 6000 });
    const created = await postGroup(groupBody(klass.id, "", 3, { sessionId: undefined, registrationType: "full_schedule" }));
    expect(created.status).toBe(201);
    const cancelled = await cancelGroup(created.json.group.id);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.bookings[0].lines.map((line: { status: string }) => line.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    for (const session of sessions) expect(await doAvailability(session.id)).toMatchObject({ booked: 0, availableSpots: 5 });
  });

  it("answers 404 for an unknown group, 400 for a bad reason, 403 for a customer and 401 without a token", async () => {
    expect((await cancelGroup("grp_nope")).status).toBe(404);
    const { session, klass } = await makeBookableSession({ capacity: 3 });
    const created = await postGroup(groupBody(klass.id, session.id, 2));
    const groupId = created.json.group.id;
    const bad = await cancelGroup(groupId, { reason: "x".repeat(501) });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect((await cancelGroup(groupId, {}, await tokenFor("customer"))).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/bookings/groups/${groupId}/cancel`)).status).toBe(401);
    // None of them touched the group.
    expect(await doAvailability(session.id)).toMatchObject({ booked: 2 });
    expect((await call("GET", `/api/v1/admin/bookings/groups/${groupId}`, { token: await staff() })).json.group.status).toBe("active");
  });
});

describe("races", () => {
  it("two cancels at once: both answer the cancelled group, the seats are freed once and the organiser is told once", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5 });
    const body = groupBody(klass.id, session.id, 3);
    const created = await postGroup(body);
    const [a, b] = await Promise.all([cancelGroup(created.json.group.id), cancelGroup(created.json.group.id)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.group.status).toBe("cancelled");
    expect(b.json.group.status).toBe("cancelled");
    expect(await doAvailability(session.id)).toMatchObject({ booked: 0, availableSpots: 5 });
    await eventually(async () => (await cancelMails(body.organiser.email)).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await cancelMails(body.organiser.email)).toHaveLength(1);
  });

  it("cancel vs add-participant: no seat outlives the cancelled group, whichever wins (control: an add alone keeps its seat)", async () => {
    // One request starts a little after the other (negative: the add later), so rounds fall on both sides and in between.
    const DELAYS = [-20, -10, -5, 0, 5, 10, 20, 40];
    const outcomes: number[] = [];
    let overlapped = 0;
    for (const [round, delay] of DELAYS.entries()) {
      const { session, klass } = await makeBookableSession({ capacity: 6 });
      const created = await postGroup(groupBody(klass.id, session.id, 2));
      const groupId = created.json.group.id;
      const windows: { start: number; end: number }[] = [];
      const timed = async <T>(send: () => Promise<T>) => {
        const start = performance.now();
        const answer = await send();
        windows.push({ start, end: performance.now() });
        return answer;
      };
      const [added, cancelled] = await Promise.all([
        timed(async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, -delay)));
          return addParticipant(groupId, { name: `Racer ${"ABCDEFGH"[round]}` });
        }),
        timed(async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
          return cancelGroup(groupId);
        }),
      ]);
      if (windows[0]!.start < windows[1]!.end && windows[1]!.start < windows[0]!.end) overlapped++;
      outcomes.push(added.status);
      expect(cancelled.status).toBe(200);
      // The add either came before the cancel (201, then cancelled with the rest) or after it (409).
      expect([201, 409]).toContain(added.status);
      if (added.status === 409) expect(added.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "group_cancelled" } });
      expect(await doAvailability(session.id)).toMatchObject({ booked: 0, availableSpots: 6 });
      const detail = await call("GET", `/api/v1/admin/bookings/groups/${groupId}`, { token: await staff() });
      expect(detail.json.participants).toEqual([]);
    }
    console.log(JSON.stringify({ msg: "cancel vs add outcomes", outcomes, overlapped }));
    // The requests were in flight at once (the test can see a race).
    expect(overlapped).toBeGreaterThan(0);
    // Control: without a cancel, the same add keeps its seat, so a seat left over would be seen.
    const { session, klass } = await makeBookableSession({ capacity: 6 });
    const created = await postGroup(groupBody(klass.id, session.id, 2));
    expect((await addParticipant(created.json.group.id, { name: "Control" })).status).toBe(201);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 3 });
  });
});
