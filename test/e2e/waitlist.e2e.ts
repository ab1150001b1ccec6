/**
 * The waitlist as a customer lives it: a full session, joining its waitlist signed in, a seat
 * freed by someone else's cancellation, the offer from the email accepted on its page: booked.
 * And a guest who is not signed in: in line only after confirming from the emailed link's page.
 */
import { describe, expect, it } from "vitest";
import { linkIn, newestMessage, signInAs, uniqueEmail } from "./api";
import { checkPage, useBrowser } from "./harness";
import { availability, bookAsGuest, cancelAsGuest, freshClass } from "./scene";

describe("waitlist join, offer and accept", () => {
  const browsing = useBrowser();

  it("a signed-in customer joins a full session's waitlist, gets the freed seat offered and books it", async () => {
    const scene = await freshClass({ capacity: 1, label: "waitlist" });
    const sessionId = scene.sessionIds[0]!;
    const filler = await bookAsGuest(sessionId, scene.pricePence);
    expect((await availability(sessionId)).status).toBe("full");

    const email = uniqueEmail("waiting");
    const context = await browsing.newContext();
    await signInAs(context, email);
    const page = await browsing.newPage({ context });
    await page.goto(`/sessions/${sessionId}/waitlist`);
    expect(await page.locator(`[data-session-id="${sessionId}"]`).first().getAttribute("data-available-spots")).toBe("0");
    expect(await page.locator("#wl-email").inputValue()).toBe(email);
    await checkPage(page, "waitlist-join");

    await page.getByLabel("First name").fill("Wendy");
    await page.getByLabel("Last name").fill("Waiting");
    await page.getByRole("button", { name: "Join the waitlist" }).click();
    await page.locator("#waitlist-result").getByText(/you are on the waitlist/i).waitFor();
    expect(await page.locator("#waitlist-result").textContent()).toMatch(/number 1 in line/);
    await checkPage(page, "waitlist-joined");

    // Elsewhere, the guest who holds the only seat cancels: the seat is offered to the first in line.
    const since = Date.now();
    await cancelAsGuest(filler);
    const offerMail = await newestMessage(email, /a place is free/i, since);
    // The token from the message's link (whichever path it links to), opened on the offer page.
    const token = /\/waitlist-offers\/([A-Za-z0-9._~%-]+)/.exec(offerMail.text)?.[1];
    expect(token, `no offer token in: ${offerMail.text}`).toBeTruthy();

    await page.goto(`/waitlist-offers/${token}`);
    expect(await page.locator("#offer-seats").textContent()).toBe("1 seat");
    expect(await page.locator("#offer-price").textContent()).toBe("£25.00");
    await checkPage(page, "waitlist-offer");

    await page.locator("#offer-accept").click();
    await page.locator('#offer-actions[data-outcome="booked"]').waitFor();
    expect(await page.locator("#offer-result").textContent()).toMatch(/you are booked/i);
    expect(await page.locator("#offer-accept").isVisible()).toBe(false);
    const after = await availability(sessionId);
    expect(after.availableSpots).toBe(0);
    expect(after.waitlistLength).toBe(0);

    // The offer's page now says it was taken (410 Gone: Chromium logs the status as a console error).
    browsing.allowConsoleError(page, /status of 410/);
    await page.reload();
    expect(await page.locator("#offer-closed").getAttribute("data-reason")).toBe("booked");
    await checkPage(page, "waitlist-offer-taken");
  });

  it("a guest joins without an account, confirms from the emailed link's page and is in line", async () => {
    const scene = await freshClass({ capacity: 1, label: "waitlist-guest" });
    const sessionId = scene.sessionIds[0]!;
    await bookAsGuest(sessionId, scene.pricePence);
    const email = uniqueEmail("guest-waiting");
    const page = await browsing.newPage();
    await page.goto(`/sessions/${sessionId}/waitlist`);
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("First name").fill("Gus");
    await page.getByLabel("Last name").fill("Guest");
    const since = Date.now();
    await page.getByRole("button", { name: "Join the waitlist" }).click();
    await page.locator("#waitlist-result").getByText(/check your inbox to confirm/i).waitFor();
    expect((await availability(sessionId)).waitlistLength).toBe(0);

    const mail = await newestMessage(email, /confirm/i, since);
    await page.goto(linkIn(mail.text, "/waitlist-confirmations/"));
    await checkPage(page, "waitlist-confirm");
    await page.getByRole("button", { name: "Confirm my place" }).click();
    await page.locator('#waitlist-confirm[data-outcome="confirmed"]').waitFor();
    expect(await page.locator("#waitlist-confirm-result").textContent()).toMatch(/number 1 in line/);
    expect((await availability(sessionId)).waitlistLength).toBe(1);
    await checkPage(page, "waitlist-confirmed");
  });
});
