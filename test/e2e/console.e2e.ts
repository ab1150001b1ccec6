/**
 * The studio console as the studio's admin uses it: sessions generated from a schedule pattern
 * (no instructor yet, so the class cannot be booked and people asking are turned away), the
 * resulting "hire a trainer" alert acknowledged, a qualified instructor assigned so the class
 * becomes bookable, and the bookings exported as CSV and read back with a CSV parser.
 */
import { parse } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, api, baseUrl, eventually, type SignedIn, signIn, uniqueEmail, useSession } from "./api";
import { checkPage, useBrowser } from "./harness";
import { bookAsGuest, POTTERY_ROLE } from "./scene";
import { fs } from "../../scripts/bench/node";

/** The seed's admin (scripts/seed.ts): generating sessions and assigning staff are for admins. */
const ADMIN = "admin@clay-kiln.example";
const DAY = 24 * 3600_000;
/** People turned away with NO_TRAINER before the hourly check raises HIRE_TRAINER (wrangler.toml ALERT_RULES). */
const BLOCKED_PEOPLE = 5;

describe("the studio console", () => {
  const browsing = useBrowser();
  let adminSession: SignedIn;
  const id = `${Date.now().toString(36)}`;
  const className = `E2E console ${id}`;
  let classId: string;
  let patternId: string;
  let teacher: { id: string; name: string };

  beforeAll(async () => {
    adminSession = await signIn(ADMIN);
    const member = (await admin("POST", "/staff", { email: `console-${id}@teachers.e2e.example`, firstName: "Cora", lastName: "Console", roleIds: [POTTERY_ROLE] })).json;
    teacher = { id: member.id, name: "Cora Console" };
    classId = (
      await admin("POST", "/classes", {
        studioId: "stu_clay_kiln",
        name: className,
        description: "Made by the console end-to-end test.",
        pricePence: 3000,
        durationMinutes: 90,
        defaultCapacity: 6,
        requiredRoleId: POTTERY_ROLE,
        bookingKinds: ["SINGLE_SESSION"],
      })
    ).json.id;
    // A weekday evening three times, starting in about five weeks: nobody to teach it yet.
    const startDate = new Date(Date.now() + 35 * DAY).toISOString().slice(0, 10);
    patternId = (
      await admin("POST", "/schedule-patterns", {
        classId,
        frequency: "WEEKLY",
        interval: 1,
        byWeekday: [],
        count: 3,
        startDate,
        startTime: "18:30",
        durationMinutes: 90,
        maxStudents: 6,
        location: "Studio C",
        exceptionDates: [],
        defaultInstructorId: null,
        defaultAssistantIds: [],
      })
    ).json.id;
  });

  async function consolePage(width = 1280) {
    const context = await browsing.newContext();
    await useSession(context, adminSession);
    return browsing.newPage({ context, width });
  }

  /** The pattern's sessions, in start order (admin API). */
  async function generatedSessions(): Promise<{ id: string; startsAt: string }[]> {
    const { json } = await admin("GET", `/sessions?classId=${classId}&limit=50`);
    return (json.data as { id: string; startsAt: string; classId: string }[]).filter((session) => session.classId === classId);
  }

  it("generates sessions from a pattern, alerts on people turned away, assigns an instructor: bookable", async () => {
    const page = await consolePage();

    // 1. Generate the pattern's sessions.
    await page.goto("/admin/patterns");
    const pattern = page.locator(`[data-pattern-id="${patternId}"]`);
    expect(await pattern.locator("h2").textContent()).toBe(className);
    await pattern.locator('[data-pattern-action="preview"]').click();
    await pattern.locator("[data-pattern-output]").getByText("3 occurrences").waitFor();
    await pattern.locator('[data-pattern-action="generate"]').click();
    await pattern.locator("[data-pattern-output]").getByText("Sessions generated").waitFor();
    expect(await pattern.locator("[data-pattern-output]").innerText()).toMatch(/Created\s+3/);
    await checkPage(page, "console-patterns-generated");
    const sessions = await generatedSessions();
    expect(sessions).toHaveLength(3);
    const first = sessions[0]!;

    // 2. Without an instructor the class page offers "Notify me" instead of a booking form.
    await page.goto(`/classes/${classId}`);
    expect(await page.locator("#booking-form").count()).toBe(0);
    expect(await page.locator("#class-notify").isVisible()).toBe(true);

    // 3. People who try anyway are refused NO_TRAINER; the hourly check turns that into an alert.
    for (let person = 0; person < BLOCKED_PEOPLE; person++) {
      const refused = await api("POST", "/api/v1/bookings", {
        headers: { "Idempotency-Key": crypto.randomUUID() },
        body: {
          registrationType: "SINGLE_SESSION",
          sessionId: first.id,
          guestCount: 1,
          contact: { email: uniqueEmail("turned-away"), firstName: "Tia", lastName: "Turned" },
          totalAmountPence: 3000,
          currency: "GBP",
        },
        expect: [409],
      });
      expect(refused.json.error.code).toBe("NO_TRAINER");
    }
    const alertId = await eventually(
      async () => {
        // The hourly cron, as `wrangler dev` lets one trigger it; its checks read the events D1 has by then.
        await fetch(`${baseUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("0 * * * *")}`);
        const { json } = await admin("GET", "/alerts?type=HIRE_TRAINER&limit=100");
        return (json.data as { id: string; title: string; details: unknown }[]).find((alert) => JSON.stringify(alert).includes(classId))?.id;
      },
      60_000,
      "a HIRE_TRAINER alert for the class",
    );

    // 4. Acknowledge it on the alerts page.
    await page.goto("/admin/alerts?type=HIRE_TRAINER");
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    expect(await row.getAttribute("data-alert-status")).toBe("open");
    await checkPage(page, "console-alerts-open");
    await row.locator('[data-testid="acknowledge"]').click();
    await page.locator("#console-flash").getByText("Alert acknowledged.").waitFor();
    expect(await page.locator(`tr[data-alert-id="${alertId}"]`).getAttribute("data-alert-status")).toBe("acknowledged");
    await checkPage(page, "console-alerts-acknowledged");

    // 5. Assign the qualified instructor to the first session, from the week view.
    await page.goto(`/admin/sessions?week=${first.startsAt.slice(0, 10)}`);
    await page.locator(`[data-session-row="${first.id}"] a`).click();
    await page.waitForURL(new RegExp(`/admin/sessions/${first.id}$`));
    expect(await page.locator('[data-testid="current-instructor"]').textContent()).toBe("none assigned");
    await page.locator("#instructor").selectOption(teacher.id);
    await page.locator("#staff-form button[type=submit]").click();
    await page.locator("#console-flash").getByText("Staff saved.").waitFor();
    expect(await page.locator('[data-testid="current-instructor"]').textContent()).toMatch(/Cora/);
    await checkPage(page, "console-session-staffed");

    // 6. The class is bookable now: the form offers that session and the server quotes it.
    await page.goto(`/classes/${classId}?session=${first.id}`);
    expect(await page.locator(`#session-${first.id}`).isEnabled()).toBe(true);
    await page.locator("#quote-total").getByText("£30.00").waitFor();
  });

  it("exports the bookings it searched for as CSV", async () => {
    const [first] = await generatedSessions();
    const booking = await bookAsGuest(first!.id, 3000);
    const page = await consolePage();
    const search = `/admin/bookings?email=${encodeURIComponent(booking.email)}`;
    // The console reads D1, which the booking reaches through the projection queue: a moment later.
    await eventually(
      async () => {
        await page.goto(search);
        return (await page.locator(`tr[data-booking-id="${booking.bookingId}"]`).count()) > 0;
      },
      30_000,
      "the booking in the console's search",
    );
    await checkPage(page, "console-bookings-search");

    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#bookings-csv").click()]);
    expect(download.suggestedFilename()).toMatch(/^bookings-\d{4}-\d{2}-\d{2}\.csv$/);
    const path = await download.path();
    const rows: Record<string, string>[] = parse(fs.readFileSync(path, "utf8"), { columns: true, skip_empty_lines: true });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ booking_id: booking.bookingId, status: "confirmed", customer_email: booking.email });
  });
});
