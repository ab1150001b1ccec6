/**
 * The customer catalog (GET /), the class page (GET /classes/{id}) and the booking confirmation
 * (GET /bookings/{id}/confirmed): status, headers and the markup the browser features and the
 * end-to-end tests rely on (labels, data attributes, links, messages).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { localTime } from "../src/pages/format";
import { call } from "./helpers";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeCity, makeResource, makeRole, makeSchedule, makeSession, makeStaff, makeStudio, requireResource } from "./fixtures";
import { signIn } from "./sign-in-helpers";

const page = (path: string, cookie?: string) => call("GET", path, cookie ? { headers: { cookie } } : {});

/** A class at its own studio (so a studio filter finds only it) with a qualified instructor on one session. */
async function classAtOwnStudio(options: { capacity?: number; pricePence?: number; zone?: string } = {}) {
  const studio = await makeStudio({ timeZone: options.zone ?? "Europe/London" });
  const role = await makeRole();
  const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id, pricePence: options.pricePence ?? 2500, bookingKinds: ["SINGLE_SESSION"] });
  const instructor = await makeStaff([role.id], { firstName: "Priya", lastName: "Shah" });
  const session = await makeSession(klass.id, { capacity: options.capacity ?? 8, instructorId: instructor.id });
  return { studio, klass, role, instructor, session };
}

function count(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern.source, "g"))?.length ?? 0;
}

describe("GET / (the catalog)", () => {
  it("lists a class with its next session in studio time, price, live seats and a Book link, under the page CSP", async () => {
    const { studio, klass, session } = await classAtOwnStudio({ pricePence: 1850, zone: "America/New_York" });
    const response = await page(`/?studio=${studio.id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/script-src 'self'/);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=30");
    const html = response.text;
    expect(count(html, /<h1[ >]/)).toBe(1);
    expect(html).toContain(klass.name);
    expect(html).toContain("£18.50 per session");
    expect(html).toContain(localTime(session.startsAt, "America/New_York"));
    expect(html).toMatch(new RegExp(`data-session-id="${session.id}"[^>]*data-available-spots="8"`));
    expect(html).toContain("8 seats left");
    expect(html).toContain(`href="/classes/${klass.id}?session=${session.id}#book"`);
    // The filters are a labelled GET form.
    for (const id of ["filter-city", "filter-studio", "filter-from", "filter-to"]) expect(html).toContain(`<label for="${id}">`);
    expect(html).toMatch(/<form method="get" action="\/"/);
  });

  it("filters by city, studio and dates", async () => {
    const city = await makeCity();
    const studio = await makeStudio({ cityId: city.id });
    const role = await makeRole();
    const instructor = await makeStaff([role.id]);
    const soon = await makeClass({ studioId: studio.id, requiredRoleId: role.id, name: `Soon ${crypto.randomUUID()}` });
    const later = await makeClass({ studioId: studio.id, requiredRoleId: role.id, name: `Later ${crypto.randomUUID()}` });
    await makeSession(soon.id, { instructorId: instructor.id, startsAt: new Date("2031-03-02T10:00:00Z"), endsAt: new Date("2031-03-02T11:00:00Z") });
    await makeSession(later.id, { instructorId: instructor.id, startsAt: new Date("2031-04-20T10:00:00Z"), endsAt: new Date("2031-04-20T11:00:00Z") });
    const elsewhere = await classAtOwnStudio();

    const byCity = await page(`/?city=${city.id}`);
    expect(byCity.text).toContain(soon.name);
    expect(byCity.text).toContain(later.name);
    expect(byCity.text).not.toContain(elsewhere.klass.name);
    expect(byCity.text).toMatch(new RegExp(`<option value="${city.id}" selected`));

    const march = await page(`/?studio=${studio.id}&from=2031-03-01&to=2031-03-31`);
    expect(march.text).toContain(soon.name);
    expect(march.text).not.toContain(later.name);
    expect(march.text).toContain('value="2031-03-01"');

    // "Until" includes the day it names.
    const oneDay = await page(`/?studio=${studio.id}&from=2031-03-02&to=2031-03-02`);
    expect(oneDay.text).toContain(soon.name);
  });

  it("reports filters it cannot read and leaves them out", async () => {
    const { studio, klass } = await classAtOwnStudio();
    const response = await page(`/?studio=${studio.id}&from=not-a-date&to=2031-01-01&after=%%%`);
    expect(response.status).toBe(200);
    expect(response.text).toContain('id="filter-problem"');
    expect(response.text).toContain("the start date");
    const reversed = await page(`/?studio=${studio.id}&from=2031-02-01&to=2031-01-01`);
    expect(reversed.text).toContain("the start must not be after the end");
    expect(reversed.text).toContain(klass.name);
  });

  it("shows FULL with Join the waitlist for a full session, and 'N left' when few", async () => {
    const { studio, klass, session } = await classAtOwnStudio({ capacity: 1, pricePence: 2000 });
    const roomy = await makeSession(klass.id, { capacity: 3, instructorId: session.instructorId, startsAt: new Date(session.startsAt.getTime() + 86_400_000) });
    expect((await postBooking(singleBookingBody(session.id, 2000))).status).toBe(201);
    const html = (await page(`/?studio=${studio.id}`)).text;
    expect(html).toMatch(new RegExp(`data-session-id="${session.id}" data-available-spots="0"[^>]*>FULL<`));
    expect(html).toContain(`href="/sessions/${session.id}/waitlist"`);
    expect(html).toMatch(new RegExp(`href="/classes/${klass.id}\\?session=${session.id}#book" data-show-when="open" hidden`));
    expect(html).toMatch(new RegExp(`data-session-id="${roomy.id}" data-available-spots="3"[^>]*>3 left<`));
  });

  it("offers Notify me instead of Book when no qualified instructor is assigned (the NO_TRAINER rule)", async () => {
    const studio = await makeStudio();
    const role = await makeRole();
    const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id });
    const unqualified = await makeStaff([]);
    const session = await makeSession(klass.id, { instructorId: unqualified.id });
    const html = (await page(`/?studio=${studio.id}`)).text;
    expect(html).toContain(`href="/classes/${klass.id}/notify"`);
    expect(html).toContain('data-testid="class-notify"');
    expect(html).not.toContain(`data-testid="book-${session.id}"`);
    // The booking API agrees.
    const refused = await postBooking(singleBookingBody(session.id, klass.pricePence));
    expect(refused.json.error.code).toBe("NO_TRAINER");
  });

  it("pages through classes with a next link that keeps the filters", async () => {
    const studio = await makeStudio();
    const role = await makeRole();
    for (let i = 0; i < 21; i++) await makeClass({ studioId: studio.id, requiredRoleId: role.id, name: `Paged ${String(i).padStart(2, "0")} ${crypto.randomUUID()}` });
    const first = await page(`/?studio=${studio.id}`);
    const next = /rel="next" href="\/\?([^"]+)"/.exec(first.text);
    expect(next?.[1]).toContain(`studio=${studio.id}`);
    const second = await page(`/?${next![1]!.replaceAll("&amp;", "&")}`);
    expect(second.text).toContain("Paged 20");
    expect(second.text).not.toContain("Paged 00");
  });
});

describe("GET /classes/{id}", () => {
  it("shows the class, instructor, resources, prices and a labelled booking form for each kind", async () => {
    const { klass, pattern, sessions } = await makeSchedule({ sessions: 2, capacity: 5, pricePence: 2500, fullSchedulePricePence: 4500 });
    const resource = await makeResource(klass.studioId, { name: `Wheel ${crypto.randomUUID().slice(0, 4)}`, quantity: 10 });
    await requireResource(klass.id, resource.id, 1);
    const response = await page(`/classes/${klass.id}?session=${sessions[1]!.id}`);
    expect(response.status).toBe(200);
    const html = response.text;
    expect(count(html, /<h1[ >]/)).toBe(1);
    expect(html).toContain(klass.description);
    expect(html).toContain(`1 × ${resource.name}`);
    expect(html).toContain("£25.00 per person per session");
    expect(html).toContain("whole course £45.00 per person");
    expect(html).toContain('id="booking-form"');
    for (const id of ["guest-count", "promo-code", "contact-email", "contact-first-name", "contact-last-name", "contact-phone"]) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toContain(`id="${id}"`);
    }
    for (const kind of ["SINGLE_SESSION", "DROP_IN", "FULL_SCHEDULE"]) expect(html).toContain(`<label for="kind-${kind}">`);
    // The session picked on the catalog is preselected; the course shows when it starts and how full it is.
    expect(html).toMatch(new RegExp(`id="session-${sessions[1]!.id}" value="${sessions[1]!.id}" checked`));
    expect(html).toContain(`Starts ${localTime(sessions[0]!.startsAt, "Europe/London")}`);
    expect(html).toContain(`data-testid="enrolled-${pattern.id}">0/5 enrolled`);
    expect(count(html, new RegExp(`data-session-id="${sessions[0]!.id}" data-available-spots="5"`))).toBe(2);
    expect(html).toContain('id="hold-countdown"');
    expect(html).not.toMatch(/ style=/);
  });

  it("prefills the contact fields of a signed-in customer", async () => {
    const { klass } = await makeBookableSession();
    const email = uniqueEmail("signed");
    await getDb(env.DB).insert(t.customers).values({ id: `cus_${crypto.randomUUID().slice(0, 12)}`, email, firstName: "Grace", lastName: "Hopper" });
    const { cookie } = await signIn(email);
    const response = await page(`/classes/${klass.id}`, cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(response.text).toMatch(new RegExp(`id="contact-email"[^>]*value="${email}"[^>]*readonly`));
    expect(response.text).toMatch(/id="contact-first-name"[^>]*value="Grace"/);
    expect(response.text).toMatch(/id="contact-last-name"[^>]*value="Hopper"/);
  });

  it("offers Notify me instead of a form when no session has a qualified instructor", async () => {
    const role = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id });
    await makeSession(klass.id, { instructorId: (await makeStaff([])).id });
    const html = (await page(`/classes/${klass.id}`)).text;
    expect(html).toContain(`href="/classes/${klass.id}/notify"`);
    expect(html).not.toContain('id="booking-form"');
  });

  it("answers 404 with a page for an unknown class", async () => {
    const response = await page("/classes/cls_does_not_exist");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(response.text).toContain("Class not found");
  });
});

describe("GET /bookings/{id}/confirmed", () => {
  it("shows the booking with its manage and calendar links to the holder of the manage token", async () => {
    const { session, klass } = await makeBookableSession({ pricePence: 3000 });
    const booked = await postBooking(singleBookingBody(session.id, 3000, { guestCount: 2 }));
    expect(booked.status).toBe(201);
    const { booking, manageToken } = booked.json;
    const response = await page(`/bookings/${booking.id}/confirmed?token=${encodeURIComponent(manageToken)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const html = response.text;
    expect(html).toContain(klass.name);
    expect(html).toContain("£60.00");
    expect(html).toContain(localTime(session.startsAt, "Europe/London"));
    expect(html).toContain(`href="/bookings/${booking.id}?token=${encodeURIComponent(manageToken)}"`);
    expect(html).toContain(`href="/api/v1/bookings/${booking.id}/calendar.ics?token=${encodeURIComponent(manageToken)}"`);

    const calendar = await call("GET", `/api/v1/bookings/${booking.id}/calendar.ics?token=${encodeURIComponent(manageToken)}`);
    expect(calendar.status).toBe(200);
  });

  it("refuses a wrong or missing token with a page, not the booking", async () => {
    const { session } = await makeBookableSession();
    const { booking } = (await postBooking(singleBookingBody(session.id, 2500))).json;
    const wrong = await page(`/bookings/${booking.id}/confirmed?token=not-the-token`);
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain(booking.customer.email);
    const none = await page(`/bookings/${booking.id}/confirmed`);
    expect(none.status).toBe(403);
    expect(none.text).toContain("does not open that booking");
  });
});
