/**
 * Loopholes a review found in the first cut of the hostage limits (issue 14), each written as the
 * attack and asserting the refusal: an Idempotency-Key reused to dodge the seat window, junk with
 * a wrong amount locking a guest out, waitlist offers as a way round the per-session share, an
 * entry made in someone else's name, sub-addresses used against a signed-in owner.
 */
import { describe, expect, it } from "vitest";
import { nextClientIp, holdBody, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { tokenFor } from "./helpers";
import { strictCall } from "./hostage-helpers";
import { cancelBooking, confirmByLink, entryOf, joinBody } from "./waitlist-helpers";

const hold = (body: unknown, options: Parameters<typeof strictCall>[2] = {}) => strictCall("POST", "/api/v1/holds", { ...options, body });
const book = (body: unknown, options: Parameters<typeof strictCall>[2] = {}) => strictCall("POST", "/api/v1/bookings", { ...options, body });

describe("one Idempotency-Key used again", () => {
  it("for other sessions is charged to the window each time", async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => makeBookableSession({ capacity: 8, pricePence: 1000 })));
    const attacker = nextClientIp();
    const email = uniqueEmail("spread");
    const key = `same-${crypto.randomUUID()}`;
    const settings = { MAX_SEATS_PER_CLIENT_PER_WINDOW: "4" };
    const answers = [];
    for (const { session } of sessions) answers.push(await hold(holdBody(session.id, 2, email), { ip: attacker, key, settings }));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 409]);
    expect(answers[2]!.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client_window" } });
  });

  it("with another body (422) gives back nothing the first request was charged", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const attacker = nextClientIp();
    const key = `reuse-${crypto.randomUUID()}`;
    const settings = { MAX_SEATS_PER_CLIENT_PER_WINDOW: "3" };
    const email = uniqueEmail("reuse");
    expect((await hold(holdBody(session.id, 2, email), { ip: attacker, key, settings })).status).toBe(201);
    expect((await hold(holdBody(session.id, 1, email), { ip: attacker, key, settings })).status).toBe(422);
    const { session: other } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const more = await hold(holdBody(other.id, 2, uniqueEmail("more")), { ip: attacker, settings });
    expect(more.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "client_window", limit: 3 } });
  });

  it("of 255 characters is a normal request, never a 5xx", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const answer = await hold(holdBody(session.id, 1, uniqueEmail("long")), { key: "k".repeat(255) });
    expect(answer.status).toBe(201);
  });
});

describe("junk naming a guest's email with a wrong amount or a made-up promo code", () => {
  it("does not use up the guest's allowance", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const victim = uniqueEmail("guest");
    const contact = { email: victim, firstName: "Vic", lastName: "Tim" };
    for (let i = 0; i < 31; i++) {
      const junk = await book(singleBookingBody(session.id, 1000, { contact, totalAmountPence: 1 }));
      expect(junk.json.error.code).toBe("AMOUNT_MISMATCH");
    }
    const real = await book(singleBookingBody(session.id, 1000, { contact }));
    expect(real.status).toBe(201);
  });
});

describe("a line of waiting parties from one address", () => {
  it("is not offered seats past the address's share of the session; another address's party is", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const attacker = nextClientIp();
    // The attacker books its share (2 of 8); six others fill the rest.
    expect((await book(singleBookingBody(session.id, 1000, { guestCount: 2 }), { ip: attacker })).status).toBe(201);
    const others = [];
    for (let i = 0; i < 3; i++) {
      const taken = await book(singleBookingBody(session.id, 1000, { guestCount: 2 }));
      others.push({ id: taken.json.booking.id, manageToken: taken.json.manageToken });
    }
    // Three confirmed parties from the attacker's address (a catch-all domain confirms any address), then a real one.
    const lined = [];
    for (let i = 0; i < 3; i++) {
      const joined = await strictCall("POST", `/api/v1/sessions/${session.id}/waitlist`, { body: joinBody(2), ip: attacker });
      await confirmByLink(session.id, joined.json.entry.id);
      lined.push(joined.json.entry.id);
    }
    const real = await strictCall("POST", `/api/v1/sessions/${session.id}/waitlist`, { body: joinBody(2) });
    await confirmByLink(session.id, real.json.entry.id);

    expect((await cancelBooking(others[0]!)).status).toBe(200);
    for (const id of lined) expect((await entryOf(session.id, id)).status).toBe("waiting");
    expect(await entryOf(session.id, real.json.entry.id)).toMatchObject({ status: "offered" });
  });
});

describe("someone who knows a customer's email", () => {
  it("cannot keep an entry made in their name: the owner signing in takes it over, in line at once", async () => {
    const { session } = await makeBookableSession({ capacity: 2, pricePence: 1000 });
    await book(singleBookingBody(session.id, 1000, { guestCount: 2 }), { settings: { SEAT_SHARE_PER_SESSION_PERCENT: "100" } });
    const victim = uniqueEmail("victim");
    const squat = await strictCall("POST", `/api/v1/sessions/${session.id}/waitlist`, { body: joinBody(1, { email: victim }) });
    expect(squat.status).toBe(201);
    expect(squat.json.token).toBeUndefined();
    expect(squat.json.entry).toMatchObject({ confirmed: false });
    const owner = await strictCall("POST", `/api/v1/sessions/${session.id}/waitlist`, { body: joinBody(1, { email: victim }), token: await tokenFor("customer", victim) });
    expect(owner.status).toBe(200);
    expect(owner.json.entry).toMatchObject({ id: squat.json.entry.id, confirmed: true, position: 1 });
    expect(owner.json.token).toEqual(expect.any(String));
  });

  it("cannot limit them in a session with holds under the address's +tags", async () => {
    const { session } = await makeBookableSession({ capacity: 8, pricePence: 1000 });
    const [local, domain] = uniqueEmail("tagged").split("@");
    const victim = `${local}@${domain}`;
    expect((await hold(holdBody(session.id, 2, `${local}+1@${domain}`))).status).toBe(201);
    // An anonymous booking under the address itself is limited: its sub-address already holds its share.
    const anonymous = await book(singleBookingBody(session.id, 1000, { contact: { email: victim, firstName: "Vic", lastName: "Tim" } }));
    expect(anonymous.json.error).toMatchObject({ code: "SEAT_LIMIT_EXCEEDED", details: { scope: "email" } });
    const own = await book(singleBookingBody(session.id, 1000, { contact: { email: victim, firstName: "Vic", lastName: "Tim" } }), {
      token: await tokenFor("customer", victim),
    });
    expect(own.status).toBe(201);
  });
});

