/**
 * Every page, as the visitor it is meant for (and the refusals as the visitors they refuse): the
 * status it answers, one h1, no serious or critical axe violation, no console error, and
 * full-page screenshots at 375 and 1280 px without sideways scrolling. The flows (booking,
 * waitlist, notify me, console actions) are in their own files; this one only looks, but for
 * the renewal offer, which it accepts once it has looked at it (its scene is made here anyway).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { admin, api, eventually, grantRole, type SignedIn, signIn, uniqueEmail, useSession } from "./api";
import { type CertifiedClass, certifiedClass } from "./certificate-scene";
import { type Browsing, checkPage, useBrowser } from "./harness";
import { bookAsGuest, freshClass, type GuestBooking, type SceneClass } from "./scene";

/** "holder": the customer who holds the certificate the case opens. */
type Visitor = "anonymous" | "customer" | "staff" | "admin" | "holder";

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
    // Back from a payment provider in a browser that kept no token: it says where the booking is, and shows nothing of it.
    { name: "checkout-return", as: "anonymous", path: () => `/bookings/${booking.bookingId}/return`, shows: /link in the email we sent you/i },
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

  it.each(cases)("$name ($as)", (pageCase) => visit(browsing, sessions, pageCase));

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

describe("certificate and renewal pages: status, axe, screenshots at 375 and 1280 px", () => {
  const browsing = useBrowser();
  const sessions = new Map<Visitor, SignedIn>();
  let certified: CertifiedClass;

  beforeAll(async () => {
    // Two holders: one whose certificate stays valid (and whose renewal offer is accepted), one revoked.
    certified = await certifiedClass([uniqueEmail("holder"), uniqueEmail("revoked-holder")]);
    await admin("POST", `/certificates/${certified.certificates[1]!.id}/revoke`);
    sessions.set("holder", await signIn(certified.certificates[0]!.holderEmail));
    sessions.set("customer", await signIn(uniqueEmail("not-the-holder")));
    sessions.set("staff", await signIn(STAFF));
  });
  const valid = () => certified.certificates[0]!;
  const revoked = () => certified.certificates[1]!;

  const cases: PageCase[] = [
    { name: "certificate", as: "holder", path: () => `/certificates/${valid().id}`, shows: /Gita Guest[\s\S]*E2E certificates/ },
    { name: "certificate-staff", as: "staff", path: () => `/certificates/${valid().id}`, shows: /Gita Guest/ },
    { name: "certificate-not-theirs", as: "customer", path: () => `/certificates/${valid().id}`, status: 404, shows: /no certificate here for you/i },
    { name: "certificate-verify", as: "anonymous", path: () => valid().verificationPath, shows: /this certificate is valid/i },
    { name: "certificate-verify-revoked", as: "anonymous", path: () => revoked().verificationPath, shows: /this certificate has been revoked/i },
    { name: "certificate-verify-unknown", as: "anonymous", path: () => "/certificates/verify/no-such-code", status: 404, shows: /no certificate matches/i },
    { name: "renewal-offer", as: "anonymous", path: () => valid().offerPath, shows: /holding a seat for you/i },
    { name: "renewal-offer-not-found", as: "anonymous", path: () => "/renewal-offers/not-a-real-token", status: 404, shows: /not valid/i },
  ];

  it.each(cases)("$name ($as)", (pageCase) => visit(browsing, sessions, pageCase));

  it("the certificate page sends a visitor who is not signed in to sign in, and back", async () => {
    const page = await browsing.newPage();
    await page.goto(`/certificates/${valid().id}`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe(`/certificates/${valid().id}`);
  });

  it("the holder accepts the renewal offer on its page: booked on the held seat", async () => {
    const page = await browsing.newPage();
    await page.goto(valid().offerPath);
    await page.locator("#offer-accept").click();
    await page.locator('#offer-actions[data-outcome="booked"]').waitFor();
    expect(await page.locator("#offer-result").textContent()).toMatch(/you are booked/i);
    await checkPage(page, "renewal-offer-accepted");
    const bookingId = /^\/bookings\/([^/?]+)/.exec((await page.locator("#offer-booking-link").getAttribute("href")) ?? "")?.[1];
    expect(bookingId, "the result links to the new booking").toBeTruthy();

    // The seat is really booked: the offer says so, and the holder is on the session's roster.
    const token = valid().offerPath.slice("/renewal-offers/".length);
    const offer = (await api("GET", `/api/v1/renewal-offers/${token}`)).json;
    expect({ status: offer.status, bookingId: offer.bookingId }).toEqual({ status: "accepted", bookingId });
    // The roster is D1's, brought up to date by the session's object just after it answers.
    const seats = await eventually(async () => {
      const roster = (await admin("GET", `/sessions/${certified.renewalSessionId}/roster`)).json.data as { bookingId: string; email: string | null; status: string }[];
      const booked = roster.filter((entry) => entry.bookingId === bookingId);
      return booked.length > 0 && booked;
    }, 20_000, "the renewal booking on the session's roster");
    expect(seats).toEqual([expect.objectContaining({ email: valid().holderEmail, status: "booked" })]);

    await page.reload();
    expect(await page.locator("#offer-closed").getAttribute("data-reason")).toBe("accepted");
    await checkPage(page, "renewal-offer-taken");
  });
});

/** Opens the case's page as its visitor and checks it (status, text, axe, screenshots, no sideways scroll). */
async function visit(browsing: Browsing, sessions: Map<Visitor, SignedIn>, pageCase: PageCase): Promise<void> {
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
}

/** The console's week holding the scene's first session (YYYY-MM-DD; any day of the week will do). */
function weekOf(scene: SceneClass): string {
  return scene.firstStartsAt.slice(0, 10);
}
