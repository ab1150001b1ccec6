/**
 * A class nobody qualified can teach yet (the seed's life drawing evening: nobody holds the life
 * drawing role) cannot be booked: its page offers "Notify me", and registering says so.
 */
import { describe, expect, it } from "vitest";
import { api, uniqueEmail } from "./api";
import { checkPage, type InPage, tabTo, useBrowser } from "./harness";

const LIFE_DRAWING = "cls_life_drawing";

describe("notify me for a class without a trainer", () => {
  const browsing = useBrowser();

  it("registers an address from the class page and can check it", async () => {
    const page = await browsing.newPage();
    await page.goto(`/classes/${LIFE_DRAWING}`);
    expect(await page.locator("#booking-form").count(), "no booking form without a trainer").toBe(0);
    await checkPage(page, "class-no-trainer");

    await page.locator('[data-testid="notify-me"]').click();
    await page.waitForURL(new RegExp(`/classes/${LIFE_DRAWING}/notify$`));
    expect(await page.locator("#notify-reason").textContent()).toMatch(/no trainer/i);
    await checkPage(page, "notify-me");

    const email = uniqueEmail("notify");
    await page.locator("#notify-email").fill(email);
    await page.getByRole("button", { name: "Notify me" }).click();
    await page.locator('#notify-result[data-outcome="registered"]').waitFor();
    expect(await page.locator("#notify-result").textContent()).toContain(`We will email ${email}`);
    expect(await page.locator("#notify-form").isHidden()).toBe(true);
    await checkPage(page, "notify-me-registered");

    await page.locator("#notify-check-email").fill(email);
    await page.getByRole("button", { name: "Check" }).click();
    await page.locator("#notify-check-result").getByText(/this address is registered/i).waitFor();

    // The registration is real: the API agrees.
    const check = await api("GET", `/api/v1/demand/waitlist/check?courseId=${LIFE_DRAWING}&email=${encodeURIComponent(email)}`);
    expect(check.json.registered).toBe(true);
  });

  it("works from the keyboard alone, with the focus visible", async () => {
    const page = await browsing.newPage({ width: 375 });
    await page.goto(`/classes/${LIFE_DRAWING}`);
    await tabTo(page, '[data-testid="notify-me"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/classes/${LIFE_DRAWING}/notify$`));
    await tabTo(page, "#notify-email");
    const email = uniqueEmail("keyboard");
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.locator('#notify-result[data-outcome="registered"]').waitFor();
    // The answer takes the focus, so a screen reader user hears it.
    expect(await page.locator("#notify-result").evaluate((element) => element === (globalThis as unknown as InPage).document.activeElement)).toBe(true);
  });
});
