/**
 * Booking on the class page while someone else watches it: the customer picks the session, sees
 * the server's price, holds the seat and confirms; the other visitor's page, never reloaded, shows
 * one seat fewer (the live feed, or its polling fallback, through `data-available-spots`).
 */
import { describe, expect, it } from "vitest";
import { signInAs, uniqueEmail } from "./api";
import { checkPage, useBrowser } from "./harness";
import { availability, bookAsGuest, freshClass } from "./scene";

describe("booking on the class page with live seats", () => {
  const browsing = useBrowser();

  it("a customer books a session and a second visitor sees the seats left drop without reloading", async () => {
    const scene = await freshClass({ capacity: 5, label: "booking" });
    const sessionId = scene.sessionIds[0]!;
    const seats = `[data-testid="seats-${sessionId}"]`;

    const watcher = await browsing.newPage();
    await watcher.goto(`/classes/${scene.classId}`);
    expect(await watcher.locator(seats).getAttribute("data-available-spots")).toBe("5");
    // A marker that a reload would wipe out: the drop must arrive in this very document.
    await watcher.evaluate(() => {
      (globalThis as unknown as { e2eMarker: string }).e2eMarker = "not reloaded";
    });

    const email = uniqueEmail("booker");
    const context = await browsing.newContext();
    await signInAs(context, email);
    const page = await browsing.newPage({ context });
    await page.goto(`/classes/${scene.classId}?session=${sessionId}`);
    expect(await page.locator(`#session-${sessionId}`).isChecked()).toBe(true);
    expect(await page.locator("#contact-email").inputValue()).toBe(email);
    await page.getByLabel("First name").fill("Bea");
    await page.getByLabel("Last name").fill("Booker");
    await page.locator("#quote-total").getByText("£25.00").waitFor();
    await checkPage(page, "class-booking-quote");

    await page.locator("#hold-button:not([disabled])").click();
    await page.locator("#checkout:not([hidden])").waitFor();
    expect(await page.locator('[data-testid="summary-total"]').textContent()).toBe("£25.00");
    await checkPage(page, "class-booking-checkout");

    await page.locator("#confirm-button").click();
    await page.locator("#confirmation:not([hidden])").waitFor();
    expect(await page.locator("#confirmation-message").textContent()).toMatch(/is confirmed for Bea Booker/);
    await checkPage(page, "class-booking-confirmed");

    // The watcher's page follows, in the same document.
    await watcher.locator(`${seats}[data-available-spots="4"]`).waitFor({ timeout: 20_000 });
    expect(await watcher.locator(seats).textContent()).toMatch(/4/);
    expect(await watcher.evaluate(() => (globalThis as unknown as { e2eMarker?: string }).e2eMarker)).toBe("not reloaded");
    expect((await availability(sessionId)).availableSpots).toBe(4);

    // The booking is the customer's: the manage link opens it.
    await page.locator("#manage-link").click();
    await page.waitForURL(/\/bookings\/[^/?]+/);
    expect(await page.locator("main").innerText()).toContain(scene.name);
  });

  it("when the last seat goes elsewhere, the open page turns to the waitlist and says why in words", async () => {
    const scene = await freshClass({ capacity: 1, label: "last-seat" });
    const sessionId = scene.sessionIds[0]!;
    const page = await browsing.newPage({ width: 375 });
    await page.goto(`/classes/${scene.classId}?session=${sessionId}`);
    await page.locator("#quote-total").getByText("£25.00").waitFor();
    expect(await page.locator(`[data-testid="radio-waitlist-${sessionId}"]`).isHidden()).toBe(true);

    await bookAsGuest(sessionId, scene.pricePence);
    await page.locator(`[data-testid="seats-${sessionId}"][data-available-spots="0"]`).waitFor({ timeout: 20_000 });
    await page.locator(`[data-testid="radio-waitlist-${sessionId}"]`).waitFor({ state: "visible" });
    expect(await page.locator(`#session-${sessionId}`).isDisabled()).toBe(true);
    // The form quotes the new state again (after its short pause): nothing left to hold.
    await page.locator("#hold-button[disabled]").waitFor({ timeout: 10_000 });
    const said = await page.locator("#quote-body").innerText();
    expect(said, "a sentence, not an error code").not.toMatch(/[A-Z]+_[A-Z]+/);
    await checkPage(page, "class-session-sold-out");
  });
});
