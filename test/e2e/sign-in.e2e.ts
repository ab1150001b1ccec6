/** Signing in as a person does: ask for a link, open it from the dev mailbox, press Sign in; then sign out. */
import { describe, expect, it } from "vitest";
import { api, uniqueEmail } from "./api";
import { checkPage, useBrowser } from "./harness";

describe("sign-in through the dev mailbox", () => {
  const browsing = useBrowser();

  it("signs in with the emailed link and signs out again", async () => {
    const email = uniqueEmail("sign-in");
    const page = await browsing.newPage();
    await page.goto("/sign-in");
    await checkPage(page, "sign-in");

    await page.getByLabel(/email/i).fill(email);
    await page.getByRole("button", { name: /email me|send/i }).click();
    await page.getByText(/check your email|on its way/i).first().waitFor();
    await checkPage(page, "sign-in-check-email");

    // The message goes through the notifications queue: the mailbox may need a moment.
    await page.getByRole("link", { name: /dev mailbox/i }).click();
    await page.waitForURL(/\/dev\/mailbox/);
    const signInLink = page.locator('a[href*="/sign-in?token="]').first();
    for (let tries = 0; tries < 60 && (await signInLink.count()) === 0; tries++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    expect(await signInLink.isVisible()).toBe(true);
    await checkPage(page, "dev-mailbox");

    await signInLink.click();
    await page.waitForURL(/\/sign-in\?token=/);
    await page.getByRole("button", { name: /^sign in/i }).click();
    await page.getByText(new RegExp(`signed in as ${email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "i")).first().waitFor();

    await checkPage(page, "signed-in");

    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === "cb_session");
    expect(session?.httpOnly).toBe(true);
    const signedIn = await api("GET", "/api/v1/auth/session", { headers: { Cookie: `cb_session=${session!.value}` } });
    expect(signedIn.json.user.email).toBe(email);

    await page.getByRole("button", { name: /sign out/i }).first().click();
    await page.getByText(/signed out/i).first().waitFor();
    await checkPage(page, "signed-out");
    expect((await page.context().cookies()).some((cookie) => cookie.name === "cb_session")).toBe(false);
    // The server ended the session too: the old cookie no longer works.
    await api("GET", "/api/v1/auth/session", { headers: { Cookie: `cb_session=${session!.value}` }, expect: [401] });
  });
});
