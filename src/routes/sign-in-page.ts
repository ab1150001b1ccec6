/**
 * The page a sign-in link opens (`/sign-in?token=…`), plain HTML forms with no script. Opening the
 * link only shows a button: using it takes a POST, so a mail scanner or link preview that follows
 * the link signs nobody in and spends nothing. Without a token the page asks for an address.
 * The web pages of the booking site will share this flow; its API is /api/v1/auth.
 */
import type { Context } from "hono";
import { deleteCookie } from "hono/cookie";
import { html } from "hono/html";
import { secureHeaders } from "hono/secure-headers";
import { configOf } from "../config";
import { getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { createRouter } from "../lib/openapi";
import { authenticate, SESSION_COOKIE } from "../middleware/auth";
import { assertTrustedOrigin } from "../middleware/origins";
import { endSession } from "../services/auth-sessions";
import { exchangeSignInLink, requestSignInLink } from "../services/sign-in";
import { setSessionCookie } from "./auth";

type Page = { title: string; body: ReturnType<typeof html> };

function render(c: Context<AppEnv>, page: Page, status: 200 | 400 | 403 | 410 | 429 | 503 = 200) {
  c.header("Cache-Control", "no-store");
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>${page.title}</title>
          <style>
            body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; }
            input, button { font: inherit; padding: 0.5rem; width: 100%; box-sizing: border-box; margin: 0.25rem 0; }
            .error { color: #a00; }
          </style>
        </head>
        <body>
          <h1>${page.title}</h1>
          ${page.body}
        </body>
      </html>`,
    status,
  );
}

const askForAddress = (message?: string) => html`
  ${message ? html`<p class="error">${message}</p>` : ""}
  <form method="post" action="/sign-in">
    <label for="email">Your email address</label>
    <input id="email" name="email" type="email" required autocomplete="email" />
    <button type="submit">Email me a sign-in link</button>
  </form>`;

/** Forms post to this origin only; nothing loads from anywhere else. */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
  xFrameOptions: "DENY",
});

export const signInPage = createRouter();
// Mounted at the root: its headers go on its own paths only.
signInPage.use("/sign-in", pageHeaders);
signInPage.use("/sign-in/*", pageHeaders);
signInPage.use("/sign-out", pageHeaders);

signInPage.get("/sign-in", (c) => {
  const token = c.req.query("token");
  if (!token) return render(c, { title: "Sign in", body: askForAddress() });
  return render(c, {
    title: "Sign in",
    body: html`<form method="post" action="/sign-in/verify">
      <input type="hidden" name="token" value="${token}" />
      <button type="submit">Sign in</button>
    </form>`,
  });
});

signInPage.post("/sign-in", async (c) => {
  assertTrustedOrigin(c);
  const email = String((await c.req.parseBody()).email ?? "").trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) return render(c, { title: "Sign in", body: askForAddress("That does not look like an email address.") }, 400);
  try {
    await requestSignInLink(c.env, getDb(c.env.DB), { email, clientKey: clientKeyOf(c.req.header("CF-Connecting-IP")) }, new Date());
  } catch (error) {
    if (error instanceof ApiError) return render(c, { title: "Sign in", body: askForAddress(error.message) }, error.status === 429 ? 429 : 503);
    throw error;
  }
  const devMailbox = configOf(c.env).environment === "development" ? html`<p>Running locally: the message is in the <a href="/dev/mailbox?to=${email}">dev mailbox</a>.</p>` : "";
  return render(c, { title: "Check your email", body: html`<p>If ${email} can receive email, a sign-in link is on its way. It works once, for a short time.</p>${devMailbox}` });
});

signInPage.post("/sign-in/verify", async (c) => {
  assertTrustedOrigin(c);
  const token = String((await c.req.parseBody()).token ?? "");
  try {
    const signedIn = await exchangeSignInLink(c.env, getDb(c.env.DB), token, new Date());
    setSessionCookie(c, signedIn);
    return render(c, {
      title: "Signed in",
      body: html`<p>You are signed in as ${signedIn.user.email} (${signedIn.user.role}).</p>
        <p><a href="/api/v1/me/bookings">My bookings</a> · <a href="/api/v1/me">My profile</a></p>
        <form method="post" action="/sign-out"><button type="submit">Sign out</button></form>`,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return render(c, { title: "Sign in", body: askForAddress(error.message) }, error.status === 410 ? 410 : 400);
  }
});

signInPage.post("/sign-out", authenticate(), async (c) => {
  assertTrustedOrigin(c);
  const sessionId = c.get("principal")?.sessionId;
  if (sessionId) await endSession(getDb(c.env.DB), sessionId, new Date());
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  return render(c, { title: "Signed out", body: html`<p>You are signed out.</p><p><a href="/sign-in">Sign in again</a></p>` });
});
