/**
 * Session waitlists: joining and positions, automatic offers when seats free (cancellation,
 * expiry, decline, more capacity), accepting through the booking path, and staff tools.
 */
import { describe, expect, it } from "vitest";
import { call, eventually, eventuallyPasses, tokenFor } from "./helpers";
import {
  availability,
  expireHolds,
  holdBody,
  nextClientIp,
  postBooking,
  postHold,
  projectionCaughtUp,
  sessionStub,
  singleBookingBody,
  snapshotOf,
  uniqueEmail,
} from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import {
  acceptOffer,
  cancelBooking,
  currentOfferToken,
  d1Waitlist,
  entryOf,
  expireOffers,
  fullSession,
  join,
  joinBody,
  messageTo,
  sentMessages,
} from "./waitlist-helpers";

describe("joining a session's waitlist", () => {
  it("puts a party in line with its position and a token; the owner's repeat returns the same entry", async () => {
    const { session } = await fullSession([2]);
    const body = joinBody(1, { preferredContact: "email", alternativeDates: ["2030-01-05"], notes: "Any evening" });
    const first = await join(session.id, body);
    expect(first.status).toBe(201);
    expect(first.json.entry).toMatchObject({ sessionId: session.id, status: "waiting", position: 1, guestCount: 1, priority: "normal", alternativeDates: ["2030-01-05"] });
    expect(first.json.token).toEqual(expect.any(String));

    const repeat = await join(session.id, { ...body, email: body.email.toUpperCase() });
    expect(repeat.status).toBe(200);
    expect(repeat.json.entry.id).toBe(first.json.entry.id);
    expect(repeat.json.token).toEqual(expect.any(String));

    const me = await call("GET", `/api/v1/sessions/${session.id}/waitlist/me?token=${encodeURIComponent(first.json.token)}`);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ id: first.json.entry.id, position: 1 });
    expect((await availability(session.id)).status).toBe("full");
  });

  it("refuses a party that fits now, one larger than the session, a bad body and a forged token", async () => {
    const { session } = await makeBookableSession({ capacity: 3 });
    const notNeeded = await join(session.id, joinBody(2));
    expect(notNeeded.status).toBe(409);
    expect(notNeeded.json.error).toMatchObject({ code: "WAITLIST_NOT_NEEDED", details: { availableSpots: 3 } });

    const tooBig = await join(session.id, joinBody(4));
    expect(tooBig.status).toBe(409);
    expect(tooBig.json.error.code).toBe("INSUFFICIENT_CAPACITY");

    const bad = await join(session.id, { email: "nope", guestCount: 0, alternativeDates: ["tomorrow"] });
    expect(bad.status).toBe(400);
    const paths = bad.json.error.details.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["email", "guestCount", "firstName", "alternativeDates.0"]));

    expect((await join("ses_missing", joinBody(1))).json.error.code).toBe("SESSION_NOT_FOUND");
    const forged = await call("GET", `/api/v1/sessions/${session.id}/waitlist/me?token=wle_x.forged`);
    expect(forged.status).toBe(404);
    expect((await call("GET", `/api/v1/sessions/${session.id}/waitlist/me`)).status).toBe(401);
  });

  it("refuses an email that already has seats in the session", async () => {
    const email = uniqueEmail("booked");
    const { session, pricePence } = await fullSession([1]);
    const other = await makeBookableSession({ capacity: 1 });
    expect((await postBooking(singleBookingBody(other.session.id, 2500, { contact: { email, firstName: "A", lastName: "B" } }))).status).toBe(201);
    expect((await join(other.session.id, joinBody(1, { email }))).json.error.code).toBe("DUPLICATE_BOOKING");
    expect(pricePence).toBe(2000);
    expect((await join(session.id, joinBody(1, { email }))).status).toBe(201);
  });

  it("keeps positions dense and in order of priority, then joining, under concurrent joins and leaves", async () => {
    const { session } = await fullSession([1]);
    const staff = await tokenFor("staff");
    const priorities = Array.from({ length: 24 }, (_, i) => (i % 6 === 0 ? "high" : i % 5 === 0 ? "low" : "normal"));
    const joined = await Promise.all(
      priorities.map((priority) =>
        priority === "normal"
          ? join(session.id, joinBody(1))
          : call("POST", "/api/v1/admin/waiting-lists", { token: staff, body: { sessionId: session.id, ...joinBody(1), priority } }),
      ),
    );
    expect(joined.map((response) => response.status)).toEqual(priorities.map(() => 201));

    const list = await call("GET", `/api/v1/admin/sessions/${session.id}/waiting-list`, { token: staff });
    expect(list.status).toBe(200);
    const entries = list.json.data as { id: string; position: number; priority: string; joinedAt: string }[];
    expect(entries.map((entry) => entry.position)).toEqual(entries.map((_, i) => i + 1));
    const rank = { high: 0, normal: 1, low: 2 } as Record<string, number>;
    for (let i = 1; i < entries.length; i++) expect(rank[entries[i]!.priority]! >= rank[entries[i - 1]!.priority]!).toBe(true);

    // Half leave at once, customers with their tokens and staff by id: the rest close ranks.
    const leaving = joined.filter((_, i) => i % 2 === 0);
    const left = await Promise.all(
      leaving.map((response) =>
        response.json.token
          ? call("DELETE", `/api/v1/sessions/${session.id}/waitlist/me`, { headers: { "X-Waitlist-Token": response.json.token } })
          : call("DELETE", `/api/v1/admin/waiting-lists/${response.json.entry.id}`, { token: staff }),
      ),
    );
    expect(left.map((response) => response.status)).toEqual(leaving.map(() => 200));
    expect(left.every((response) => response.json.status === "removed")).toBe(true);

    const after = (await call("GET", `/api/v1/admin/sessions/${session.id}/waiting-list`, { token: staff })).json.data as { id: string; status: string; position: number | null }[];
    const waiting = after.filter((entry) => entry.status === "waiting");
    expect(waiting).toHaveLength(12);
    expect(waiting.map((entry) => entry.position)).toEqual(waiting.map((_, i) => i + 1));
    expect(waiting.map((entry) => entry.id)).toEqual(entries.filter((entry) => !leaving.some((l) => l.json.entry.id === entry.id)).map((entry) => entry.id));
    expect((await availability(session.id)).waitlistLength).toBe(12);
  });

  it("only staff set a priority or use the staff routes", async () => {
    const { session } = await fullSession([1]);
    const customer = await tokenFor("customer");
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/waiting-list`, { token: customer })).status).toBe(403);
    expect((await call("POST", "/api/v1/admin/waiting-lists", { token: customer, body: { sessionId: session.id, ...joinBody(1) } })).status).toBe(403);
    expect((await call("PUT", "/api/v1/admin/waiting-lists/wle_x/offer", { token: customer })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/waiting-list`)).status).toBe(401);
    const staff = await tokenFor("staff");
    expect((await call("PUT", "/api/v1/admin/waiting-lists/wle_missing/offer", { token: staff })).json.error.code).toBe("WAITLIST_ENTRY_NOT_FOUND");
    expect((await call("GET", "/api/v1/admin/sessions/ses_missing/waiting-list", { token: staff })).json.error.code).toBe("SESSION_NOT_FOUND");
  });
});

describe("automatic offers", () => {
  it("offer chain: a cancellation offers the seat to #1, #1's offer expires and passes to #2, #2 accepts and is booked; nobody else could book it meanwhile", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const first = (await join(session.id, joinBody(1))).json.entry;
    const second = (await join(session.id, joinBody(1))).json.entry;

    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    expect(await entryOf(session.id, first.id)).toMatchObject({ status: "offered", position: null, offersMade: 1 });
    expect(await entryOf(session.id, second.id)).toMatchObject({ status: "waiting", position: 1 });
    expect((await availability(session.id)).availableSpots).toBe(0);
    expect((await postBooking(singleBookingBody(session.id, pricePence))).json.error.code).toBe("SESSION_FULL");

    const firstToken = await currentOfferToken(session.id, first.id);
    const offerMessage = await messageTo(first.email, "OFFER_MADE");
    expect(offerMessage.content).toContain("/waitlist-offers/[redacted]");
    // The link opens the page, not the JSON API.
    expect(offerMessage.content).not.toContain("/api/v1/waitlist-offers");
    expect(offerMessage.content).not.toContain(firstToken);
    expect(offerMessage.content).toContain("£20.00");
    await expireOffers(session.id);
    await messageTo(first.email, "OFFER_EXPIRED");
    await messageTo(second.email, "OFFER_MADE");
    expect((await entryOf(session.id, first.id)).status).toBe("expired");
    expect(await entryOf(session.id, second.id)).toMatchObject({ status: "offered", offersMade: 1 });
    expect((await postBooking(singleBookingBody(session.id, pricePence))).json.error.code).toBe("SESSION_FULL");
    const late = await acceptOffer(firstToken, pricePence);
    expect(late.status).toBe(409);
    expect(late.json.error).toMatchObject({ code: "OFFER_NOT_AVAILABLE", details: { status: "expired" } });

    const secondToken = await currentOfferToken(session.id, second.id);
    const offer = await call("GET", `/api/v1/waitlist-offers/${secondToken}`);
    expect(offer.status).toBe(200);
    expect(offer.json).toMatchObject({ totalAmountPence: pricePence, currency: "GBP", entry: { id: second.id, status: "offered" } });

    const accepted = await acceptOffer(secondToken, pricePence);
    expect(accepted.status).toBe(201);
    expect(accepted.json.booking).toMatchObject({ status: "confirmed", source: "waitlist", guestCount: 1, customer: { email: second.email } });
    expect(await entryOf(session.id, second.id)).toMatchObject({ status: "booked", bookingId: accepted.json.booking.id });
    expect((await availability(session.id)).status).toBe("full");
    // D1 is written by the projection consumer after the answer: it converges on the DO's ledger.
    expect(await projectionCaughtUp(session.id)).toEqual([
      { bookingId: bookings[0]!.id, seats: 1, status: "cancelled" },
      { bookingId: accepted.json.booking.id, seats: 1, status: "confirmed" },
    ].sort((a, b) => (a.bookingId < b.bookingId ? -1 : 1)));

    const again = await acceptOffer(secondToken, pricePence);
    expect(again.json.error).toMatchObject({ code: "OFFER_NOT_AVAILABLE", details: { status: "booked", bookingId: accepted.json.booking.id } });
    await eventuallyPasses(async () => {
      const projected = Object.fromEntries((await d1Waitlist(session.id)).map((row) => [row.id, row.status]));
      expect(projected).toEqual({ [first.id]: "expired", [second.id]: "booked" });
    });
    await messageTo(second.email, "BOOKING_CONFIRMED");
    expect((await sentMessages(first.email)).map((message) => message.type)).toEqual(["OFFER_MADE", "OFFER_EXPIRED"]);
  });

  it("skips a party that does not fit for the next one that does", async () => {
    const { session, bookings } = await fullSession([1, 2]);
    const pair = (await join(session.id, joinBody(2))).json.entry;
    const single = (await join(session.id, joinBody(1))).json.entry;
    await cancelBooking(bookings[0]!);
    expect((await entryOf(session.id, pair.id)).status).toBe("waiting");
    expect((await entryOf(session.id, single.id)).status).toBe("offered");
    await cancelBooking(bookings[1]!);
    expect((await entryOf(session.id, pair.id)).status).toBe("offered");
    expect((await availability(session.id)).availableSpots).toBe(0);
  });

  it("a refused acceptance (wrong amount) leaves the offer open; a decline passes it on at once", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const first = (await join(session.id, joinBody(1))).json.entry;
    const second = (await join(session.id, joinBody(1))).json.entry;
    await cancelBooking(bookings[0]!);
    const token = await currentOfferToken(session.id, first.id);

    const tampered = await acceptOffer(token, pricePence - 1);
    expect(tampered.status).toBe(422);
    expect(tampered.json.error.code).toBe("AMOUNT_MISMATCH");
    expect((await entryOf(session.id, first.id)).status).toBe("offered");

    const declined = await call("POST", `/api/v1/waitlist-offers/${token}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.json.status).toBe("declined");
    expect((await entryOf(session.id, second.id)).status).toBe("offered");
    expect((await call("POST", `/api/v1/waitlist-offers/${token}/decline`)).json.error.code).toBe("OFFER_NOT_AVAILABLE");
    expect((await call("GET", "/api/v1/waitlist-offers/not-a-token")).status).toBe(404);
  });

  it("staff can offer out of order when the party fits, and removing an offered entry passes its seats on", async () => {
    const { session, bookings } = await fullSession([1, 1]);
    const staff = await tokenFor("staff");
    const first = (await join(session.id, joinBody(1))).json.entry;
    const second = (await join(session.id, joinBody(1))).json.entry;
    const third = (await join(session.id, joinBody(1))).json.entry;

    const full = await call("PUT", `/api/v1/admin/waiting-lists/${third.id}/offer`, { token: staff });
    expect(full.status).toBe(409);
    expect(full.json.error.code).toBe("SESSION_FULL");

    await cancelBooking(bookings[0]!);
    expect((await entryOf(session.id, first.id)).status).toBe("offered");
    await cancelBooking(bookings[1]!);
    expect((await entryOf(session.id, second.id)).status).toBe("offered");

    const removed = await call("DELETE", `/api/v1/admin/waiting-lists/${first.id}`, { token: staff });
    expect(removed.json.status).toBe("removed");
    expect((await entryOf(session.id, third.id)).status).toBe("offered");
    const notWaiting = await call("PUT", `/api/v1/admin/waiting-lists/${third.id}/offer`, { token: staff });
    expect(notWaiting.json.error.code).toBe("OFFER_NOT_AVAILABLE");
  });

  it("more capacity is offered down the line", async () => {
    const { session } = await fullSession([2]);
    const admin = await tokenFor("admin");
    const entries = [(await join(session.id, joinBody(2))).json.entry, (await join(session.id, joinBody(1))).json.entry];
    const raised = await call("PATCH", `/api/v1/admin/sessions/${session.id}`, { token: admin, body: { capacity: 5 } });
    expect(raised.status).toBe(200);
    for (const entry of entries) expect((await entryOf(session.id, entry.id)).status).toBe("offered");
    const lowered = await call("PATCH", `/api/v1/admin/sessions/${session.id}`, { token: admin, body: { capacity: 4 } });
    expect(lowered.json.error.code).toBe("IN_USE");
  });

  it("an offer never runs past the session's start and is shorter when the session is near", async () => {
    const { session } = await fullSession([1], { startsInHours: 3 });
    const entry = (await join(session.id, joinBody(1))).json.entry;
    const staff = await tokenFor("staff");
    // Staff act on the entry by its id straight away (the id names its session; D1 may not have it yet).
    expect((await call("DELETE", `/api/v1/admin/waiting-lists/${entry.id}`, { token: staff })).json.status).toBe("removed");
    const next = (await join(session.id, joinBody(1))).json.entry;
    // The staff list is D1's projection: the booking shows there once the projection has written it.
    const booking = await eventually(async () => (await call("GET", `/api/v1/admin/bookings?sessionId=${session.id}`, { token: staff })).json.data[0]);
    await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { token: staff });
    const offered = await entryOf(session.id, next.id);
    expect(offered.status).toBe("offered");
    const window = offered.offer!.expiresAt - Date.now();
    expect(window).toBeLessThanOrEqual(session.startsAt.getTime() - Date.now());
    expect(window).toBeLessThan(2 * 3600_000);
    expect(window).toBeGreaterThan(60 * 60_000);
  });

  it("seats held for offers are never sold to others under a burst of bookings", async () => {
    const { session, bookings, pricePence } = await fullSession([1, 1, 1]);
    const waiting = [];
    for (let i = 0; i < 3; i++) waiting.push((await join(session.id, joinBody(1))).json.entry);
    const burst = Promise.all(Array.from({ length: 20 }, () => postBooking(singleBookingBody(session.id, pricePence), { ip: nextClientIp() })));
    await Promise.all(bookings.map((booking) => cancelBooking(booking)));
    const results = await burst;
    const sold = results.filter((response) => response.status === 201).length;
    const offered = (await Promise.all(waiting.map((entry) => entryOf(session.id, entry.id)))).filter((entry) => entry.status === "offered").length;
    // Each seat is offered in the transaction that frees it: none was ever open to the burst.
    expect(sold).toBe(0);
    expect(offered).toBe(3);
    const live = await sessionStub(session.id).availability();
    expect(live.booked + live.held).toBe(3);
  });

  it("reminds the customer once before an offer expires", async () => {
    const { session, bookings } = await fullSession([1]);
    const entry = (await join(session.id, joinBody(1))).json.entry;
    await cancelBooking(bookings[0]!);
    await runInDurableObject(sessionStub(session.id), (_instance, state) => {
      state.storage.sql.exec(`UPDATE waitlist SET reminder_at = ? WHERE id = ?`, Date.now() - 1, entry.id);
    });
    await runDurableObjectAlarm(sessionStub(session.id));
    await runDurableObjectAlarm(sessionStub(session.id));
    const reminder = await messageTo(entry.email, "OFFER_EXPIRING");
    expect(reminder.content).toContain("/waitlist-offers/[redacted]");
    expect((await sentMessages(entry.email)).filter((message) => message.type === "OFFER_EXPIRING")).toHaveLength(1);
    expect((await entryOf(session.id, entry.id)).status).toBe("offered");
  });

  it("an offer's hold cannot be booked by naming it: only the offer's link accepts it", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const entry = (await join(session.id, joinBody(1))).json.entry;
    await cancelBooking(bookings[0]!);
    const { offer } = await entryOf(session.id, entry.id);
    // Someone who knows the email: the duplicate refusal names no hold…
    const probe = await postBooking(singleBookingBody(session.id, pricePence, { contact: { email: entry.email, firstName: "X", lastName: "Y" } }));
    expect(probe.json.error.code).toBe("DUPLICATE_BOOKING");
    expect(JSON.stringify(probe.json)).not.toContain(offer!.holdId);
    // …and even with the hold's id, POST /bookings cannot take it.
    const hijack = await postBooking(singleBookingBody(session.id, pricePence, { holdId: offer!.holdId, contact: { email: entry.email, firstName: "X", lastName: "Y" } }));
    expect(hijack.status).toBe(409);
    expect(hijack.json.error).toMatchObject({ code: "HOLD_EXPIRED", details: { reason: "waitlist_offer" } });
    expect((await entryOf(session.id, entry.id)).status).toBe("offered");
    expect((await acceptOffer(await currentOfferToken(session.id, entry.id), pricePence)).status).toBe(201);
  });

  it("a decline racing an acceptance: exactly one of them wins, and the seats follow the winner", async () => {
    for (let round = 0; round < 4; round++) {
      const { session, bookings, pricePence } = await fullSession([1]);
      const entry = (await join(session.id, joinBody(1))).json.entry;
      const next = (await join(session.id, joinBody(1))).json.entry;
      await cancelBooking(bookings[0]!);
      const token = await currentOfferToken(session.id, entry.id);
      const [accepted, declined] = await Promise.all([acceptOffer(token, pricePence), call("POST", `/api/v1/waitlist-offers/${token}/decline`)]);
      expect([accepted.status, declined.status].filter((status) => status === 200 || status === 201)).toHaveLength(1);
      const after = await entryOf(session.id, entry.id);
      const live = await sessionStub(session.id).availability();
      expect(live.booked + live.held).toBe(1);
      if (accepted.status === 201) {
        expect(after.status).toBe("booked");
        expect(declined.json.error.code).toBe("OFFER_NOT_AVAILABLE");
        expect((await entryOf(session.id, next.id)).status).toBe("waiting");
      } else {
        expect(after.status).toBe("declined");
        expect(["OFFER_NOT_AVAILABLE", "HOLD_EXPIRED"]).toContain(accepted.json.error.code);
        expect((await entryOf(session.id, next.id)).status).toBe("offered");
        expect(live.booked).toBe(0);
      }
      // D1 converges on the DO's ledger, whichever won: the cancelled line, and the offer's booking if accepted.
      const lines = await projectionCaughtUp(session.id);
      expect(lines.filter((line) => line.status === "confirmed")).toHaveLength(accepted.status === 201 ? 1 : 0);
      expect(lines.filter((line) => line.status === "cancelled").map((line) => line.bookingId)).toEqual([bookings[0]!.id]);
    }
  });

  it("passes over a party whose email booked seats itself, and takes it out of line", async () => {
    const { session, bookings, pricePence } = await fullSession([1, 2]);
    const pair = (await join(session.id, joinBody(2))).json.entry;
    await cancelBooking(bookings[0]!);
    expect((await entryOf(session.id, pair.id)).status).toBe("waiting");
    // A checkout hold in the party's name (anyone could take one) does not take it out of line…
    const hold = await postHold(holdBody(session.id, 1, pair.email));
    expect(hold.status).toBe(201);
    expect((await entryOf(session.id, pair.id)).status).toBe("waiting");
    await expireHolds(session.id);
    await runDurableObjectAlarm(sessionStub(session.id));
    // …a booking does.
    const direct = await postBooking(singleBookingBody(session.id, pricePence, { contact: { email: pair.email, firstName: "Pa", lastName: "Ir" } }));
    expect(direct.status).toBe(201);
    expect((await entryOf(session.id, pair.id)).status).toBe("removed");
    await cancelBooking(bookings[1]!);
    expect((await entryOf(session.id, pair.id)).status).toBe("removed");
  });

  it("staff can give an expired offer another chance when its seats are free", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const staff = await tokenFor("staff");
    const entry = (await join(session.id, joinBody(1))).json.entry;
    await cancelBooking(bookings[0]!);
    await expireOffers(session.id);
    expect((await entryOf(session.id, entry.id)).status).toBe("expired");
    expect((await availability(session.id)).availableSpots).toBe(1);
    const again = await call("PUT", `/api/v1/admin/waiting-lists/${entry.id}/offer`, { token: staff });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: "offered", offersMade: 2 });
    const accepted = await acceptOffer(await currentOfferToken(session.id, entry.id), pricePence);
    expect(accepted.status).toBe(201);
  });

  it("closes the line when the session is cancelled, or about to start", async () => {
    const cancelled = await fullSession([1]);
    const waiting = (await join(cancelled.session.id, joinBody(1))).json.entry;
    const snapshot = await snapshotOf(cancelled.session.id);
    await sessionStub(cancelled.session.id).reconfigure({ ...snapshot, cancelled: true, configVersion: snapshot.configVersion + 1 });
    expect((await entryOf(cancelled.session.id, waiting.id)).status).toBe("removed");
    expect((await availability(cancelled.session.id)).waitlistLength).toBe(0);

    const soon = await fullSession([1]);
    const early = (await join(soon.session.id, joinBody(1))).json.entry;
    await runInDurableObject(sessionStub(soon.session.id), (_instance, state) => {
      state.storage.sql.exec(`UPDATE config SET starts_at = ?`, Date.now() + 10 * 60_000);
    });
    await runDurableObjectAlarm(sessionStub(soon.session.id));
    expect((await entryOf(soon.session.id, early.id)).status).toBe("expired");
  });
});

describe("what a repeat join shows", () => {
  it("shows someone who only knows the email nothing (no entry, place, party size or time), and the owner everything", async () => {
    const { session } = await fullSession([1]);
    const body = joinBody(1, { notes: "wheelchair access please", preferredContact: "sms" });
    await join(session.id, body);
    const stranger = await join(session.id, body, { anonymous: true });
    expect(stranger.status).toBe(409);
    expect(stranger.json.error).toMatchObject({ code: "DUPLICATE_BOOKING", details: {} });
    expect(stranger.json.entry).toBeUndefined();
    const owner = await join(session.id, body, { token: await tokenFor("customer", body.email) });
    expect(owner.json.entry).toMatchObject({ firstName: "Wai", notes: "wheelchair access please", preferredContact: "sms" });
    expect(owner.json.token).toEqual(expect.any(String));
  });
});
