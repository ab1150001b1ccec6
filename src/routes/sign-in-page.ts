/**
 * The page a sign-in link opens (`/sign-in?token=…`), in the site's layout (views:
 * src/pages/sign-in.tsx), plain forms that work without script. Opening the link only shows a
 * button naming the (masked) address: using it takes a POST, so a mail scanner or link preview
 * that follows the link signs nobody in and spends nothing. Without a token the page asks for an
 * address. `?next=` (a path on this site only, `safeNext`) survives the trip through the mailbox
 * in a short-lived cookie, so signing in returns to where the visitor was (the console, /me).
 * Its API twin is /api/v1/auth.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { configOf } from "../config";
import { getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { createRouter } from "../lib/openapi";
import { authenticate, clearSessionCookie } from "../middleware/auth";
import { assertTrustedOrigin } from "../middleware/origins";
import { BadFormPost, CheckEmail, ConfirmLink, LinkUnusable, SignedIn, SignedOut, SignInForm } from "../pages/sign-in";
import { endSession } from "../services/auth-sessions";
import { exchangeSignInLink, requestSignInLink, signInLinkState } from "../services/sign-in";
import { setSessionCookie } from "./auth";
import { pageHeaders, pageUser, renderPage, safeNext } from "./page-response";

/** Where to return after the emailed link is used (set when the link is asked for; path-scoped, HttpOnly). */
const NEXT_COOKIE = "cb_sign_in_next";
/** Form posts here are an address or a token: nothing near this size is legitimate. */
const MAX_FORM_BYTES = 8 * 1024;
const Email = z.email().max(254);

/** Page POSTs: small, form-encoded bodies only (outside /api nothing else limits them). */
const formPost: MiddlewareHandler<AppEnv> = async function formPost(c, next) {
  const limited = bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) => refuse(c, `That form was larger than ${MAX_FORM_BYTES / 1024} KiB.`, 413),
  });
  const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return refuse(c, "This page only takes its own forms.", 415);
  return limited(c, next);
};

function refuse(c: Context<AppEnv>, message: string, status: 413 | 415) {
  c.header("Cache-Control", "private, no-store");
  return c.html(`<!doctype html>${BadFormPost({ message }).toString()}`, status);
}

/** A field of the posted form as a string ("" when absent or a file). */
async function field(c: Context<AppEnv>, name: string): Promise<string> {
  const value = (await c.req.parseBody())[name];
  return typeof value === "string" ? value : "";
}

/** The page to return to: the form's or query's `next`, else the one remembered when the link was asked for. */
function nextOf(c: Context<AppEnv>, given: string | undefined): string {
  const next = safeNext(given);
  return next !== "/" ? next : safeNext(getCookie(c, NEXT_COOKIE));
}

export const signInPage = createRouter();
// Mounted at the root: its headers and middleware go on its own paths only.
signInPage.use("/sign-in", pageHeaders);
signInPage.use("/sign-in/*", pageHeaders);
signInPage.use("/sign-out", pageHeaders);

signInPage.get("/sign-in", authenticate(), async (c) => {
  const token = c.req.query("token");
  const user = pageUser(c);
  const next = nextOf(c, c.req.query("next"));
  if (!token) return renderPage(c, SignInForm({ next, user }));
  const link = await signInLinkState(getDb(c.env.DB), token, new Date());
  if (link.state !== "usable") return renderPage(c, LinkUnusable({ reason: link.state, next, user }), { status: link.state === "unknown" ? 400 : 410 });
  return renderPage(c, ConfirmLink({ token, email: link.email, next, user }));
});

signInPage.post("/sign-in", formPost, async (c) => {
  assertTrustedOrigin(c);
  const parsed = Email.safeParse((await field(c, "email")).trim().toLowerCase());
  const next = safeNext(await field(c, "next"));
  if (!parsed.success) return renderPage(c, SignInForm({ message: "That does not look like an email address.", next }), { status: 400 });
  const email = parsed.data;
  try {
    await requestSignInLink(c.env, getDb(c.env.DB), { email, clientKey: clientKeyOf(c.req.header("CF-Connecting-IP")) }, new Date());
  } catch (error) {
    if (error instanceof ApiError) return renderPage(c, SignInForm({ message: error.message, next }), { status: error.status === 429 ? 429 : 503 });
    throw error;
  }
  const config = configOf(c.env);
  if (next !== "/") {
    setCookie(c, NEXT_COOKIE, next, { httpOnly: true, sameSite: "Lax", secure: new URL(c.req.url).protocol === "https:", path: "/sign-in", maxAge: Math.ceil(config.signInLinkMs / 1000) });
  }
  return renderPage(c, CheckEmail({ email, devMailbox: config.environment === "development" }));
});

signInPage.post("/sign-in/verify", formPost, authenticate(), async (c) => {
  assertTrustedOrigin(c);
  const token = await field(c, "token");
  const next = nextOf(c, await field(c, "next"));
  const db = getDb(c.env.DB);
  const previous = c.get("principal");
  try {
    const signedIn = await exchangeSignInLink(c.env, db, token, new Date());
    // The browser's earlier session (another account, or this one) ends: one cookie, one live session.
    if (previous?.via === "cookie" && previous.sessionId && previous.sessionId !== signedIn.sessionId) await endSession(db, previous.sessionId, new Date());
    setSessionCookie(c, signedIn);
    deleteCookie(c, NEXT_COOKIE, { path: "/sign-in" });
    if (next !== "/") return c.redirect(next, 303);
    return renderPage(c, SignedIn({ user: { email: signedIn.user.email, role: signedIn.user.role }, next }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const reason = error.code === "SIGN_IN_LINK_USED" ? "used" : error.code === "SIGN_IN_LINK_EXPIRED" ? "expired" : "unknown";
    return renderPage(c, LinkUnusable({ reason, next, user: pageUser(c) }), { status: error.status === 410 ? 410 : 400 });
  }
});

signInPage.post("/sign-out", formPost, authenticate(), async (c) => {
  assertTrustedOrigin(c);
  const sessionId = c.get("principal")?.sessionId;
  if (sessionId) await endSession(getDb(c.env.DB), sessionId, new Date());
  clearSessionCookie(c);
  return renderPage(c, SignedOut());
});
