/**
 * The studio console's pages (/admin…): who may open them, what they show (fill and warnings from
 * the alert rules, alerts with their buttons, the bookings search and its CSV, a week of sessions,
 * a session's staff, waiting list and capacity check), and that the admin-only writes the pages'
 * buttons call are refused for staff by the API itself.
 */
import { env, exports } from "cloudflare:workers";
import { parse } from "csv-parse/browser/esm/sync";
import { DateTime } from "luxon";
import { beforeAll, describe, expect, it } from "vitest";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { getDb } from "../src/db/client";
import { demandSignals, metrics } from "../src/db/schema";
import { makeAlert, makeBookableSession, makeBooking, makeClass, makeRole, makeSchedule, makeSession, makeStaff } from "./fixtures";
import { call, eventually, unique } from "./helpers";
import { grantRole, signIn } from "./sign-in-helpers";

const ORIGIN = "http://localhost";
let staffCookie: string;
let adminCookie: string;

beforeAll(async () => {
  const [staffEmail, adminEmail] = [uniqueEmail("console-staff"), uniqueEmail("console-admin")];
  await grantRole(staffEmail, "staff");
  await grantRole(adminEmail, "admin");
  staffCookie = (await signIn(staffEmail)).cookie;
  adminCookie = (await signIn(adminEmail)).cookie;
});

/** A GET without a session, redirects not followed. */
const anonymous = (path: string) => exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual" }));

const page = (path: string, cookie = staffCookie) => call("GET", path, { headers: { Cookie: cookie } });

/** The markup of the element carrying `attribute="value"` up to the end of its row / list item. */
function rowOf(html: string, attribute: string, value: string): string {
  const start = html.indexOf(`${attribute}="${value}"`);
  expect(start, `no element with ${attribute}="${value}"`).toBeGreaterThan(-1);
  const end = html.slice(start).search(/<\/tr>|<\/li>/);
  return html.slice(start, start + end);
}

describe("console access", () => {
  it("sends someone without a session to sign in, and back to /admin after", async () => {
    const response = await anonymous("/admin");
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("Location")!, ORIGIN);
    expect(location.pathname).toBe("/sign-in");
    expect(location.searchParams.get("next")).toBe("/admin");
    const deep = await anonymous("/admin/bookings?email=a%40b.test");
    expect(deep.status).toBe(303);
    expect(new URL(deep.headers.get("Location")!, ORIGIN).searchParams.get("next")).toBe("/admin/bookings?email=a%40b.test");
  });

  it("refuses a customer with a 403 page, and lets staff in under the pages' CSP", async () => {
    const customer = await signIn(uniqueEmail("console-customer"));
    for (const path of ["/admin", "/admin/alerts", "/admin/bookings", "/admin/bookings.csv", "/admin/sessions"]) {
      const refused = await page(path, customer.cookie);
      expect(refused.status, path).toBe(403);
      expect(refused.text).toContain("The studio console is for staff");
    }
    const allowed = await page("/admin");
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(allowed.headers.get("Cache-Control")).toBe("private, no-store");
    expect(allowed.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(allowed.text.match(/<h1>/g)).toHaveLength(1);
    expect(allowed.text).not.toMatch(/ style=|<style|<script>/);
  });
});

describe("GET /admin (dashboard)", () => {
  it("shows each session's fill, flags near-full and low-fill ones by the alert rules, and lists open alerts", async () => {
    const full = await makeBookableSession({ capacity: 10, startsInHours: 3 });
    const empty = await makeBookableSession({ capacity: 10, startsInHours: 5 });
    for (let i = 0; i < 9; i++) await makeBooking(full.session.id);
    await makeBooking(empty.session.id);
    const alert = await makeAlert({ title: `Dashboard alert ${unique()}` });
    const resolved = await makeAlert({ title: `Resolved alert ${unique()}`, status: "resolved" });

    const { status, text } = await page("/admin");
    expect(status).toBe(200);
    const fullRow = rowOf(text, "data-session-row", full.session.id);
    expect(fullRow).toContain("90 %");
    expect(fullRow).toContain(`data-session-id="${full.session.id}" data-available-spots="1"`);
    expect(fullRow).toContain('data-flag="near-full"');
    expect(fullRow).not.toContain('data-flag="low-fill"');
    const emptyRow = rowOf(text, "data-session-row", empty.session.id);
    expect(emptyRow).toContain("10 %");
    expect(emptyRow).toContain('data-flag="low-fill"');
    expect(emptyRow).toContain(`${empty.instructor.firstName} ${empty.instructor.lastName}`);
    // Studio-local time with the zone named (the fixtures' studios are in London).
    expect(fullRow).toMatch(/\d{2}:\d{2} (GMT|BST)/);
    expect(rowOf(text, "data-warning", "near-full")).toContain(full.klass.name);
    expect(text).toContain(alert.title);
    expect(text).not.toContain(resolved.title);
  });
});

describe("GET /admin/alerts", () => {
  it("filters by status, severity and type with a GET form, and offers acknowledge and resolve", async () => {
    const type = `CONSOLE_${unique().toUpperCase()}`;
    const open = await makeAlert({ type, severity: "critical", title: `Open ${unique()}` });
    const acknowledged = await makeAlert({ type, severity: "warning", status: "acknowledged", title: `Acked ${unique()}` });

    const all = await page(`/admin/alerts?type=${type}`);
    expect(all.status).toBe(200);
    for (const id of ["alert-status", "alert-severity", "alert-type"]) expect(all.text).toMatch(new RegExp(`<label for="${id}">`));
    const openRow = rowOf(all.text, "data-alert-id", open.id);
    expect(openRow).toContain(`data-url="/api/v1/admin/alerts/${open.id}/acknowledge"`);
    expect(openRow).toContain(`data-url="/api/v1/admin/alerts/${open.id}/resolve"`);
    expect(openRow).toContain("Resolve (admins only)");
    const ackRow = rowOf(all.text, "data-alert-id", acknowledged.id);
    expect(ackRow).not.toContain("/acknowledge");
    expect(ackRow).toContain("/resolve");

    const critical = await page(`/admin/alerts?type=${type}&severity=critical`);
    expect(critical.text).toContain(open.id);
    expect(critical.text).not.toContain(acknowledged.id);
    expect(critical.text).toMatch(/<option value="critical" selected/);
    const acked = await page(`/admin/alerts?type=${type}&status=acknowledged`);
    expect(acked.text).not.toContain(open.id);
    expect(acked.text).toContain(acknowledged.id);
    // A value that is not a choice is ignored, not an error page.
    expect((await page(`/admin/alerts?type=${type}&status=bogus`)).status).toBe(200);
    expect((await page(`/admin/alerts?type=${type}`, adminCookie)).text).not.toContain("admins only");
  });

  it("the buttons' API calls: staff may acknowledge with the cookie, only an admin may resolve", async () => {
    const alert = await makeAlert();
    const headers = (cookie: string) => ({ Cookie: cookie, Origin: ORIGIN });
    const ack = await call("POST", `/api/v1/admin/alerts/${alert.id}/acknowledge`, { headers: headers(staffCookie) });
    expect(ack.status).toBe(200);
    const refused = await call("POST", `/api/v1/admin/alerts/${alert.id}/resolve`, { headers: headers(staffCookie) });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("FORBIDDEN");
    const resolved = await call("POST", `/api/v1/admin/alerts/${alert.id}/resolve`, { headers: headers(adminCookie) });
    expect(resolved.json.status).toBe("resolved");
    expect(rowOf((await page(`/admin/alerts?type=${alert.type}`)).text, "data-alert-id", alert.id)).not.toContain("<button");
  });
});

describe("GET /admin/bookings, /admin/bookings.csv and /admin/bookings/{id}", () => {
  const surname = `Quill${unique().replace(/[^a-z]/g, "")}x`;
  let bookingIds: string[] = [];
  const emails = [uniqueEmail("ada"), uniqueEmail("grace")];
  let classId = "";
  let sessionStart = new Date();

  beforeAll(async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10, pricePence: 1250 });
    classId = klass.id;
    sessionStart = session.startsAt;
    bookingIds = [];
    for (const [i, first] of ["Ada", "Grace"].entries()) {
      const response = await postBooking(singleBookingBody(session.id, 1250, { contact: { email: emails[i], firstName: first, lastName: surname } }));
      expect(response.status).toBe(201);
      bookingIds.push(response.json.booking.id);
    }
    await eventually(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM bookings WHERE class_id = ?`).bind(klass.id).first<{ n: number }>();
      return row?.n === 2;
    });
  });

  it("searches by name (the admin API too), class and status, with labelled controls", async () => {
    const { status, text } = await page(`/admin/bookings?name=${encodeURIComponent(`grace ${surname}`.toLowerCase())}`);
    expect(status).toBe(200);
    for (const id of ["search-email", "search-name", "search-class", "search-status", "search-from", "search-to"]) expect(text).toContain(`<label for="${id}">`);
    expect(text).toContain(bookingIds[1]);
    expect(text).not.toContain(bookingIds[0]);
    expect(text).toContain("£12.50");
    const byClass = await page(`/admin/bookings?classId=${classId}&name=${surname}`);
    expect(bookingIds.every((id) => byClass.text.includes(id))).toBe(true);
    expect((await page(`/admin/bookings?classId=${classId}&status=cancelled`)).text).toContain("No bookings match.");
    // Session dates: the fixture's session is a week ahead (studio days in London).
    const sessionDay = DateTime.fromJSDate(sessionStart).setZone("Europe/London").toISODate()!;
    const around = await page(`/admin/bookings?classId=${classId}&sessionFrom=${sessionDay}&sessionTo=${sessionDay}`);
    expect(around.text).toContain('<label for="search-session-from">');
    expect(bookingIds.every((id) => around.text.includes(id))).toBe(true);
    expect((await page(`/admin/bookings?classId=${classId}&sessionFrom=2099-01-01`)).text).toContain("No bookings match.");
    const api = await call("GET", `/api/v1/admin/bookings?name=${surname}`, { headers: { Cookie: staffCookie } });
    expect(api.json.data.map((b: { id: string }) => b.id).sort()).toEqual([...bookingIds].sort());
    // "%" is a letter here, not a wildcard.
    expect((await call("GET", `/api/v1/admin/bookings?name=%25`, { headers: { Cookie: staffCookie } })).json.data).toEqual([]);
  });

  it("refuses dates the wrong way round with a message, not an error page", async () => {
    const { status, text } = await page(`/admin/bookings?from=2026-05-02&to=2026-05-01`);
    expect(status).toBe(400);
    expect(text).toContain("swap the dates");
  });

  it("exports the same search as a CSV attachment: pounds and pence, UTC and studio-local times", async () => {
    const response = await page(`/admin/bookings.csv?classId=${classId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/csv/);
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="bookings-\d{4}-\d{2}-\d{2}\.csv"$/);
    const records: Record<string, string>[] = parse(response.text, { columns: true });
    expect(records.map((r) => r.booking_id).sort()).toEqual([...bookingIds].sort());
    const grace = records.find((r) => r.customer_first_name === "Grace")!;
    expect(grace).toMatchObject({ customer_last_name: surname, status: "confirmed", total_pence: "1250", total_pounds: "12.50", currency: "GBP", time_zone: "Europe/London", seats: "1" });
    expect(grace.booked_at_utc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(grace.booked_at_local).toMatch(/ (GMT|BST)$/);
    expect(grace.first_session_start_utc).toMatch(/Z$/);
    expect(grace.first_session_start_local).toMatch(/\d{2}:\d{2} (GMT|BST)$/);
    // A class name that a spreadsheet would run as a formula is written as text.
    const formula = await makeClass({ name: `=HYPERLINK("http://evil.example","${unique()}")` });
    const booked = await makeBooking((await makeSession(formula.id)).id);
    const [risky] = parse((await page(`/admin/bookings.csv?classId=${formula.id}`)).text, { columns: true }) as Record<string, string>[];
    expect(risky).toMatchObject({ booking_id: booked, class: `'${formula.name}` });
    const linked = await page(`/admin/bookings?classId=${classId}`);
    expect(linked.text).toContain(`href="/admin/bookings.csv?classId=${classId}"`);
  });

  it("shows a booking's communications, and 404s for an unknown one", async () => {
    const id = bookingIds[0]!;
    const detail = await eventually(async () => {
      const response = await page(`/admin/bookings/${id}`);
      return response.text.includes("data-communication-id") ? response : undefined;
    }, 15_000);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain("Communications");
    expect(detail.text).toMatch(/data-communication-status="(sent|pending)"/);
    expect(rowOf(detail.text, "data-communication-id", "booking-confirmed:" + id)).toContain(emails[0]);
    expect((await page(`/admin/bookings/bkg_nope${unique()}`)).status).toBe(404);
  });
});

describe("GET /admin/sessions and /admin/sessions/{id}", () => {
  it("shows a week by day with instructors, and a session's qualified staff, waiting list and capacity check", async () => {
    const { session, klass, instructor } = await makeBookableSession({ capacity: 4, startsInHours: 24 * 8 });
    await makeBooking(session.id, 2);
    const colleague = await makeStaff([klass.requiredRoleId], { firstName: "Colleague" });
    const outsider = await makeStaff([(await makeRole()).id], { firstName: "Outsider" });

    const week = await page(`/admin/sessions?week=${session.startsAt.toISOString().slice(0, 10)}`);
    expect(week.status).toBe(200);
    const card = rowOf(week.text, "data-session-row", session.id);
    expect(card).toContain(`Instructor: ${instructor.firstName} ${instructor.lastName}`);
    expect(card).toContain("50 %");
    expect(week.text).toMatch(/rel="prev"/);

    const detail = await page(`/admin/sessions/${session.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain(`data-url="/api/v1/admin/sessions/${session.id}/staff"`);
    expect(detail.text).toContain(`<option value="${instructor.id}" selected="">`);
    expect(detail.text).toContain(`value="${colleague.id}"`);
    expect(detail.text).not.toContain(outsider.id);
    expect(detail.text).toContain('<label for="instructor">');
    expect(detail.text).toContain('<label for="wl-priority">');
    expect(detail.text).toContain("Nobody is waiting.");
    // The DO has no bookings (the fixture wrote D1 only): the check shows the difference.
    expect(detail.text).toContain('data-testid="projected-booked">2<');
    expect(detail.text).toContain('data-testid="live-booked">0<');
    expect(detail.text).toContain('data-agrees="false"');
    expect((await page(`/admin/sessions/ses_nope${unique()}`)).status).toBe(404);
  });

  it("lists the waiting list with offer and remove buttons once someone is added", async () => {
    const { session } = await makeBookableSession({ capacity: 1 });
    await postBooking(singleBookingBody(session.id, 2500, { contact: { email: uniqueEmail("seat"), firstName: "Sat", lastName: "Down" } }));
    const added = await call("POST", "/api/v1/admin/waiting-lists", {
      headers: { Cookie: staffCookie, Origin: ORIGIN, "Idempotency-Key": crypto.randomUUID() },
      body: { sessionId: session.id, email: uniqueEmail("waiter"), firstName: "Wait", lastName: "Ing", guestCount: 1, priority: "high" },
    });
    expect(added.status).toBe(201);
    const detail = await page(`/admin/sessions/${session.id}`);
    const row = rowOf(detail.text, "data-entry-id", added.json.entry.id);
    expect(row).toContain("high");
    expect(row).toContain(`data-url="/api/v1/admin/waiting-lists/${added.json.entry.id}"`);
    expect(row).toContain('data-method="DELETE"');
    expect(detail.text).toContain('data-testid="live-booked">1<');
  });

  it("the staff assignment the form calls is admin-only: staff get 403 from the API", async () => {
    const { session, instructor } = await makeBookableSession();
    const body = { instructorId: instructor.id, assistantIds: [] };
    const refused = await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { headers: { Cookie: staffCookie, Origin: ORIGIN }, body });
    expect(refused.status).toBe(403);
    const saved = await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { headers: { Cookie: adminCookie, Origin: ORIGIN }, body });
    expect(saved.status).toBe(200);
    expect((await page(`/admin/sessions/${session.id}`, staffCookie)).text).toContain("Save staff (admins only)");
  });
});

describe("GET /admin/patterns", () => {
  it("lists patterns with preview and generate buttons; staff may preview, only admins generate", async () => {
    const { pattern, klass } = await makeSchedule({ sessions: 2 });
    const { status, text } = await page("/admin/patterns");
    expect(status).toBe(200);
    const item = text.slice(text.indexOf(`data-pattern-id="${pattern.id}"`));
    expect(item).toContain(klass.name);
    expect(item).toContain(`data-url="/api/v1/admin/schedule-patterns/${pattern.id}/preview"`);
    expect(item).toContain(`data-url="/api/v1/admin/schedule-patterns/${pattern.id}/generate-sessions"`);
    expect(item).toContain("FREQ=WEEKLY");
    expect(item).toContain("Generate sessions (admins only)");
    const headers = (cookie: string) => ({ Cookie: cookie, Origin: ORIGIN, "Idempotency-Key": crypto.randomUUID() });
    const preview = await call("POST", `/api/v1/admin/schedule-patterns/${pattern.id}/preview`, { headers: headers(staffCookie) });
    expect(preview.status).toBe(200);
    expect(preview.json.occurrences.length).toBeGreaterThan(0);
    const refused = await call("POST", `/api/v1/admin/schedule-patterns/${pattern.id}/generate-sessions`, { headers: headers(staffCookie) });
    expect(refused.status).toBe(403);
    const report = await call("POST", `/api/v1/admin/schedule-patterns/${pattern.id}/generate-sessions`, { headers: headers(adminCookie) });
    expect(report.status).toBe(200);
    expect(report.json).toHaveProperty("bookedLeftAlone");
  });
});

describe("GET /admin/metrics and /admin/demand", () => {
  it("charts one metric over days with its numbers in a table beside the chart", async () => {
    const computedAt = new Date();
    const row = (metric: string, periodStart: string, value: number, denominator: number | null = null) => ({ granularity: "daily" as const, periodStart, scope: "all" as const, scopeId: "", metric, dimension: "", value, denominator, computedAt });
    await getDb(env.DB)
      .insert(metrics)
      .values([row("bookings.confirmed", "2031-03-01", 4), row("bookings.confirmed", "2031-03-02", 7), row("revenue.pence", "2031-03-01", 1250), row("capacity.utilisation", "2031-03-01", 3, 4)])
      .onConflictDoNothing();
    const counts = await page("/admin/metrics?metric=bookings.confirmed&granularity=daily&from=2031-03-01&to=2031-03-05");
    expect(counts.status).toBe(200);
    expect(counts.text).toContain('data-chart="console-metric"');
    expect(counts.text).toContain('<tr data-x="2031-03-01" data-y="4">');
    expect(counts.text).toContain('<tr data-x="2031-03-02" data-y="7">');
    expect(counts.text).toContain('<label for="metric-name">');
    const money = await page("/admin/metrics?metric=revenue.pence&from=2031-03-01&to=2031-03-01");
    expect(money.text).toContain('data-y="12.5"');
    expect(money.text).toContain("£12.50");
    const rate = await page("/admin/metrics?metric=capacity.utilisation&from=2031-03-01&to=2031-03-01");
    expect(rate.text).toContain("75.0 % (3/4)");
    const none = await page("/admin/metrics?metric=bookings.confirmed&from=2031-04-01&to=2031-04-02");
    expect(none.text).toContain('data-testid="no-metrics"');
    expect((await page("/admin/metrics?from=2031-04-02&to=2031-04-01")).status).toBe(400);
  });

  it("charts the top courses by unmet hiring demand, shows sold-out demand beside it, by city, with every course's counts in a table", async () => {
    const klass = await makeClass();
    const soldOut = await makeClass();
    const signal = (signalType: "PURCHASE_BLOCKED" | "WAITLIST" | "COURSE_VIEW", reason: string | null = null, courseId = klass.id) => ({
      id: `sig_${crypto.randomUUID().replaceAll("-", "")}`,
      courseId,
      cityId: null,
      signalType,
      reason,
      createdAt: new Date("2031-05-02T10:00:00Z"),
    });
    await getDb(env.DB)
      .insert(demandSignals)
      .values([
        signal("PURCHASE_BLOCKED", "NO_TRAINER"),
        signal("PURCHASE_BLOCKED", "NO_TRAINER"),
        signal("WAITLIST", "no_trainer"),
        signal("COURSE_VIEW"),
        // A sold-out course: its own figure, not in the hiring chart.
        ...Array.from({ length: 5 }, () => signal("PURCHASE_BLOCKED", "SESSION_FULL", soldOut.id)),
      ]);
    const { status, text } = await page("/admin/demand?from=2031-05-01&to=2031-05-03");
    expect(status).toBe(200);
    expect(text).toContain('data-chart="console-demand"');
    expect(text).toContain(`data-label="${klass.name}" data-y="3" data-course-id="${klass.id}"`);
    expect(rowOf(text, "data-course-id", klass.id)).toContain("<td>2</td>");
    // By city too (these signals have none): 2 blocked + 1 waitlist.
    expect(text.slice(text.indexOf('data-testid="city-table"'))).toContain(`<td>No city</td><td>${klass.name}</td><td>3</td><td>2</td><td>1</td>`);
    expect(text).not.toContain(`data-label="${soldOut.name}"`);
    expect(rowOf(text, "data-sold-out-course-id", soldOut.id)).toContain(`<td>${soldOut.name}</td><td>5</td><td>5</td><td>0</td>`);
    expect((await page("/admin/demand?from=2031-06-01&to=2031-06-02")).text).toContain("Nobody was turned away");
  });
});
