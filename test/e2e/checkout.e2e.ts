/**
 * The checkout step of a class paid online: the guest holds the seat and books on the class page,
 * is sent to the payment provider's checkout (the local provider's page here), pays, and comes back
 * to the confirmation page, which the browser reopens with the manage token it kept. The seat was
 * held while paying and is booked once paid.
 */
import { describe, expect, it } from "vitest";
import { uniqueEmail } from "./api";
import { checkPage, useBrowser } from "./harness";
import { availability, freshClass } from "./scene";

describe("paying online from the class page", () => {
  const browsing = useBrowser();

  it("a guest books, pays at the checkout and lands on the confirmed booking", async () => {
    const scene = await freshClass({ capacity: 4, label: "checkout", paymentMode: "online" });
    const sessionId = scene.sessionIds[0]!;
    const page = await browsing.newPage();
    await page.goto(`/classes/${scene.classId}?session=${sessionId}`);
    expect(await page.locator("#class-payment").innerText()).toMatch(/paid online when you book/i);
    await page.locator("#contact-email").fill(uniqueEmail("payer"));
    await page.getByLabel("First name").fill("Pat");
    await page.getByLabel("Last name").fill("Payer");
    await page.locator("#quote-total").getByText("£25.00").waitFor();
    await page.locator("#hold-button:not([disabled])").click();
    await page.locator("#checkout:not([hidden])").waitFor();
    await page.locator("#confirm-button").click();

    // The provider's checkout: the seat is held, not yet booked.
    await page.waitForURL(/\/dev\/checkout\/pay_[0-9a-f]+/);
    expect(await page.locator("main").innerText()).toContain("£25.00");
    expect(await availability(sessionId)).toMatchObject({ held: 1, booked: 0 });
    await checkPage(page, "checkout-local-provider");

    await page.getByRole("button", { name: /^Pay £25\.00/ }).click();
    // Back on the confirmation page, reopened with the token this tab kept.
    await page.waitForURL(/\/bookings\/[^/]+\/confirmed\?token=/);
    await page.locator('[data-testid="booking-notice"]').waitFor();
    expect(await page.locator('[data-testid="booking-notice"]').innerText()).toMatch(/your booking is confirmed/i);
    expect(await availability(sessionId)).toMatchObject({ held: 0, booked: 1 });
    await checkPage(page, "checkout-paid-confirmation");
  });
});
