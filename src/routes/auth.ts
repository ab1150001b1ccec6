/**
 * Sign-in by emailed link (src/services/sign-in.ts), the current session, and sign-out. The same
 * answer for every address; a used, expired or forged link is a 4xx with its own code.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { bearerAuth, createRouter, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { clearSessionCookie, sessionCookieName } from "../middleware/auth";
import { assertTrustedOrigin } from "../middleware/origins";
import { endAllSessions, endSession } from "../services/auth-sessions";
import { exchangeSignInLink, requestSignInLink, type SignedIn } from "../services/sign-in";

const tags = ["Sign-in"];
const Role = z.enum(["customer", "staff", "admin"]);
const User = z.object({ id: z.string(), email: z.string(), role: Role });

const SessionSchema = z.object({
  accessToken: z.string().openapi({ description: "Secret: a bearer token for this session (the cookie holds the same); refused after sign-out" }),
  expiresAt: z.string().datetime(),
  user: User,
});

const LINK_SENT = { status: "sent", message: "If the address can receive email, a sign-in link is on its way. It works once, for a short time." } as const;

export const authRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/email-link",
      tags,
      summary: "Email a sign-in link to an address",
      description:
        "Always 202 with the same body, known address or not (a new address becomes a customer when its link is used). " +
        "At most a few links per address per minute; beyond, nothing more is sent and the answer is the same. 429 when this client asks too often.",
      request: { body: jsonBody(z.object({ email: z.email().max(254) })) },
      responses: { 202: jsonResponse(z.object({ status: z.literal("sent"), message: z.string() }), "Sent, or quietly not"), ...errorResponses(400, 429, 503) },
    }),
    async (c) => {
      const { email } = c.req.valid("json");
      await requestSignInLink(c.env, getDb(c.env.DB), { email: email.trim().toLowerCase(), clientKey: clientKeyOf(c.req.header("CF-Connecting-IP")) }, new Date());
      return c.json(LINK_SENT, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/verify",
      tags,
      summary: "Use a sign-in link: start a session",
      description:
        "Answers the access token and sets the session cookie (HttpOnly, SameSite=Lax, Secure on https). " +
        "A link works once: 410 SIGN_IN_LINK_USED or SIGN_IN_LINK_EXPIRED, 400 SIGN_IN_LINK_INVALID for anything else.",
      request: { body: jsonBody(z.object({ token: z.string().min(16).max(200) })) },
      responses: { 200: jsonResponse(SessionSchema, "Signed in"), ...errorResponses(400, 403, 410) },
    }),
    async (c) => {
      // A page on another site must not sign a visitor into someone else's account (login CSRF).
      if (c.req.header("Origin") !== undefined) assertTrustedOrigin(c);
      const signedIn = await exchangeSignInLink(c.env, getDb(c.env.DB), c.req.valid("json").token, new Date());
      setSessionCookie(c, signedIn);
      return c.json({ accessToken: signedIn.accessToken, expiresAt: signedIn.expiresAt.toISOString(), user: signedIn.user }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/session",
      tags,
      summary: "Who is signed in",
      security: bearerAuth,
      responses: { 200: jsonResponse(z.object({ user: User, expiresAt: z.string().datetime().nullable() }), "The signed-in user"), ...errorResponses(401) },
    }),
    async (c) => {
      const principal = c.get("principal");
      if (!principal) throw new ApiError("UNAUTHENTICATED", "Nobody is signed in");
      const expiresAt = principal.sessionExpiresAt === undefined ? null : new Date(principal.sessionExpiresAt).toISOString();
      return c.json({ user: { id: principal.subject, email: principal.email ?? "", role: principal.role }, expiresAt }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/sign-out",
      tags,
      summary: "End this session",
      description: "Its access token and cookie are refused (401) from the next request on. Without a session, this only clears the cookie.",
      security: bearerAuth,
      responses: { 204: { description: "Signed out" }, ...errorResponses(403) },
    }),
    async (c) => {
      const sessionId = c.get("principal")?.sessionId;
      if (sessionId) await endSession(getDb(c.env.DB), sessionId, new Date());
      clearSessionCookie(c);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/sign-out-everywhere",
      tags,
      summary: "End every session of this account (a lost phone, a shared computer)",
      description: "Every access token and cookie of the account is refused (401) from the next request on.",
      security: bearerAuth,
      responses: { 204: { description: "Signed out everywhere" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const principal = c.get("principal");
      if (!principal?.sessionId) throw new ApiError("UNAUTHENTICATED", "Sign in first: only a signed-in session can end its account's sessions");
      await endAllSessions(getDb(c.env.DB), principal.subject, new Date());
      clearSessionCookie(c);
      return c.body(null, 204);
    },
  );

function isHttps(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** The cookie browsers send back: the access token, for as long as the session lives. */
export function setSessionCookie(c: Context<AppEnv>, signedIn: SignedIn): void {
  setCookie(c, sessionCookieName(c), signedIn.accessToken, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    expires: signedIn.expiresAt,
  });
}
