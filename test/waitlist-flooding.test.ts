/**
 * Nobody floods a waitlist (issue 14, finding 2): written as the attack — one client address
 * joining with throwaway emails, then a freed seat — and asserting that the seat goes to a real
 * buyer or a confirmed party, never to a throwaway entry. Finding 6 for waitlists: a repeat join
 * by someone who only knows the email learns nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { availability, nextClientIp, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { tokenFor } from "./helpers";
import { strictCall } from "./hostage-helpers";
import { cancelBooking, confirmByLink, entryOf, fullSession, joinBody, messageTo } from "./waitlist-helpers";

const joinAnonymously = (sessionId: string, body: unknown, options: Parameters<typeof strictCall>[2] = {}) =>
  strictCall("POST", `/api/v1/sessions/${sessionId}/waitlist`, { ...options, body });

describe("one client address flooding a waitlist with throwaway emails", () => {
  it("gets three parties in line at most, and none of them is offered a freed seat until its email is confirmed", async () => {
    const { session, bookings, pricePence } = await fullSession([1, 1, 1, 1]);
    const attacker = nextClientIp();
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await joinAnonymously(session.id, joinBody(1, { email: `nobody${i}-${crypto.randomUUID().slice(0, 6)}@invalid.example` }), { ip: attacker }));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, ...Array(9).fill(409)]);
    expect(answers[3]!.json.error).toMatchObject({ code: "WAITLIST_LIMIT_EXCEEDED", details: { scope: "client", limit: 3 } });
    const throwaway = answers[0]!.json.entry;
    expect(throwaway).toMatchObject({ confirmed: false, position: null, confirmBy: expect.any(String) });

    // A cancellation frees a seat: no throwaway entry is offered it, and a real buyer gets it.
    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    for (const answer of answers.slice(0, 3)) expect((await entryOf(session.id, answer.json.entry.id)).status).toBe("waiting");
    expect(await availability(session.id)).toMatchObject({ availableSpots: 1 });
    expect((await strictCall("POST", "/api/v1/bookings", { body: singleBookingBody(session.id, pricePence) })).status).toBe(201);
  });

  it("control: a party whose email is confirmed by its join message's link takes its place and is offered the next freed seat", async () => {
    const { session, bookings } = await fullSession([1, 1]);
    const body = joinBody(1);
    const joined = await joinAnonymously(session.id, body);
    expect(joined.status).toBe(201);
    // The join message carries the link (its token masked in the stored copy).
    const message = await messageTo(body.email, "WAITLIST_CONFIRM");
    expect(message.content).toContain("/waitlist-confirmations/[redacted]");
    // The link opens the page, not the JSON API.
    expect(message.content).not.toContain("/api/v1/waitlist-confirmations");
    const confirmed = await confirmByLink(session.id, joined.json.entry.id);
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toMatchObject({ entry: { confirmed: true, position: 1, confirmBy: null }, token: expect.any(String) });
    // The entry's token came with the confirmation, not with the anonymous join.
    expect(joined.json.token).toBeUndefined();
    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    expect(await entryOf(session.id, joined.json.entry.id)).toMatchObject({ status: "offered" });
  });

  it("a party confirmed after a seat was freed is offered it at once; a party signed in as the email's owner needs no link", async () => {
    const { session, bookings } = await fullSession([1, 1]);
    const anonymous = await joinAnonymously(session.id, joinBody(1));
    const ownerBody = joinBody(1);
    const owner = await joinAnonymously(session.id, ownerBody, { token: await tokenFor("customer", ownerBody.email) });
    expect(owner.json.entry).toMatchObject({ confirmed: true, position: 1 });
    // The signed-in owner joined later but is first in line: the unconfirmed party is not in it yet.
    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    expect(await entryOf(session.id, owner.json.entry.id)).toMatchObject({ status: "offered" });
    expect((await cancelBooking(bookings[1]!)).status).toBe(200);
    expect(await entryOf(session.id, anonymous.json.entry.id)).toMatchObject({ status: "waiting" });
    await confirmByLink(session.id, anonymous.json.entry.id);
    expect(await entryOf(session.id, anonymous.json.entry.id)).toMatchObject({ status: "offered" });
  });

  it("unconfirmed entries leave the line when their time to confirm runs out, and their link then confirms nothing", async () => {
    const { session } = await fullSession([1]);
    const joined = await joinAnonymously(session.id, joinBody(1));
    await runInDurableObject(sessionStub(session.id), (_instance, state) => {
      state.storage.sql.exec(`UPDATE waitlist SET confirm_by = ? WHERE confirmed_at IS NULL`, Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect(await entryOf(session.id, joined.json.entry.id)).toMatchObject({ status: "expired" });
    const late = await confirmByLink(session.id, joined.json.entry.id);
    expect(late.status).toBe(404);
    expect(late.json.error.code).toBe("WAITLIST_ENTRY_NOT_FOUND");
  });

  it("joins only so many waitlists across sessions in the window, fresh emails or not", async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => fullSession([1])));
    const attacker = nextClientIp();
    const settings = { MAX_WAITLIST_JOINS_PER_CLIENT_PER_WINDOW: "2" };
    const answers = [];
    for (const { session } of sessions) answers.push(await joinAnonymously(session.id, joinBody(1), { ip: attacker, settings }));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 409]);
    expect(answers[2]!.json.error).toMatchObject({ code: "WAITLIST_LIMIT_EXCEEDED", details: { scope: "client_window", limit: 2 } });
    // Another address is not affected.
    expect((await joinAnonymously(sessions[2]!.session.id, joinBody(1), { settings })).status).toBe(201);
  });

  it("a refused join (seats free now) uses up nothing of the window", async () => {
    const { session } = await makeBookableSession({ capacity: 4 });
    const client = nextClientIp();
    const settings = { MAX_WAITLIST_JOINS_PER_CLIENT_PER_WINDOW: "1" };
    expect((await joinAnonymously(session.id, joinBody(1), { ip: client, settings })).json.error.code).toBe("WAITLIST_NOT_NEEDED");
    const { session: full } = await fullSession([1]);
    expect((await joinAnonymously(full.id, joinBody(1), { ip: client, settings })).status).toBe(201);
  });
});

describe("someone who knows a waiting party's email", () => {
  it("learns nothing from a repeat join: no entry, place, party size or join time", async () => {
    const { session } = await fullSession([4, 4]);
    const victim = uniqueEmail("victim");
    const joined = await joinAnonymously(session.id, joinBody(2, { email: victim }), { token: await tokenFor("customer", victim) });
    expect(joined.status).toBe(201);
    const probe = await joinAnonymously(session.id, joinBody(1, { email: victim }));
    expect(probe.status).toBe(409);
    expect(probe.json.error).toEqual(expect.objectContaining({ code: "DUPLICATE_BOOKING", details: {} }));
    expect(JSON.stringify(probe.json)).not.toContain(joined.json.entry.id);
    expect(probe.json.entry).toBeUndefined();
  });
});
