/**
 * The customer portal (/api/v1/me): profile and totals, the booking list with its cursors and
 * cancel links, waitlist entries, notify-me registrations and messages, all from real bookings
 * and joins through the API once the projection has reached D1. Above all: a customer sees only
 * their own, whatever cursor they send.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../src/lib/pagination";
import { claimsFor, signJwt } from "../src/lib/jwt-claims";
import { dropInBookingBody, nextClientIp, postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeCity, makeRole, makeSchedule, makeSession, makeStudio } from "./fixtures";
import { call, eventually, eventuallyPasses, tokenFor } from "./helpers";
import { cancelBooking, currentOfferToken, fullSession, join, joinBody, messageTo } from "./waitlist-helpers";

const me = (path: string, token?: string) => call("GET", `/api/v1/me${path}`, token ? { token } : {});

/** A real guest booking (no bearer token) of `seats` on a session, made with `email`. */
async function guestBooking(sessionId: string, pricePence: number, email: string, seats = 1) {
  const response = await postBooking(singleBookingBody(sessionId, pricePence, { guestCount: seats, contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  expect(response.status, response.text).toBe(201);
  return response.json as { booking: { id: string; customer: { id: string } }; manageToken: string };
}

/** Every page of a list, following nextCursor; the ids in order. */
async function allIds(path: string, token: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const separator = path.includes("?") ? "&" : "?";
    const response = await me(`${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
    expect(response.status, response.text).toBe(200);
    expect(response.json.data.length).toBeLessThanOrEqual(limit);
    ids.push(...response.json.data.map((item: { id: string }) => item.id));
    cursor = response.json.nextCursor;
    if (!cursor) return ids;
    // A page before the last is full: nothing was fetched and then dropped.
    expect(response.json.data).toHaveLength(limit);
  }
  throw new Error("too many pages");
}

/** Moves a session into the past (as time passing would), straight in D1. */
async function moveIntoPast(sessionId: string, hoursAgo: number) {
  const startsAt = Date.now() - hoursAgo * 3600_000;
  await env.DB.prepare(`UPDATE class_sessions SET starts_at = ?, ends_at = ? WHERE id = ?`).bind(startsAt, startsAt + 3600_000, sessionId).run();
}

describe("GET /api/v1/me", () => {
  it("needs a sign-in that names an email; someone who never booked gets an empty profile and zero totals", async () => {
    expect((await me("")).status).toBe(401);
    const noEmail = await signJwt(claimsFor({ sub: `staff:${crypto.randomUUID()}`, role: "staff", ttlSeconds: 600 }), env.JWT_SECRET);
    expect((await me("", noEmail)).json.error.code).toBe("FORBIDDEN");

    const email = uniqueEmail("nobody");
    const response = await me("", await tokenFor("customer", email));
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      profile: { email, firstName: null, lastName: null, phone: null, preferredContact: null, role: "customer" },
      totals: { bookings: 0, seatsBooked: 0, totalSpentPence: 0, upcomingBookings: 0 },
    });
    // Staff and admins have a portal too (their own email's).
    expect((await me("", await tokenFor("staff"))).json.profile.role).toBe("staff");
  });

  it("counts guest bookings of the same email (any case), net of cancellations, in integer pence", async () => {
    const email = uniqueEmail("totals");
    const token = await tokenFor("customer", email.toUpperCase());
    const { session: single } = await makeBookableSession({ pricePence: 2000 });
    const schedule = await makeSchedule({ sessions: 2, pricePence: 2500 });
    const twoSeats = await guestBooking(single.id, 2000, email.toUpperCase(), 2);
    const dropIn = await postBooking(dropInBookingBody([schedule.sessions[0]!.id, schedule.sessions[1]!.id], 2500, { contact: { email, firstName: "Ada", lastName: "L" } }), { token });
    expect(dropIn.status, dropIn.text).toBe(201);
    const { session: other } = await makeBookableSession({ pricePence: 1500 });
    const cancelled = await guestBooking(other.id, 1500, email);
    expect((await cancelBooking({ id: cancelled.booking.id, manageToken: cancelled.manageToken })).status).toBe(200);
    // Someone else's booking of the same session counts for them, not for this customer.
    await guestBooking(single.id, 2000, uniqueEmail("stranger"));
    for (const id of [single.id, other.id, ...schedule.sessions.map((s) => s.id)]) await projectionCaughtUp(id);

    const response = await me("", token);
    expect(response.json.profile).toMatchObject({ email, firstName: "Ada", lastName: "Lovelace" });
    expect(response.json.totals).toEqual({ bookings: 2, seatsBooked: 2 + 2, totalSpentPence: 4000 + 5000, upcomingBookings: 2 });
    expect(twoSeats.booking.customer.id).toBe(dropIn.json.booking.customer.id);
  });
});

describe("PATCH /api/v1/me", () => {
  it("creates the profile under the id the booking flow derives from the email, and keeps it when that email books", async () => {
    const email = uniqueEmail("patch");
    const token = await tokenFor("customer", email);
    const patched = await call("PATCH", "/api/v1/me", { token, body: { firstName: "  Grace ", lastName: "Hopper", phone: "+44 20 7946-0000", preferredContact: "sms" } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.profile).toEqual({ email, firstName: "Grace", lastName: "Hopper", phone: "+442079460000", preferredContact: "sms", role: "customer" });

    const { session } = await makeBookableSession({ pricePence: 1800 });
    const booked = await guestBooking(session.id, 1800, email);
    await projectionCaughtUp(session.id);
    const row = await env.DB.prepare(`SELECT id, first_name AS firstName, preferred_contact AS preferredContact FROM customers WHERE email = ?`).bind(email).first();
    expect(row).toEqual({ id: booked.booking.customer.id, firstName: "Grace", preferredContact: "sms" });
    const after = await me("", token);
    expect(after.json.profile).toMatchObject({ firstName: "Grace", preferredContact: "sms" });
    expect(after.json.totals).toMatchObject({ bookings: 1, totalSpentPence: 1800 });

    // Only the given fields change; a null phone removes it (after leaving SMS).
    const partial = await call("PATCH", "/api/v1/me", { token, body: { preferredContact: "email", phone: null } });
    expect(partial.json.profile).toMatchObject({ firstName: "Grace", lastName: "Hopper", phone: null, preferredContact: "email" });
  });

  it("refuses bad names, phones, fields and an SMS preference without a phone", async () => {
    const token = await tokenFor("customer", uniqueEmail("bad"));
    const refused = async (body: unknown, path: string) => {
      const response = await call("PATCH", "/api/v1/me", { token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    };
    await refused({ firstName: "visit evil.example" }, "firstName");
    await refused({ lastName: "<b>" }, "lastName");
    await refused({ phone: "020 7946 0000" }, "phone");
    await refused({ phone: "+44 abc" }, "phone");
    await refused({ preferredContact: "pigeon" }, "preferredContact");
    await refused({ preferredContact: "sms" }, "preferredContact");
    await refused({ email: "someone-else@example.test" }, "");
    await refused({}, "");
    expect((await call("PATCH", "/api/v1/me", { body: { firstName: "Ada" } })).status).toBe(401);
    const invalidJson = await call("PATCH", "/api/v1/me", { token, rawBody: "{" });
    expect(invalidJson.json.error.code).toBe("INVALID_JSON");
  });
});

describe("GET /api/v1/me/bookings", () => {
  it("lists upcoming bookings by next start and past ones latest first, page by page, with links that cancel", async () => {
    const email = uniqueEmail("lists");
    const token = await tokenFor("customer", email);
    const sessions = [];
    for (const hours of [72, 24, 48, 96]) sessions.push((await makeBookableSession({ pricePence: 1000, startsInHours: hours })).session);
    const booked = [];
    for (const session of sessions) booked.push(await guestBooking(session.id, 1000, email));
    for (const session of sessions) await projectionCaughtUp(session.id);
    // The 96 h session happened last week; the 72 h one yesterday.
    await moveIntoPast(sessions[3]!.id, 24 * 7);
    await moveIntoPast(sessions[0]!.id, 24);
    const [in72, in24, in48, weekAgo] = booked.map((b) => b.booking.id);

    expect(await allIds("/bookings", token, 1)).toEqual([in24, in48]);
    expect(await allIds("/bookings?when=past", token, 1)).toEqual([in72, weekAgo]);
    expect(await allIds("/bookings?when=past", token, 5)).toEqual([in72, weekAgo]);

    const first = (await me("/bookings?limit=1", token)).json.data[0];
    expect(first).toMatchObject({
      id: in24,
      status: "confirmed",
      registrationType: "SINGLE_SESSION",
      class: { id: expect.any(String), name: expect.any(String) },
      studio: { timeZone: "Europe/London" },
      seats: 1,
      sessions: [{ sessionId: sessions[1]!.id, startsAt: sessions[1]!.startsAt.toISOString(), seats: 1, status: "confirmed" }],
      nextStartsAt: sessions[1]!.startsAt.toISOString(),
      totalAmountPence: 1000,
      currency: "GBP",
      cancellable: true,
      links: { manage: `/api/v1/bookings/${in24}`, cancel: `/api/v1/bookings/${in24}/cancel` },
    });
    const past = (await me("/bookings?when=past&limit=1", token)).json.data[0];
    expect(past).toMatchObject({ id: in72, cancellable: false, nextStartsAt: null });

    // Another customer may not use the link; the owner cancels with their bearer token alone.
    const stranger = await tokenFor("customer", uniqueEmail("stranger"));
    expect((await call("POST", first.links.cancel, { token: stranger, headers: { "CF-Connecting-IP": nextClientIp() } })).status).toBe(403);
    const cancelled = await call("POST", first.links.cancel, { token, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");
    await projectionCaughtUp(sessions[1]!.id);
    const afterCancel = (await me("/bookings", token)).json.data;
    expect(afterCancel.map((b: { id: string }) => b.id)).toEqual([in24, in48]);
    expect(afterCancel[0]).toMatchObject({ status: "cancelled", cancellable: false, sessions: [{ status: "cancelled" }] });
    expect((await me("", token)).json.totals).toEqual({ bookings: 3, seatsBooked: 3, totalSpentPence: 3000, upcomingBookings: 1 });
  });

  it("refuses cursors that are not this list's, and a cursor only ever pages through the caller's own bookings", async () => {
    const [emailA, emailB] = [uniqueEmail("alice"), uniqueEmail("bob")];
    const [tokenA, tokenB] = [await tokenFor("customer", emailA), await tokenFor("customer", emailB)];
    const idsOf = { a: [] as string[], b: [] as string[] };
    for (const hours of [30, 40, 50]) {
      const { session } = await makeBookableSession({ pricePence: 900, startsInHours: hours });
      idsOf.a.push((await guestBooking(session.id, 900, emailA)).booking.id);
      idsOf.b.push((await guestBooking(session.id, 900, emailB)).booking.id);
      await projectionCaughtUp(session.id);
    }
    expect(await allIds("/bookings", tokenA, 2)).toEqual(idsOf.a);
    expect(await allIds("/bookings", tokenB, 2)).toEqual(idsOf.b);

    // A's cursor in B's hands: B's own bookings after that position, never A's.
    const cursorA = (await me("/bookings?limit=1", tokenA)).json.nextCursor;
    const crafted = [cursorA, encodeCursor(["upcoming", 0, ""]), encodeCursor(["upcoming", Date.now(), idsOf.a[0]!])];
    for (const cursor of crafted) {
      const response = await me(`/bookings?cursor=${encodeURIComponent(cursor)}`, tokenB);
      expect(response.status).toBe(200);
      for (const booking of response.json.data) expect(idsOf.b).toContain(booking.id);
      expect(response.json.data.length).toBeGreaterThan(0);
    }
    // Not a cursor of this list: another list's, the other `when`'s, wrong types, garbage.
    const refused = [
      encodeCursor(["past", 0, ""]),
      encodeCursor(["waitlist", 0, ""]),
      encodeCursor(["upcoming", "0", ""]),
      encodeCursor(["upcoming", 0, 5]),
      encodeCursor(["upcoming", 1.5, ""]),
      encodeCursor([0, ""]),
      "not-a-cursor",
    ];
    for (const cursor of refused) {
      const response = await me(`/bookings?cursor=${encodeURIComponent(cursor)}`, tokenB);
      expect(response.status, cursor).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
    }
    for (const query of ["when=soon", "limit=0", "limit=101"]) expect((await me(`/bookings?${query}`, tokenA)).status).toBe(400);
  });
});

describe("the portal's other lists", () => {
  it("waitlist: each customer sees only their own entries, with position, offer expiry and a token that leaves", async () => {
    const { session, bookings } = await fullSession([1]);
    const [emailA, emailB] = [uniqueEmail("wait-a"), uniqueEmail("wait-b")];
    const [tokenA, tokenB] = [await tokenFor("customer", emailA), await tokenFor("customer", emailB)];
    const entryA = (await join(session.id, joinBody(1, { email: emailA }))).json.entry;
    const entryB = (await join(session.id, joinBody(1, { email: emailB }))).json.entry;
    const listed = (token: string) => eventually(async () => {
      const response = await me("/waitlist", token);
      return response.json.data.length > 0 && response.json;
    });
    const [pageA, pageB] = [await listed(tokenA), await listed(tokenB)];
    expect(pageA.data).toEqual([
      expect.objectContaining({ id: entryA.id, sessionId: session.id, status: "waiting", confirmed: true, position: 1, guestCount: 1, offerExpiresAt: null, token: expect.any(String), leavePath: `/api/v1/sessions/${session.id}/waitlist/me` }),
    ]);
    expect(pageA.data[0]).toMatchObject({ class: { id: expect.any(String) }, session: { startsAt: session.startsAt.toISOString(), status: "scheduled" } });
    expect(pageB.data.map((e: { id: string }) => e.id)).toEqual([entryB.id]);
    expect(pageB.data[0]).toMatchObject({ position: 2, confirmed: true });

    // The seat frees: A's offer, with its expiry, and A's message about it.
    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    const offered = await eventually(async () => (await me("/waitlist", tokenA)).json.data.find((e: { status: string }) => e.status === "offered"));
    expect(offered).toMatchObject({ id: entryA.id, position: null, offerExpiresAt: expect.any(String) });
    expect(Date.parse(offered.offerExpiresAt)).toBeGreaterThan(Date.now());
    const offerToken = await currentOfferToken(session.id, entryA.id);
    await messageTo(emailA, "OFFER_MADE");
    const messages = (await me("/communications", tokenA)).json.data;
    const offerMessage = messages.find((m: { type: string }) => m.type === "OFFER_MADE");
    expect(offerMessage).toMatchObject({ status: "sent", subject: expect.any(String), sentAt: expect.any(String), waitlistEntryId: entryA.id });
    expect(offerMessage.content).toContain("[redacted]");
    expect(offerMessage.content).not.toContain(offerToken);
    expect((await me("/communications", tokenB)).json.data.map((m: { id: string }) => m.id)).not.toContain(offerMessage.id);

    // B leaves with the token the portal gave; the list says so.
    const leave = await call("DELETE", pageB.data[0].leavePath, { headers: { "X-Waitlist-Token": pageB.data[0].token } });
    expect(leave.status, leave.text).toBe(200);
    const left = await eventually(async () => (await me("/waitlist", tokenB)).json.data.find((e: { status: string }) => e.status === "removed"));
    expect(left).toMatchObject({ id: entryB.id, position: null, token: null, leavePath: null });
    // A's entry's token opens A's entry only, and B's list never names A's entry.
    expect((await me("/waitlist", tokenB)).json.data.map((e: { id: string }) => e.id)).toEqual([entryB.id]);
    const crossCursor = encodeCursor(["waitlist", Date.now() + 3600_000, "zzz"]);
    expect((await me(`/waitlist?cursor=${crossCursor}`, tokenB)).json.data.map((e: { id: string }) => e.id)).toEqual([entryB.id]);
    expect((await me(`/waitlist?cursor=${encodeCursor(["interests", 0, ""])}`, tokenB)).status).toBe(400);
  });

  it("interests: notify-me registrations, only the customer's own, page by page", async () => {
    const city = await makeCity();
    const studio = await makeStudio({ cityId: city.id });
    const role = await makeRole();
    const courses = [];
    for (let i = 0; i < 3; i++) {
      const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id });
      await makeSession(klass.id, { instructorId: null });
      courses.push(klass);
    }
    const [emailA, emailB] = [uniqueEmail("interest-a"), uniqueEmail("interest-b")];
    const [tokenA, tokenB] = [await tokenFor("customer", emailA), await tokenFor("customer", emailB)];
    const register = (token: string, courseId: string, cityId?: string) =>
      call("POST", "/api/v1/demand/waitlist", { token, body: { courseId, ...(cityId ? { cityId } : {}) }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect((await register(tokenB, courses[0]!.id)).status).toBe(201);
    for (const course of courses) expect((await register(tokenA, course.id, city.id)).status).toBe(201);

    const mine = await me("/interests", tokenA);
    expect(mine.json.data).toHaveLength(3);
    expect(mine.json.data[0]).toMatchObject({ course: { id: expect.any(String), name: expect.any(String) }, city: { id: city.id, name: city.name }, registeredAt: expect.any(String), notifiedAt: null });
    expect(new Set(mine.json.data.map((i: { course: { id: string } }) => i.course.id))).toEqual(new Set(courses.map((c) => c.id)));
    expect((await allIds("/interests", tokenA, 1)).sort()).toEqual(mine.json.data.map((i: { id: string }) => i.id).sort());

    const theirs = await me("/interests", tokenB);
    expect(theirs.json.data).toEqual([expect.objectContaining({ course: expect.objectContaining({ id: courses[0]!.id }), city: null })]);
    // A's cursor in B's hands pages through B's registrations only.
    const cursorA = (await me("/interests?limit=1", tokenA)).json.nextCursor;
    const crossed = await me(`/interests?cursor=${encodeURIComponent(cursorA)}`, tokenB);
    expect(crossed.status).toBe(200);
    expect(crossed.json.data.map((i: { id: string }) => i.id)).toEqual([theirs.json.data[0].id]);
    expect((await me(`/interests?cursor=${encodeCursor(["communications", 0, ""])}`, tokenB)).status).toBe(400);
  });

  it("communications: the messages sent to the customer, not to anyone else, with links masked", async () => {
    const { session } = await makeBookableSession({ pricePence: 1200 });
    const [emailA, emailB] = [uniqueEmail("mail-a"), uniqueEmail("mail-b")];
    const [tokenA, tokenB] = [await tokenFor("customer", emailA), await tokenFor("customer", emailB)];
    const bookedA = await guestBooking(session.id, 1200, emailA);
    const bookedB = await guestBooking(session.id, 1200, emailB);
    await messageTo(emailA, "BOOKING_CONFIRMED");
    await messageTo(emailB, "BOOKING_CONFIRMED");

    const listA = await eventuallyPasses(async () => {
      const response = await me("/communications", tokenA);
      expect(response.json.data).toHaveLength(1);
      return response.json.data;
    });
    expect(listA[0]).toMatchObject({ type: "BOOKING_CONFIRMED", channel: "email", status: "sent", bookingId: bookedA.booking.id, sessionId: session.id, subject: expect.any(String), content: expect.any(String), sentAt: expect.any(String) });
    expect(listA[0].content).not.toContain(bookedA.manageToken);
    const listB = (await me("/communications", tokenB)).json.data;
    expect(listB.map((m: { bookingId: string }) => m.bookingId)).toEqual([bookedB.booking.id]);
    const cursor = encodeCursor(["communications", Date.now() + 3600_000, "~"]);
    expect((await me(`/communications?cursor=${cursor}`, tokenB)).json.data.map((m: { id: string }) => m.id)).toEqual(listB.map((m: { id: string }) => m.id));
  });
});

describe("routing and the OpenAPI document", () => {
  it("guards only the portal's own routes, so routers beside it under /api/v1/me keep their rules", async () => {
    const unknown = await call("GET", "/api/v1/me/no-such-route");
    expect(unknown.status).toBe(404);
    for (const path of ["", "/bookings", "/waitlist", "/interests", "/communications"]) {
      const response = await me(path);
      expect(response.status, path).toBe(401);
    }
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    for (const [path, method] of [["/api/v1/me", "get"], ["/api/v1/me", "patch"], ["/api/v1/me/bookings", "get"], ["/api/v1/me/waitlist", "get"], ["/api/v1/me/interests", "get"], ["/api/v1/me/communications", "get"]] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(op.responses["401"]).toBeDefined();
    }
  });
});
