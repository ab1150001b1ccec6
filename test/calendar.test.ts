/**
 * Calendar files: a booking's file, a customer's private feed and a class's public feed, each
 * parsed back with a real iCalendar parser (Mozilla's ical.js) and checked against the sessions'
 * instants, UIDs, SEQUENCE and STATUS.
 */
import { env } from "cloudflare:workers";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { configOf } from "../src/config";
import { getDb } from "../src/db/client";
import { redactPath } from "../src/domain/redaction";
import { OPEN_POLICY } from "../src/domain/booking-terms";
import { calendarFeedFor } from "../src/services/calendar-feeds";
import { bookingLineEvent, type CalendarLine, type CalendarPlace, classSessionEvent, eventLocation, MAX_SEQUENCE } from "../src/domain/calendar";
import { calendarZone, writeCalendar } from "../src/services/calendar";
import { dropInBookingBody, postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeClass, makeRole, makeSession, makeStaff, makeStudio } from "./fixtures";
import { call, tokenFor } from "./helpers";

const host = new URL(configOf(env).publicBaseUrl).hostname;

/** Sessions either side of the clocks changing: 18:00 BST in July is 17:00 UTC; 18:00 GMT in December is 18:00 UTC. */
const JULY = "2031-07-14T17:00:00.000Z";
const DECEMBER = "2031-12-15T18:00:00.000Z";

/** A class at a London studio with bookable sessions starting at the given instants (90 minutes each). */
async function londonClass(starts: string[], options: { address?: string | null } = {}) {
  const role = await makeRole();
  const instructor = await makeStaff([role.id]);
  const studio = await makeStudio({ timeZone: "Europe/London", address: options.address === undefined ? "1 Clay Lane, London" : options.address });
  const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id, pricePence: 2000 });
  const sessions = [];
  for (const start of starts) {
    const startsAt = new Date(start);
    sessions.push(await makeSession(klass.id, { startsAt, endsAt: new Date(startsAt.getTime() + 90 * 60_000), instructorId: instructor.id, capacity: 10 }));
  }
  return { studio, klass, sessions };
}

interface ParsedEvent {
  uid: string;
  sequence: number;
  status: string | null;
  tzid: string | null;
  start: Date;
  end: Date;
  /** DTSTART as written: the studio's wall-clock time. */
  localStart: string;
  summary: string;
  location: string | null;
  description: string | null;
}

/**
 * Parses iCalendar text with ical.js. Only the file's own VTIMEZONEs are registered (the service
 * is reset first), so a wrong or missing VTIMEZONE shows as a wrong instant.
 */
function parseCalendar(text: string) {
  const root = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  const timezones = root.getAllSubcomponents("vtimezone");
  for (const zone of timezones) ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  const events: ParsedEvent[] = root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const dtstart = vevent.getFirstProperty("dtstart")!;
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: (vevent.getFirstPropertyValue("status") as string | null) ?? null,
      tzid: (dtstart.getParameter("tzid") as string | undefined) ?? null,
      start: event.startDate.toJSDate(),
      end: event.endDate.toJSDate(),
      localStart: event.startDate.toString(),
      summary: event.summary,
      location: event.location ?? null,
      description: event.description ?? null,
    };
  });
  return {
    method: root.getFirstPropertyValue("method"),
    timezones: timezones.map((zone) => zone.getFirstPropertyValue("tzid")),
    events,
  };
}

const byStart = (events: ParsedEvent[]) => [...events].sort((a, b) => a.start.getTime() - b.start.getTime());

function expectCalendarHeaders(response: { status: number; headers: Headers }) {
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("text/calendar; charset=utf-8");
}

describe("GET /api/v1/bookings/{id}/calendar.ics", () => {
  it("opens as the booking does: its manage token, the owner, staff; not another booking's token or another customer", async () => {
    const { sessions } = await londonClass([JULY]);
    const email = uniqueEmail("owner");
    const owner = await tokenFor("customer", email);
    const created = await postBooking(singleBookingBody(sessions[0]!.id, 2000, { contact: { email, firstName: "Ada", lastName: "Lovelace" } }), { token: owner });
    expect(created.status).toBe(201);
    const { booking, manageToken } = created.json;
    const other = await postBooking(singleBookingBody(sessions[0]!.id, 2000));
    expect(other.status).toBe(201);
    const path = `/api/v1/bookings/${booking.id}/calendar.ics`;

    const byToken = await call("GET", `${path}?token=${manageToken}`);
    expectCalendarHeaders(byToken);
    expect(byToken.headers.get("Content-Disposition")).toBe(`attachment; filename="booking-${booking.id}.ics"`);
    expect(byToken.headers.get("Cache-Control")).toMatch(/no-store/);
    expect(byToken.headers.get("Cache-Control")).toMatch(/private/);
    expect((await call("GET", path, { headers: { "X-Manage-Token": manageToken } })).status).toBe(200);
    expect((await call("GET", path, { token: owner })).status).toBe(200);
    expect((await call("GET", path, { token: await tokenFor("staff") })).status).toBe(200);
    expect((await call("GET", path, { token: await tokenFor("admin") })).status).toBe(200);

    expect((await call("GET", path)).status).toBe(401);
    expect((await call("GET", `${path}?token=${other.json.manageToken}`)).status).toBe(403);
    expect((await call("GET", `${path}?token=not-a-token`)).status).toBe(403);
    expect((await call("GET", path, { token: await tokenFor("customer") })).status).toBe(403);
    // An unknown booking: no manage token can be its own; staff see the 404.
    expect((await call("GET", `/api/v1/bookings/bkg_unknown/calendar.ics?token=${manageToken}`)).status).toBe(403);
    expect((await call("GET", "/api/v1/bookings/bkg_unknown/calendar.ics", { token: await tokenFor("staff") })).status).toBe(404);
    // A failed read is never cached, and says why as JSON.
    const refused = await call("GET", path);
    expect(refused.headers.get("Cache-Control")).toBe("no-store");
    expect(refused.json.error.code).toBe("UNAUTHENTICATED");
  });

  it("has one event per line at the sessions' instants, in the studio's zone across BST and GMT", async () => {
    const { studio, klass, sessions } = await londonClass([JULY, DECEMBER]);
    const created = await postBooking(dropInBookingBody(sessions.map((s) => s.id), 2000, { guestCount: 2 }));
    expect(created.status).toBe(201);
    const { booking, manageToken } = created.json;

    const response = await call("GET", `/api/v1/bookings/${booking.id}/calendar.ics?token=${manageToken}`);
    expectCalendarHeaders(response);
    expect(response.text).toContain("BEGIN:VTIMEZONE");
    expect(response.text).toContain("DTSTART;TZID=Europe/London:20310714T180000");
    expect(response.text).toContain("DTSTART;TZID=Europe/London:20311215T180000");
    const parsed = parseCalendar(response.text);
    expect(parsed.method).toBe("PUBLISH");
    expect(parsed.timezones).toEqual(["Europe/London"]);
    expect(parsed.events).toHaveLength(2);
    const [july, december] = byStart(parsed.events);
    for (const [event, session] of [
      [july!, sessions[0]!],
      [december!, sessions[1]!],
    ] as const) {
      expect(event.start.toISOString()).toBe(session.startsAt.toISOString());
      expect(event.end.toISOString()).toBe(session.endsAt.toISOString());
      expect(event.tzid).toBe("Europe/London");
      expect(event.uid).toBe(`${booking.id}-${session.id}@${host}`);
      expect(event.status).toBe("CONFIRMED");
      expect(event.summary).toBe(klass.name);
      expect(event.location).toBe(`${studio.name}, 1 Clay Lane, London`);
      expect(event.description).toContain(`/api/v1/bookings/${booking.id}?token=${manageToken}`);
      expect(event.description).toContain("2 seats");
    }
    // The same wall-clock hour either side of the change: the zone, not a fixed offset.
    expect(july!.localStart).toBe("2031-07-14T18:00:00");
    expect(december!.localStart).toBe("2031-12-15T18:00:00");
  });

  it("keeps each UID across downloads; SEQUENCE grows and STATUS:CANCELLED appears once cancelled", async () => {
    const { sessions } = await londonClass([JULY, DECEMBER]);
    const created = await postBooking(dropInBookingBody(sessions.map((s) => s.id), 2000));
    expect(created.status).toBe(201);
    const { booking, manageToken } = created.json;
    const path = `/api/v1/bookings/${booking.id}/calendar.ics?token=${manageToken}`;

    // Right after the 201 (the booking read from its objects) and once D1 has it: the same events.
    const early = parseCalendar((await call("GET", path)).text).events;
    for (const session of sessions) await projectionCaughtUp(session.id);
    const first = parseCalendar((await call("GET", path)).text).events;
    const second = parseCalendar((await call("GET", path)).text).events;
    const uids = (events: ParsedEvent[]) => byStart(events).map((event) => event.uid);
    expect(uids(first)).toEqual(sessions.map((session) => `${booking.id}-${session.id}@${host}`));
    expect(uids(second)).toEqual(uids(first));
    expect(uids(early)).toEqual(uids(first));
    expect(byStart(second).map((e) => e.sequence)).toEqual(byStart(first).map((e) => e.sequence));
    for (const [before, after] of byStart(early).map((event, i) => [event, byStart(first)[i]!] as const)) {
      expect(after.sequence).toBeGreaterThanOrEqual(before.sequence);
    }

    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`)).status).toBe(200);
    for (const session of sessions) await projectionCaughtUp(session.id);
    const cancelled = byStart(parseCalendar((await call("GET", path)).text).events);
    expect(cancelled.map((event) => event.uid)).toEqual(uids(first));
    expect(cancelled.map((event) => event.status)).toEqual(["CANCELLED", "CANCELLED"]);
    byStart(first).forEach((before, i) => expect(cancelled[i]!.sequence).toBeGreaterThan(before.sequence));
    expect(cancelled.map((event) => event.start.toISOString())).toEqual(sessions.map((session) => session.startsAt.toISOString()));
  });
});

describe("a customer's private calendar feed", () => {
  it("has one URL until rotated; rotating makes the old one 404", async () => {
    const { sessions } = await londonClass([JULY, DECEMBER]);
    const email = uniqueEmail("feed");
    const owner = await tokenFor("customer", email);
    const mine = await postBooking(dropInBookingBody(sessions.map((s) => s.id), 2000, { contact: { email, firstName: "Fee", lastName: "Der" } }), { token: owner });
    expect(mine.status).toBe(201);
    const someoneElses = await postBooking(singleBookingBody(sessions[0]!.id, 2000));
    expect(someoneElses.status).toBe(201);
    for (const session of sessions) await projectionCaughtUp(session.id);

    expect((await call("GET", "/api/v1/me/calendar-feed")).status).toBe(401);
    const feed = await call("GET", "/api/v1/me/calendar-feed", { token: owner });
    expect(feed.status).toBe(200);
    expect(feed.headers.get("Cache-Control")).toBe("no-store");
    const { url, createdAt } = feed.json;
    expect(url).toMatch(new RegExp(`^${configOf(env).publicBaseUrl.replaceAll(".", "\\.")}/api/v1/calendar/feeds/[^/]+\\.ics$`));
    expect(Date.parse(createdAt)).not.toBeNaN();
    expect((await call("GET", "/api/v1/me/calendar-feed", { token: owner })).json).toEqual({ url, createdAt });
    // The secret is stored only as its hash.
    const secret = /\/feeds\/(.+)\.ics$/.exec(url)![1]!;
    const stored = await env.DB.prepare("SELECT * FROM calendar_feeds WHERE customer_email = ?").bind(email.toLowerCase()).all();
    expect(stored.results).toHaveLength(1);
    expect(JSON.stringify(stored.results)).not.toContain(secret);

    const path = new URL(url).pathname;
    const served = await call("GET", path);
    expectCalendarHeaders(served);
    expect(served.headers.get("Cache-Control")).toMatch(/no-store/);
    const events = byStart(parseCalendar(served.text).events);
    expect(events.map((event) => event.uid)).toEqual(sessions.map((session) => `${mine.json.booking.id}-${session.id}@${host}`));
    expect(events.map((event) => event.start.toISOString())).toEqual(sessions.map((session) => session.startsAt.toISOString()));
    expect(events.every((event) => event.status === "CONFIRMED" && event.tzid === "Europe/London")).toBe(true);
    // Nobody else's booking, and no manage link (a feed URL is handed to calendar services).
    expect(served.text).not.toContain(someoneElses.json.booking.id);
    expect(served.text).not.toContain(mine.json.manageToken);

    const rotated = await call("POST", "/api/v1/me/calendar-feed/rotate", { token: owner });
    expect(rotated.status).toBe(200);
    expect(rotated.json.url).not.toBe(url);
    expect((await call("GET", path)).status).toBe(404);
    expect((await call("GET", new URL(rotated.json.url).pathname)).status).toBe(200);
    expect((await call("GET", "/api/v1/me/calendar-feed", { token: owner })).json.url).toBe(rotated.json.url);
    // A key on a rotate is ignored: no record keeps the new secret, and a retry rotates again.
    const keyed = await call("POST", "/api/v1/me/calendar-feed/rotate", { token: owner, headers: { "Idempotency-Key": crypto.randomUUID() } });
    expect(keyed.status).toBe(200);
    expect(keyed.json.url).not.toBe(rotated.json.url);
    expect((await call("GET", new URL(rotated.json.url).pathname)).status).toBe(404);

    expect((await call("GET", "/api/v1/calendar/feeds/made-up.ics")).status).toBe(404);
    expect((await call("GET", "/api/v1/calendar/feeds/made-up")).status).toBe(404);
  });

  it("marks cancelled lines cancelled and leaves out sessions over more than 30 days ago", async () => {
    // Whole seconds: iCalendar times have no fractions.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const longAgo = new Date(now - 40 * 86_400_000);
    const lastWeek = new Date(now - 7 * 86_400_000);
    const { sessions } = await londonClass([JULY, DECEMBER]);
    const email = uniqueEmail("feed");
    const owner = await tokenFor("customer", email);
    const created = await postBooking(singleBookingBody(sessions[0]!.id, 2000, { contact: { email, firstName: "Can", lastName: "Celled" } }), { token: owner });
    const kept = await postBooking(singleBookingBody(sessions[1]!.id, 2000, { contact: { email, firstName: "Can", lastName: "Celled" } }), { token: owner });
    expect(created.status).toBe(201);
    expect(kept.status).toBe(201);
    expect((await call("POST", `/api/v1/bookings/${created.json.booking.id}/cancel`, { token: owner })).status).toBe(200);
    for (const session of sessions) await projectionCaughtUp(session.id);
    // Past sessions, written as the projection would have them (a session in the past cannot be booked).
    for (const [label, startsAt] of [
      ["old", longAgo],
      ["recent", lastWeek],
    ] as const) {
      const past = await makeSession(sessions[0]!.classId, { startsAt, endsAt: new Date(startsAt.getTime() + 3600_000), location: label });
      await env.DB.prepare(
        `INSERT INTO booking_sessions (booking_id, session_id, seats, status, price_pence, version) VALUES (?, ?, 1, 'confirmed', 2000, 1)`,
      )
        .bind(kept.json.booking.id, past.id)
        .run();
    }

    const { url } = (await call("GET", "/api/v1/me/calendar-feed", { token: owner })).json;
    const events = byStart(parseCalendar((await call("GET", new URL(url).pathname)).text).events);
    expect(events.map((event) => [event.location?.split(",")[0], event.status])).toEqual([
      ["recent", "CONFIRMED"],
      [expect.stringMatching(/^Studio /), "CANCELLED"],
      [expect.stringMatching(/^Studio /), "CONFIRMED"],
    ]);
    expect(events[0]!.start.toISOString()).toBe(lastWeek.toISOString());
  });

  it("makes one feed for two first asks at once, and keeps its URL through a server key rotation", async () => {
    const email = uniqueEmail("keys");
    const owner = await tokenFor("customer", email);
    const [a, b] = await Promise.all([call("GET", "/api/v1/me/calendar-feed", { token: owner }), call("GET", "/api/v1/me/calendar-feed", { token: owner })]);
    expect(a.status).toBe(200);
    expect(b.json).toEqual(a.json);

    const db = getDb(env.DB);
    const rotating = { ...env, JWT_SECRET: "a-new-secret-for-the-rotation-test-0123456789", JWT_SECRET_PREVIOUS: env.JWT_SECRET };
    expect(await calendarFeedFor(rotating, db, email)).toEqual(a.json);
    // Once the old key is gone altogether the URL cannot be shown again: asking rotates it.
    const rotated = { ...env, JWT_SECRET: "a-new-secret-for-the-rotation-test-0123456789" };
    const replaced = await calendarFeedFor(rotated, db, email);
    expect(replaced.url).not.toBe(a.json.url);
    expect((await call("GET", new URL(a.json.url).pathname)).status).toBe(404);
    expect((await call("GET", new URL(replaced.url).pathname)).status).toBe(200);
  });

  it("is masked in logs: the secret is the path segment after /feeds/", () => {
    expect(redactPath("/api/v1/calendar/feeds/cfd_0123.QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn.ics")).toBe("/api/v1/calendar/feeds/:token");
    expect(redactPath("/api/v1/bookings/bkg_1/calendar.ics?token=abc")).toBe("/api/v1/bookings/bkg_1/calendar.ics?token=[redacted]");
  });

  it("is for signed-in people only, by their token's email", async () => {
    expect((await call("POST", "/api/v1/me/calendar-feed/rotate")).status).toBe(401);
    const staffFeed = await call("GET", "/api/v1/me/calendar-feed", { token: await tokenFor("staff") });
    expect(staffFeed.status).toBe(200);
    const customerFeed = await call("GET", "/api/v1/me/calendar-feed", { token: await tokenFor("customer") });
    expect(customerFeed.json.url).not.toBe(staffFeed.json.url);
    // Nobody booked: an empty, valid calendar.
    const empty = await call("GET", new URL(customerFeed.json.url).pathname);
    expectCalendarHeaders(empty);
    expect(parseCalendar(empty.text).events).toEqual([]);
  });
});

describe("GET /api/v1/classes/{id}/calendar.ics", () => {
  it("lists the class's sessions to come, cancelled ones marked cancelled, with nothing about who booked", async () => {
    const { klass, sessions } = await londonClass([JULY, DECEMBER], { address: null });
    const past = await makeSession(klass.id, { startsAt: new Date(Date.now() - 86_400_000), endsAt: new Date(Date.now() - 82_800_000) });
    const cancelled = await makeSession(klass.id, { startsAt: new Date("2031-09-01T08:00:00Z"), endsAt: new Date("2031-09-01T09:00:00Z"), status: "cancelled" });
    const email = uniqueEmail("private");
    const created = await postBooking(singleBookingBody(sessions[0]!.id, 2000, { contact: { email, firstName: "Priv", lastName: "Ate" } }));
    expect(created.status).toBe(201);
    await projectionCaughtUp(sessions[0]!.id);

    const response = await call("GET", `/api/v1/classes/${klass.id}/calendar.ics`);
    expectCalendarHeaders(response);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(response.headers.get("Content-Disposition")).toBeNull();
    for (const secret of [email, email.split("@")[0]!, "Priv", "Ate", created.json.booking.id, created.json.manageToken, "token="]) {
      expect(response.text).not.toContain(secret);
    }
    expect(response.text).not.toMatch(/@example\.test/i);
    const events = byStart(parseCalendar(response.text).events);
    expect(events.map((event) => event.uid)).toEqual([sessions[0]!, cancelled, sessions[1]!].map((session) => `${session.id}@${host}`));
    expect(events.map((event) => event.status)).toEqual(["CONFIRMED", "CANCELLED", "CONFIRMED"]);
    expect(events.map((event) => event.start.toISOString())).toEqual([sessions[0]!, cancelled, sessions[1]!].map((s) => s.startsAt.toISOString()));
    expect(events.every((event) => event.description === null && event.tzid === "Europe/London")).toBe(true);
    expect(response.text).not.toContain(past.id);

    expect((await call("GET", "/api/v1/classes/cls_unknown/calendar.ics")).status).toBe(404);
  });
});

describe("the booking confirmation links to the calendar file", () => {
  it("carries calendarLinkPath with the manage token, as the manage link does", async () => {
    const { sessions } = await londonClass([JULY]);
    const created = await postBooking(singleBookingBody(sessions[0]!.id, 2000));
    expect(created.status).toBe(201);
    const { booking, manageToken } = created.json;
    const { bookingNotificationFor } = await import("../src/services/booking-notifications");
    const place = { studioId: "stu", cityId: "cty", className: "Wheel", studioName: "Clay", timeZone: "Europe/London", cancellationPolicy: OPEN_POLICY };
    const confirmed = bookingNotificationFor("BOOKING_CONFIRMED", booking, place, manageToken);
    const path = (confirmed.data as { calendarLinkPath: string }).calendarLinkPath;
    expect(path).toBe(`/api/v1/bookings/${booking.id}/calendar.ics?token=${manageToken}`);
    expect((await call("GET", path)).status).toBe(200);
    expect(bookingNotificationFor("BOOKING_CANCELLED", booking, place, manageToken).data).not.toHaveProperty("calendarLinkPath");
  });
});

describe("calendar events (src/domain/calendar.ts) and zones", () => {
  const place: CalendarPlace = { className: "Wheel", studioName: "Clay Studio", studioAddress: "1 Clay Lane", timeZone: "Europe/London", host: "book.example" };
  const line: CalendarLine = {
    bookingId: "bkg_1",
    sessionId: "ses_1",
    startsAt: new Date(JULY),
    endsAt: new Date(Date.parse(JULY) + 3600_000),
    status: "scheduled",
    location: null,
    createdAt: new Date(1_000_000),
    updatedAt: new Date(1_000_000),
    lineStatus: "confirmed",
    version: 4,
  };

  it("raises SEQUENCE with the line's version and the session's changes, within RFC 5545's INTEGER", () => {
    expect(bookingLineEvent(line, place).sequence).toBe(4);
    expect(bookingLineEvent({ ...line, updatedAt: new Date(1_060_000) }, place).sequence).toBe(64);
    expect(bookingLineEvent({ ...line, version: 9, lineStatus: "cancelled" }, place)).toMatchObject({ sequence: 9, status: "CANCELLED" });
    expect(bookingLineEvent({ ...line, status: "cancelled" }, place).status).toBe("CANCELLED");
    expect(bookingLineEvent({ ...line, version: Number.MAX_SAFE_INTEGER }, place).sequence).toBe(MAX_SEQUENCE);
    expect(classSessionEvent(line, place)).toMatchObject({ uid: "ses_1@book.example", sequence: 0, description: null });
  });

  it("names the session's room, the studio and its address once each", () => {
    expect(eventLocation("Room 2", place)).toBe("Room 2, Clay Studio, 1 Clay Lane");
    expect(eventLocation("Clay Studio", { studioName: "Clay Studio", studioAddress: null })).toBe("Clay Studio");
    expect(eventLocation(null, { studioName: null, studioAddress: null })).toBeNull();
  });

  it("writes times in UTC for UTC studios and zones it has no VTIMEZONE for", () => {
    expect(calendarZone("Europe/London")).toBe("Europe/London");
    expect(calendarZone("UTC")).toBeNull();
    expect(calendarZone("Not/AZone")).toBeNull();
    const text = writeCalendar([bookingLineEvent(line, { ...place, timeZone: calendarZone("Not/AZone") })], { name: "x" });
    expect(text).toContain("DTSTART:20310714T170000Z");
    expect(text).not.toContain("VTIMEZONE");
    expect(parseCalendar(text).events[0]!.start.toISOString()).toBe(JULY);
  });

  it("escapes text, so a class name cannot add properties", () => {
    const text = writeCalendar([classSessionEvent(line, { ...place, className: "Wheel\r\nSTATUS:CANCELLED; a, b" })], { name: "x" });
    const [event] = parseCalendar(text).events;
    expect(event!.summary).toBe("Wheel\nSTATUS:CANCELLED; a, b");
    expect(event!.status).toBe("CONFIRMED");
  });
});
