/**
 * The customer's pages after finding a class (engineer B): manage a booking, join a waitlist, a
 * waitlist offer, notify me, my bookings, and the sign-in page in the site's layout. Each is
 * served with the pages' CSP, opens only for whom the API would open it, and carries the markup
 * its browser feature (src/client/*) and the end-to-end tests rely on.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { randomToken, sha256Hex } from "../src/lib/tokens";
import { localTime, pounds } from "../src/pages/format";
import { nextClientIp, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass } from "./fixtures";
import { call, eventuallyPasses, tokenFor } from "./helpers";
import { grantRole, linkToken, newestMessage, signIn } from "./sign-in-helpers";
import { confirmToken } from "../src/durable-objects/outbox";
import { acceptOffer, cancelBooking, confirmByLink, currentOfferToken, entryOf, expireOffers, fullSession, join, joinBody } from "./waitlist-helpers";

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://localhost", "CF-Connecting-IP": nextClientIp(), ...headers },
});

/** A request whose redirect is answered, not followed (call() follows them). */
async function unfollowed(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await exports.default.fetch(new Request(`http://localhost${path}`, { method, redirect: "manual", headers: init.headers, body: init.body }));
  await response.text();
  return response;
}

/** What every page must be: HTML in the layout, under the pages' CSP (no inline script or style), never cached. */
function expectPage(response: { status: number; headers: Headers; text: string }, status = 200) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/text\/html/);
  const csp = response.headers.get("Content-Security-Policy") ?? "";
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("form-action 'self'");
  expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  expect(response.text).toContain('<link rel="stylesheet" href="/assets/site.css"');
  expect(response.text).not.toMatch(/<style|style="|<script>/);
  expect(response.text.match(/<h1/g)).toHaveLength(1);
}

/** A studio's zone, for the times a page should show. */
async function zoneOfClass(classId: string): Promise<string> {
  const row = await env.DB.prepare(`SELECT s.time_zone AS zone FROM classes c JOIN studios s ON s.id = c.studio_id WHERE c.id = ?`).bind(classId).first<{ zone: string }>();
  return row!.zone;
}

async function bookOne(email = uniqueEmail("manage")) {
  const made = await makeBookableSession({ pricePence: 1850 });
  const response = await postBooking(singleBookingBody(made.session.id, 1850, { guestCount: 2, contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  expect(response.status).toBe(201);
  return { ...made, email, booking: response.json.booking as { id: string }, manageToken: response.json.manageToken as string };
}

describe("the manage-booking page", { timeout: 30_000 }, () => {
  it("shows the booking in the studio's time with its total, calendar link and cancel button, by its manage token", async () => {
    const { booking, manageToken, klass, session } = await bookOne();
    const page = await call("GET", `/bookings/${booking.id}?token=${manageToken}`);
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain(localTime(session.startsAt, await zoneOfClass(klass.id)));
    expect(page.text).toContain(pounds(3700));
    expect(page.text).toContain("2 seats");
    expect(page.text).toMatch(/id="booking-status"[^>]*data-status="confirmed"/);
    expect(page.text).toContain(`href="/api/v1/bookings/${booking.id}/calendar.ics?token=${encodeURIComponent(manageToken)}"`);
    expect(page.text).toContain(`data-cancel-booking="${booking.id}"`);
    expect(page.text).toContain('id="cancel-booking"');
    expect(page.text).toContain('id="cancel-confirm"');
  });

  it("opens for the signed-in owner and for staff without a token, and for nobody else", async () => {
    const { booking, email } = await bookOne();
    const owner = await signIn(email);
    const byOwner = await call("GET", `/bookings/${booking.id}`, { headers: { Cookie: owner.cookie } });
    expectPage(byOwner);
    expect(byOwner.text).toContain('id="cancel-booking"');
    const staffEmail = uniqueEmail("desk");
    await grantRole(staffEmail, "staff");
    const staff = await signIn(staffEmail);
    expectPage(await call("GET", `/bookings/${booking.id}`, { headers: { Cookie: staff.cookie } }));

    const anonymous = await call("GET", `/bookings/${booking.id}`);
    expectPage(anonymous, 403);
    expect(anonymous.text).toContain('data-reason="no-credential"');
    expect(anonymous.text).toContain(`/sign-in?next=${encodeURIComponent(`/bookings/${booking.id}`)}`);
    const wrongToken = await call("GET", `/bookings/${booking.id}?token=${randomToken()}`);
    expectPage(wrongToken, 403);
    expect(wrongToken.text).toContain('data-reason="forbidden"');
    const stranger = await signIn(uniqueEmail("stranger"));
    const byStranger = await call("GET", `/bookings/${booking.id}`, { headers: { Cookie: stranger.cookie } });
    expect(byStranger.status).toBe(403);
    expect(byStranger.text).not.toContain("Lovelace");
    const unknown = await call("GET", `/bookings/bkg_nosuchbooking`, { headers: { Cookie: staff.cookie } });
    expectPage(unknown, 404);
  });

  it("shows a cancelled booking as cancelled, with no cancel button", async () => {
    const { booking, manageToken } = await bookOne();
    expect((await cancelBooking({ id: booking.id, manageToken })).status).toBe(200);
    const page = await call("GET", `/bookings/${booking.id}?token=${manageToken}`);
    expectPage(page);
    expect(page.text).toMatch(/id="booking-status"[^>]*data-status="cancelled"/);
    expect(page.text).toContain('id="cancelled-note"');
    expect(page.text).not.toContain('id="cancel-booking"');
  });
});

describe("the waitlist join page", { timeout: 30_000 }, () => {
  it("offers a labelled form for a full session, saying anonymous joiners confirm by email", async () => {
    const { session, klass } = await fullSession([2]);
    const page = await call("GET", `/sessions/${session.id}/waitlist`);
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain(`data-session-id="${session.id}"`);
    expect(page.text).toContain('data-available-spots="0"');
    expect(page.text).toContain(`data-waitlist-session="${session.id}"`);
    for (const id of ["wl-email", "wl-first", "wl-last", "wl-seats"]) {
      expect(page.text).toContain(`<label for="${id}"`);
      expect(page.text).toContain(`id="${id}"`);
    }
    expect(page.text).toContain("check your inbox and confirm");
    expect(page.text).not.toContain("readonly");
  });

  it("prefills a signed-in customer's address and drops the confirm-by-email note", async () => {
    const { session } = await fullSession([1]);
    const email = uniqueEmail("inline");
    const customer = await signIn(email);
    const page = await call("GET", `/sessions/${session.id}/waitlist`, { headers: { Cookie: customer.cookie } });
    expectPage(page);
    expect(page.text).toMatch(new RegExp(`id="wl-email"[^>]*value="${email}"[^>]*readonly`));
    expect(page.text).not.toContain('id="waitlist-confirm-note"');
  });

  it("sends a visitor of a session with seats to the class page, and 404s an unknown session", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5 });
    const page = await call("GET", `/sessions/${session.id}/waitlist`);
    expectPage(page);
    expect(page.text).toContain('id="waitlist-not-needed"');
    expect(page.text).toContain(`href="/classes/${klass.id}"`);
    expect(page.text).toContain('data-available-spots="5"');
    expect(page.text).not.toContain('id="waitlist-join-form"');
    expectPage(await call("GET", `/sessions/ses_nosuchsession/waitlist`), 404);
  });
});

describe("the waitlist offer page", { timeout: 30_000 }, () => {
  async function offered() {
    const made = await fullSession([1], { pricePence: 2200 });
    const entry = (await join(made.session.id, joinBody(1))).json.entry;
    expect((await cancelBooking(made.bookings[0]!)).status).toBe(200);
    return { ...made, entry, token: await currentOfferToken(made.session.id, entry.id) };
  }

  it("shows the class, time, seats, price and a countdown to the expiry, with accept and decline", async () => {
    const { token, klass, session, pricePence } = await offered();
    const page = await call("GET", `/waitlist-offers/${token}`);
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain(localTime(session.startsAt, await zoneOfClass(klass.id)));
    expect(page.text).toContain(pounds(pricePence));
    expect(page.text).toMatch(/data-countdown-to="\d{4}-\d\d-\d\dT[^"]+Z"/);
    expect(page.text).toContain(`data-offer-token="${token}"`);
    expect(page.text).toContain(`data-total-pence="${pricePence}"`);
    expect(page.text).toContain('id="offer-accept"');
    expect(page.text).toContain('id="offer-decline"');
  });

  it("says an accepted offer is booked, and an expired one expired (410); a made-up token is 404", async () => {
    const accepted = await offered();
    expect((await acceptOffer(accepted.token, accepted.pricePence)).status).toBe(201);
    const booked = await call("GET", `/waitlist-offers/${accepted.token}`);
    expectPage(booked, 410);
    expect(booked.text).toContain('data-reason="booked"');
    expect(booked.text).not.toContain('id="offer-accept"');

    const lapsed = await offered();
    await expireOffers(lapsed.session.id);
    const expired = await call("GET", `/waitlist-offers/${lapsed.token}`);
    expectPage(expired, 410);
    expect(expired.text).toContain('data-reason="closed"');
    expect(expired.text).toContain("This offer has expired");

    expectPage(await call("GET", `/waitlist-offers/${randomToken()}`), 404);
  });
});

describe("the waitlist confirmation page", { timeout: 30_000 }, () => {
  it("shows an anonymous join with a Confirm button, confirms nothing by being opened, then shows the place in line", async () => {
    const { session, klass } = await fullSession([2]);
    const joined = await join(session.id, joinBody(2), { anonymous: true });
    expect(joined.json.entry.confirmed).toBe(false);
    const token = await confirmToken(env.JWT_SECRET, { sessionId: session.id, entryId: joined.json.entry.id });
    const page = await call("GET", `/waitlist-confirmations/${token}`);
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain("2 seats");
    expect(page.text).toContain(`data-confirm-token="${token}"`);
    expect(page.text).toContain('id="waitlist-confirm-button"');
    expect((await entryOf(session.id, joined.json.entry.id)).confirmed).toBe(false);

    expect((await confirmByLink(session.id, joined.json.entry.id)).status).toBe(200);
    const after = await call("GET", `/waitlist-confirmations/${token}`);
    expectPage(after);
    expect(after.text).toContain('id="waitlist-confirm-done"');
    expect(after.text).toContain("number 1 in line");
    expect(after.text).not.toContain('id="waitlist-confirm-button"');

    expectPage(await call("GET", `/waitlist-confirmations/${randomToken()}`), 404);
  });
});

describe("the notify-me page", { timeout: 30_000 }, () => {
  it("offers a labelled form for the class, and 404s an unknown class", async () => {
    const klass = await makeClass();
    const page = await call("GET", `/classes/${klass.id}/notify`);
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain("currently unavailable");
    expect(page.text).toContain(`data-course-id="${klass.id}"`);
    expect(page.text).toContain('<label for="notify-email"');
    expect(page.text).toContain('id="notify-check-form"');
    expectPage(await call("GET", `/classes/cls_nosuchclass/notify`), 404);
  });
});

describe("my bookings", { timeout: 30_000 }, () => {
  it("sends a visitor without a session to sign in and back", async () => {
    const page = await unfollowed("GET", "/me");
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/sign-in?next=%2Fme");
  });

  it("lists the person's bookings with manage and calendar links, waitlist places and the calendar feed", async () => {
    const { booking, email, klass } = await bookOne();
    const full = await fullSession([1]);
    await join(full.session.id, joinBody(1, { email }), { token: await tokenFor("customer", email) });
    const { cookie } = await signIn(email);
    const page = await eventuallyPasses(async () => {
      const response = await call("GET", "/me", { headers: { Cookie: cookie } });
      expect(response.text).toContain(`data-booking-id="${booking.id}"`);
      expect(response.text).toContain(full.klass.name);
      return response;
    });
    expectPage(page);
    expect(page.text).toContain(klass.name);
    expect(page.text).toContain(`href="/bookings/${booking.id}"`);
    expect(page.text).toContain(`href="/api/v1/bookings/${booking.id}/calendar.ics"`);
    expect(page.text).toContain("number 1 in line");
    expect(page.text).toMatch(/id="calendar-feed-url"[^>]*value="[^"]*\/api\/v1\/calendar\/feeds\/[^"]+\.ics"/);
    expect(page.text).toContain('id="calendar-feed-rotate"');
    expect(page.text).toContain('<label for="calendar-feed-url"');
  });
});

describe("the sign-in page", { timeout: 30_000 }, () => {
  async function askForLink(email: string, fields: Record<string, string> = {}) {
    const asked = await call("POST", "/sign-in", form({ email, ...fields }));
    expectPage(asked);
    return { asked, token: linkToken((await newestMessage(email, /sign in/i)).text) };
  }

  it("is in the site's layout, and keeps a safe ?next= only", async () => {
    const page = await call("GET", "/sign-in?next=/admin/sessions");
    expectPage(page);
    expect(page.text).toContain('<label for="email"');
    expect(page.text).toContain('name="next" value="/admin/sessions"');
    const evil = await call("GET", `/sign-in?next=${encodeURIComponent("//evil.example/")}`);
    expect(evil.text).not.toContain('name="next"');
  });

  it("names the (masked) address a link signs in as, and explains a link that will not work", async () => {
    const email = uniqueEmail("masked");
    const { token } = await askForLink(email);
    const opened = await call("GET", `/sign-in?token=${token}`);
    expectPage(opened);
    expect(opened.text).toContain("Sign in as m…@example.test");
    expect(opened.text).not.toContain(email);
    expect(opened.text).toContain('action="/sign-in/verify"');

    const unknown = await call("GET", `/sign-in?token=${randomToken()}`);
    expectPage(unknown, 400);
    expect(unknown.text).toContain("not valid");
    expect(unknown.text).not.toContain('action="/sign-in/verify"');
    expect((await call("POST", "/sign-in/verify", form({ token }))).status).toBe(200);
    const used = await call("GET", `/sign-in?token=${token}`);
    expectPage(used, 410);
    expect(used.text).toContain("already been used");
    const late = randomToken();
    await env.DB.prepare(`INSERT INTO sign_in_links (token_hash, email, limit_key, purpose, expires_at) VALUES (?, ?, ?, 'sign_in', ?)`)
      .bind(await sha256Hex(late), email, email, Date.now() - 1)
      .run();
    const expired = await call("GET", `/sign-in?token=${late}`);
    expectPage(expired, 410);
    expect(expired.text).toContain("expired");
  });

  it("warns who is signed in already, and ends that session when the link is used", async () => {
    const first = await signIn(uniqueEmail("first"));
    const second = uniqueEmail("second");
    const { token } = await askForLink(second);
    const opened = await call("GET", `/sign-in?token=${token}`, { headers: { Cookie: first.cookie } });
    expectPage(opened);
    expect(opened.text).toContain(`You are signed in as ${first.user.email}; continuing signs you in as s…@example.test instead`);
    const verified = await call("POST", "/sign-in/verify", form({ token }, { Cookie: first.cookie }));
    expectPage(verified);
    expect(verified.text).toContain(`signed in as ${second}`);
    expect((await call("GET", "/api/v1/auth/session", { headers: { Cookie: first.cookie } })).status).toBe(401);
    const cookie = verified.headers.get("Set-Cookie")!.match(/cb_session=[^;]+/)![0];
    expect((await call("GET", "/api/v1/auth/session", { headers: { Cookie: cookie } })).json.user.email).toBe(second);
  });

  it("returns to ?next= after signing in, remembered across the emailed link", async () => {
    const email = uniqueEmail("next");
    const { asked, token } = await askForLink(email, { next: "/me" });
    const remembered = asked.headers.get("Set-Cookie")!.match(/cb_sign_in_next=[^;]+/)![0];
    expect(asked.headers.get("Set-Cookie")).toContain("Path=/sign-in");
    const opened = await call("GET", `/sign-in?token=${token}`, { headers: { Cookie: remembered } });
    expect(opened.text).toContain('name="next" value="/me"');
    const posted = form({ token, next: "/me" });
    const verified = await unfollowed("POST", "/sign-in/verify", { body: posted.rawBody, headers: posted.headers });
    expect(verified.status).toBe(303);
    expect(verified.headers.get("Location")).toBe("/me");

    const other = await askForLink(uniqueEmail("evil-next"));
    const refused = await call("POST", "/sign-in/verify", form({ token: other.token, next: "//evil.example" }));
    expect(refused.status).toBe(200);
  });

  it("takes only small form posts with a valid address", async () => {
    const huge = await call("POST", "/sign-in", form({ email: `${"a".repeat(9000)}@example.test` }));
    expect(huge.status).toBe(413);
    const json = await call("POST", "/sign-in", { body: { email: uniqueEmail() }, headers: { Origin: "http://localhost" } });
    expect(json.status).toBe(415);
    const bad = await call("POST", "/sign-in", form({ email: "not-an-email" }));
    expectPage(bad, 400);
    expect(bad.text).toContain("does not look like an email address");
    const long = await call("POST", "/sign-in", form({ email: `${"a".repeat(250)}@example.test` }));
    expect(long.status).toBe(400);
  });
});
