/**
 * Every page, as the visitor it is meant for (and the refusals as the visitors they refuse): the
 * status it answers, one h1, no serious or critical axe violation, no console error, and
 * full-page screenshots at 375 and 1280 px without sideways scrolling. The flows (booking,
 * waitlist, notify me, console actions) are in their own files; this one only looks.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { grantRole, type SignedIn, signIn, uniqueEmail, useSession } from "./api";
import { checkPage, useBrowser } from "./harness";
import { bookAsGuest, freshClass, type GuestBooking, type SceneClass } from "./scene";

type Visitor = "anonymous" | "customer" | "staff" | "admin";

interface PageCase {
  name: string;
  as: Visitor;
  path: () => string;
  status?: number;
  /** Text the page must show (its heading or key message). */
  shows?: RegExp;
}

/** Seed accounts (scripts/seed.ts): a staff teacher and the studio's admin. */
const STAFF = "ana@clay-kiln.example";
const ADMIN = "admin@clay-kiln.example";

describe("every page: status, axe, screenshots at 375 and 1280 px", () => {
  const browsing = useBrowser();
  const sessions = new Map<Visitor, SignedIn>();
  let scene: SceneClass;
  let booking: GuestBooking;
  let customerEmail: string;
  let customerBooking: GuestBooking;

  beforeAll(async () => {
    scene = await freshClass({ capacity: 6, label: "pages" });
    booking = await bookAsGuest(scene.sessionIds[0]!, scene.pricePence);
    // A guest booking with a customer's address belongs to that customer once they sign in.
    customerEmail = uniqueEmail("pages-customer");
    customerBooking = await bookAsGuest(scene.sessionIds[0]!, scene.pricePence, 1, customerEmail);
    sessions.set("customer", await signIn(customerEmail));
    sessions.set("staff", await signIn(STAFF));
    sessions.set("admin", await signIn(ADMIN));
  });

  const cases: PageCase[] = [
    { name: "catalog", as: "anonymous", path: () => "/", shows: /wheel throwing/i },
    { name: "class", as: "anonymous", path: () => "/classes/cls_wheel_basics", shows: /wheel throwing: basics/i },
    { name: "class-signed-in", as: "customer", path: () => `/classes/${scene.classId}`, shows: /E2E pages/ },
    { name: "class-not-found", as: "anonymous", path: () => "/classes/cls_no_such_class", status: 404 },
    { name: "sign-in-signed-in", as: "customer", path: () => "/sign-in", shows: /you are signed in as/i },
    { name: "waitlist-not-full", as: "anonymous", path: () => `/sessions/${scene.sessionIds[0]}/waitlist`, shows: /not full/i },
    { name: "session-not-found", as: "anonymous", path: () => "/sessions/ses_no_such_session/waitlist", status: 404 },
    { name: "offer-not-found", as: "anonymous", path: () => "/waitlist-offers/not-a-real-token", status: 404 },
    { name: "notify-class-not-found", as: "anonymous", path: () => "/classes/cls_no_such_class/notify", status: 404 },
    { name: "manage-booking", as: "anonymous", path: () => `/bookings/${booking.bookingId}?token=${encodeURIComponent(booking.manageToken)}`, shows: /E2E pages/ },
    { name: "booking-confirmed", as: "anonymous", path: () => `/bookings/${booking.bookingId}/confirmed?token=${encodeURIComponent(booking.manageToken)}`, shows: /E2E pages/ },
    { name: "manage-booking-no-token", as: "anonymous", path: () => `/bookings/${booking.bookingId}`, status: 403 },
    { name: "manage-booking-own", as: "customer", path: () => `/bookings/${customerBooking.bookingId}`, shows: /E2E pages/ },
    { name: "me", as: "customer", path: () => "/me", shows: /E2E pages/ },
    { name: "console-for-customer", as: "customer", path: () => "/admin", status: 403, shows: /staff only/i },
    { name: "console-dashboard", as: "staff", path: () => "/admin" },
    { name: "console-sessions", as: "staff", path: () => "/admin/sessions" },
    { name: "console-sessions-week", as: "staff", path: () => `/admin/sessions?week=${weekOf(scene)}`, shows: /E2E pages/ },
    { name: "console-session", as: "staff", path: () => `/admin/sessions/${scene.sessionIds[0]}`, shows: /E2E pages/ },
    { name: "console-session-not-found", as: "staff", path: () => "/admin/sessions/ses_no_such_session", status: 404 },
    { name: "console-bookings", as: "staff", path: () => "/admin/bookings" },
    { name: "console-booking", as: "staff", path: () => `/admin/bookings/${booking.bookingId}`, shows: /E2E pages/ },
    { name: "console-alerts", as: "admin", path: () => "/admin/alerts" },
    { name: "console-patterns", as: "staff", path: () => "/admin/patterns", shows: /wheel throwing/i },
    { name: "console-demand", as: "staff", path: () => "/admin/demand" },
    { name: "console-metrics", as: "staff", path: () => "/admin/metrics" },
    { name: "waitlist-confirmation-not-found", as: "anonymous", path: () => "/waitlist-confirmations/not-a-real-token", status: 404 },
  ];

  it.each(cases)("$name ($as)", async (pageCase) => {
    const context = await browsing.newContext();
    const signedIn = sessions.get(pageCase.as);
    if (signedIn) await useSession(context, signedIn);
    const page = await browsing.newPage({ context });
    const status = pageCase.status ?? 200;
    // Chromium logs a document's 4xx as a console error: expected here, and only that one.
    if (status !== 200) browsing.allowConsoleError(page, new RegExp(`status of ${status}`));
    const response = await page.goto(pageCase.path());
    expect(response?.status(), `${pageCase.path()} answers ${status}`).toBe(status);
    expect(response?.headers()["content-type"]).toMatch(/text\/html/);
    if (pageCase.shows) expect(await page.locator("main").innerText()).toMatch(pageCase.shows);
    await checkPage(page, pageCase.name);
  });

  it("a role granted applies at the next request: a customer made staff opens the console", async () => {
    const email = uniqueEmail("promoted");
    const signedIn = await signIn(email);
    const context = await browsing.newContext();
    await useSession(context, signedIn);
    const page = await browsing.newPage({ context });
    browsing.allowConsoleError(page, /status of 403/);
    expect((await page.goto("/admin"))?.status()).toBe(403);
    await grantRole(email, "staff");
    expect((await page.goto("/admin"))?.status()).toBe(200);
    expect(await page.locator("nav[aria-label=Main]").innerText()).toMatch(/sessions/i);
  });

  it("the console sends a visitor who is not signed in to sign in, and back", async () => {
    const page = await browsing.newPage();
    await page.goto("/admin/bookings");
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/admin/bookings");
  });
});

/** The console's week holding the scene's first session (YYYY-MM-DD; any day of the week will do). */
function weekOf(scene: SceneClass): string {
  return scene.firstStartsAt.slice(0, 10);
}
