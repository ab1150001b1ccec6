/**
 * Nobody takes a session hostage (issue 14): each test is written as the attack — one client
 * address with throwaway emails, a known victim's email, a guest's key replayed from elsewhere —
 * and asserts the refusal. These run with wrangler.toml's share and window caps (vitest.config.ts
 * turns them off for the other tests, which book many seats from one address).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, dropInBookingBody, holdBody, nextClientIp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { tokenFor } from "./helpers";
import { strictCall } from "./hostage-helpers";
import { fullSession, joinBody } from "./waitlist-helpers";
import { confirmToken } from "../src/durable-objects/outbox";

const hold = (body: unknown, options: Parameters<typeof strictCall>[2] = {}) => strictCall("POST", "/api/v1/holds", { ...options, body });
const book = (body: unknown, options: Parameters<typeof strictCall>[2] = {}) => strictCall("POST", "/api/v1/bookings", { ...options, body });

describe("one client address with throwaway emails", () => {
  it("holds at most a quarter of a small session, however many emails it uses", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const attacker = nextClientIp();
    expect((await hold(holdBody(session.id, 2, uniqueEmail("throwaway")), { ip: attacker })).status).toBe(201);
    const second = await hold(holdBody(session.id, 2, uniqueEmail("throwaway")), { ip: attacker });
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client", limit: 2 } });
    // One email asking for more than its share from a fresh address is refused too.
    const greedy = await hold(holdBody(session.id, 3, uniqueEmail("greedy")));
    expect(greedy.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "email", limit: 2 } });
    // Everyone else can still buy.
    expect(await availability(session.id)).toMatchObject({ held: 2, availableSpots: 6 });
    expect((await hold(holdBody(session.id, 2, uniqueEmail("real")))).status).toBe(201);
  });

  it("counts sub-addresses (+tag) as the address they reach", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const local = `ann-${crypto.randomUUID().slice(0, 8)}`;
    expect((await hold(holdBody(session.id, 2, `${local}+1@example.test`))).status).toBe(201);
    const tagged = await hold(holdBody(session.id, 1, `${local}+2@example.test`));
    expect(tagged.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "email" } });
  });

  it("is charged per session for a multi-session hold, across sessions in a sliding window, and fresh emails reset nothing", async () => {
    const { sessions } = await makeSchedule({ sessions: 4, capacity: 12, pricePence: 1000 });
    const ids = sessions.map((session) => session.id);
    const attacker = nextClientIp();
    const settings = { MAX_SEATS_PER_CLIENT_PER_WINDOW: "6" };
    // Three sessions × 2 seats: 6 of the window's 6.
    expect((await hold(holdBody(ids.slice(0, 3), 2, uniqueEmail("spread")), { ip: attacker, settings })).status).toBe(201);
    const more = await hold(holdBody(ids[3]!, 1, uniqueEmail("fresh")), { ip: attacker, settings });
    expect(more.status).toBe(409);
    expect(more.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client_window", limit: 6, alreadyTaken: 6 } });
    expect(Number(more.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await availability(ids[3]!)).toMatchObject({ held: 0 });
  });

  it("is charged nothing for a request the session refused", async () => {
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 1000 });
    const other = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    expect((await hold(holdBody(session.id, 1, uniqueEmail("first")))).status).toBe(201);
    const client = nextClientIp();
    const settings = { MAX_SEATS_PER_CLIENT_PER_WINDOW: "1", SEAT_SHARE_PER_SESSION_PERCENT: "100" };
    expect((await hold(holdBody(session.id, 1, uniqueEmail("late")), { ip: client, settings })).json.error.code).toBe("SESSION_FULL");
    // The full session's refusal gave the seat back to the window: this one fits.
    expect((await hold(holdBody(other.session.id, 1, uniqueEmail("late")), { ip: client, settings })).status).toBe(201);
  });

  it("cannot pass the window with parallel requests: the quota object counts them one at a time", async () => {
    const { sessions } = await makeSchedule({ sessions: 8, capacity: 12, pricePence: 1000 });
    const attacker = nextClientIp();
    const settings = { MAX_SEATS_PER_CLIENT_PER_WINDOW: "3" };
    const answers = await Promise.all(sessions.map((session) => hold(holdBody(session.id, 1, uniqueEmail("burst")), { ip: attacker, settings })));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(3);
    expect(answers.filter((answer) => answer.json.error?.details?.scope === "client_window")).toHaveLength(5);
    // Control: the same burst from distinct addresses is all accepted, so the requests did overlap the check.
    const control = await Promise.all(sessions.map((session) => hold(holdBody(session.id, 1, uniqueEmail("burst")), { settings })));
    expect(control.every((answer) => answer.status === 201)).toBe(true);
  });

  it("does not limit staff", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const staff = await tokenFor("staff");
    const answer = await book(singleBookingBody(session.id, 1000, { guestCount: 6 }), { token: staff });
    expect(answer.status).toBe(201);
  });
});

describe("an attacker who knows the victim's email", () => {
  it("cannot use up the victim's allowance with junk naming a session that does not exist", async () => {
    const victim = uniqueEmail("victim");
    for (let i = 0; i < 31; i++) {
      const junk = await book(singleBookingBody("ses_does_not_exist", 1000, { contact: { email: victim, firstName: "Vic", lastName: "Tim" } }));
      expect(junk.status).toBe(404);
    }
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const real = await book(singleBookingBody(session.id, 1000, { contact: { email: victim, firstName: "Vic", lastName: "Tim" } }));
    expect(real.status).toBe(201);
  });

  it("cannot rate-limit the signed-in owner, whose own attempts draw on their account's allowance", async () => {
    const victim = uniqueEmail("owner");
    const contact = { email: victim, firstName: "Own", lastName: "Er" };
    const target = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    let limited = 0;
    for (let i = 0; i < 32; i++) {
      const attempt = await hold(holdBody(target.session.id, 1, victim));
      if (attempt.status === 429) limited += 1;
    }
    expect(limited).toBeGreaterThan(0); // the anonymous attempts did exhaust the email's bucket
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const own = await book(singleBookingBody(session.id, 1000, { contact }), { token: await tokenFor("customer", victim) });
    expect(own.status).toBe(201);
  });

  it("learns nothing about the victim's booking from a duplicate refusal; staff and the owner still see it", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const victim = uniqueEmail("known");
    const contact = { email: victim, firstName: "Kno", lastName: "Wn" };
    const first = await book(singleBookingBody(session.id, 1000, { contact }));
    expect(first.status).toBe(201);
    for (const attempt of [book(singleBookingBody(session.id, 1000, { contact })), hold(holdBody(session.id, 1, victim))]) {
      const refused = await attempt;
      expect(refused.status).toBe(409);
      expect(refused.json.error.code).toBe("DUPLICATE_BOOKING");
      expect(JSON.stringify(refused.json.error)).not.toContain(first.json.booking.id);
      expect(refused.json.error.details).toEqual({});
    }
    const owner = await book(singleBookingBody(session.id, 1000, { contact }), { token: await tokenFor("customer", victim) });
    expect(owner.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: { existingBookingId: first.json.booking.id } });
  });
});

describe("a guest's Idempotency-Key", () => {
  it("is scoped by the contact email: another guest choosing the same key books their own seat", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const key = `shared-${crypto.randomUUID()}`;
    const first = await book(singleBookingBody(session.id, 1000), { key });
    const second = await book(singleBookingBody(session.id, 1000), { key });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.json.booking.id).not.toBe(first.json.booking.id);
  });

  it("replayed from another client address returns the booking without its manage token, and says so", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const key = `guest-${crypto.randomUUID()}`;
    const body = singleBookingBody(session.id, 1000);
    const guest = nextClientIp();
    const original = await book(body, { key, ip: guest });
    expect(original.status).toBe(201);
    const stranger = await book(body, { key });
    expect(stranger.headers.get("Idempotent-Replayed")).toBe("true");
    expect(stranger.json).toMatchObject({ booking: { id: original.json.booking.id }, secretsWithheld: true });
    expect(stranger.json.manageToken).toBeUndefined();
    const sameGuest = await book(body, { key, ip: guest });
    expect(sameGuest.json.manageToken).toBe(original.json.manageToken);
  });

  it("replayed from another client address on a D1-kept route (a waitlist confirmation) returns the entry without its token", async () => {
    const { session } = await fullSession([1]);
    const joined = await strictCall("POST", `/api/v1/sessions/${session.id}/waitlist`, { body: joinBody(1) });
    const path = `/api/v1/waitlist-confirmations/${await confirmToken(env.JWT_SECRET, { sessionId: session.id, entryId: joined.json.entry.id })}`;
    const key = `confirm-${crypto.randomUUID()}`;
    const guest = nextClientIp();
    const original = await strictCall("POST", path, { key, ip: guest });
    expect(original.status).toBe(200);
    expect(original.json.token).toEqual(expect.any(String));
    const stranger = await strictCall("POST", path, { key });
    expect(stranger.headers.get("Idempotent-Replayed")).toBe("true");
    expect(stranger.json).toMatchObject({ entry: { id: joined.json.entry.id }, secretsWithheld: true });
    expect(stranger.json.token).toBeUndefined();
    expect((await strictCall("POST", path, { key, ip: guest })).json.token).toBe(original.json.token);
  });

  it("on a route that does not exist leaves nothing stored", async () => {
    const key = `nowhere-${crypto.randomUUID()}`;
    const answer = await strictCall("POST", "/api/v1/no-such-route", { key, body: { email: uniqueEmail() } });
    expect(answer.status).toBe(404);
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM idempotency_keys WHERE key = ?`).bind(key).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});

describe("a hold", () => {
  it("confirms only a booking of its own session and seats; its seats stay with it", async () => {
    const x = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const y = await makeBookableSession({ capacity: 8, pricePence: 1000, classId: x.klass.id });
    const email = uniqueEmail("holder");
    const contact = { email, firstName: "Hol", lastName: "Der" };
    const taken = await hold(holdBody(x.session.id, 1, email));
    expect(taken.status).toBe(201);
    const elsewhere = await book(singleBookingBody(y.session.id, 1000, { holdId: taken.json.holdId, contact }));
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.json.error.code).toBe("HOLD_EXPIRED");
    const moreSeats = await book(singleBookingBody(x.session.id, 1000, { holdId: taken.json.holdId, contact, guestCount: 2 }));
    expect(moreSeats.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });
    expect(await availability(y.session.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await availability(x.session.id)).toMatchObject({ booked: 0, held: 1 });
    const own = await book(singleBookingBody(x.session.id, 1000, { holdId: taken.json.holdId, contact }));
    expect(own.status).toBe(201);
    expect(await availability(x.session.id)).toMatchObject({ booked: 1, held: 0 });
  });

  it("of a drop-in does not confirm a drop-in of other sessions", async () => {
    const { sessions } = await makeSchedule({ sessions: 3, capacity: 8, pricePence: 1000 });
    const [a, b, c] = sessions.map((session) => session.id) as [string, string, string];
    const email = uniqueEmail("dropin");
    const taken = await hold(holdBody([a, b], 1, email));
    expect(taken.status).toBe(201);
    const other = await book(dropInBookingBody([a, c], 1000, { holdId: taken.json.holdId, contact: { email, firstName: "Dro", lastName: "Pin" } }));
    expect(other.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "mismatch" } });
    expect(await availability(c)).toMatchObject({ booked: 0, held: 0 });
  });
});
