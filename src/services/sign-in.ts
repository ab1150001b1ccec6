/**
 * Sign-in by emailed link, for customers, staff and admins alike. Anyone may ask for a link to any
 * address and gets the same answer: the link goes to the address, and whoever opens it has shown
 * they read that mailbox. A new address becomes a customer account when its link is used; staff
 * and admins are accounts an admin invited (src/services/staff-access.ts) or `npm run admin:create`.
 *
 * A link's token is random and kept only as its SHA-256; it works once, for SIGN_IN_LINK_MINUTES
 * (an invitation for STAFF_INVITE_HOURS). Using it starts a session (src/services/auth-sessions.ts)
 * and mints an access token naming that session.
 */
import { and, count, eq, gt, sql } from "drizzle-orm";
import { configOf, type ConfigSource } from "../config";
import type { Db } from "../db/client";
import { signInLinks } from "../db/schema";
import type { Env, Role } from "../env";
import { limitIdentityOf } from "../domain/email-identity";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { claimsFor, signJwt } from "../lib/jwt-claims";
import { randomToken, sha256Hex } from "../lib/tokens";
import { queueNotifications, type TypedNotificationRequest } from "./notifications";

/** The page a link opens: it asks before using the link, so a mail scanner that follows it signs nobody in. */
export const SIGN_IN_PAGE = "/sign-in";

export type LinkPurpose = "sign_in" | "invite";

/**
 * What `POST /auth/email-link` does: the client's allowance first (429 beyond it), then the
 * address's. An address over its allowance is sent nothing, and the caller hears the same as
 * ever, so the answer never says anything about the address, and nobody can fill a mailbox.
 */
export async function requestSignInLink(
  env: Pick<Env, "NOTIFICATIONS" | "SIGN_IN_CLIENT_RATE_LIMITER" | "SIGN_IN_EMAIL_RATE_LIMITER"> & ConfigSource,
  db: Db,
  request: { email: string; clientKey: string },
  now: Date,
): Promise<void> {
  const client = await env.SIGN_IN_CLIENT_RATE_LIMITER.limit({ key: `client:${request.clientKey}` });
  if (!client.success) {
    const error = new ApiError("RATE_LIMITED", "Too many sign-in requests from this address; try again in a minute", { scope: "client" });
    error.headers["Retry-After"] = "60";
    throw error;
  }
  const limitKey = limitIdentityOf(request.email);
  const address = await env.SIGN_IN_EMAIL_RATE_LIMITER.limit({ key: `email:${limitKey}` });
  if (!address.success || (await linksRecentlySent(db, limitKey, now)) === "over") return;
  await sendSignInLink(env, db, { email: request.email, purpose: "sign_in" }, now);
}

/**
 * Stores a new link for `email` and queues the message carrying it. Throws SERVICE_UNAVAILABLE when
 * the message could not be queued: a caller is never told a link is on its way when it is not.
 */
export async function sendSignInLink(
  env: Pick<Env, "NOTIFICATIONS"> & ConfigSource,
  db: Db,
  link: { email: string; purpose: LinkPurpose; role?: Exclude<Role, "customer">; invitedBy?: string },
  now: Date,
): Promise<{ expiresAt: Date }> {
  const config = configOf(env);
  const token = randomToken();
  const tokenHash = await sha256Hex(token);
  const expiresAt = new Date(now.getTime() + (link.purpose === "invite" ? config.staffInviteMs : config.signInLinkMs));
  await db.insert(signInLinks).values({ tokenHash, email: link.email, limitKey: limitIdentityOf(link.email), purpose: link.purpose, expiresAt, createdAt: now });
  const linkPath = `${SIGN_IN_PAGE}?token=${token}`;
  const base = { id: `${link.purpose === "invite" ? "staff-invite" : "sign-in"}:${tokenHash.slice(0, 32)}`, recipient: { email: link.email }, requestedAt: now.getTime() };
  const request: TypedNotificationRequest<"SIGN_IN_LINK"> | TypedNotificationRequest<"STAFF_INVITE"> =
    link.purpose === "invite"
      ? { ...base, kind: "STAFF_INVITE", data: { linkPath, expiresAt: expiresAt.getTime(), role: link.role ?? "staff", ...(link.invitedBy && { invitedBy: link.invitedBy }) } }
      : { ...base, kind: "SIGN_IN_LINK", data: { linkPath, expiresAt: expiresAt.getTime() } };
  if (!(await queueNotifications(env, [request]))) {
    throw new ApiError("SERVICE_UNAVAILABLE", "The sign-in message could not be sent just now; try again in a minute");
  }
  return { expiresAt };
}

/**
 * Links one address (its variants with it) is sent at most per hour and per day. The per-minute
 * rate limiter is per location and approximate; D1's count is the whole platform's.
 */
export const SIGN_IN_LINKS_PER_HOUR = 5;
export const SIGN_IN_LINKS_PER_DAY = 20;

async function linksRecentlySent(db: Db, limitKey: string, now: Date): Promise<"within" | "over"> {
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const [counts] = await db
    .select({
      lastHour: sql<number>`coalesce(sum(${signInLinks.createdAt} > ${hourAgo.getTime()}), 0)`,
      lastDay: count(),
    })
    .from(signInLinks)
    .where(and(eq(signInLinks.limitKey, limitKey), gt(signInLinks.createdAt, dayAgo)));
  return (counts?.lastHour ?? 0) >= SIGN_IN_LINKS_PER_HOUR || (counts?.lastDay ?? 0) >= SIGN_IN_LINKS_PER_DAY ? "over" : "within";
}

export interface SignedIn {
  accessToken: string;
  expiresAt: Date;
  sessionId: string;
  user: { id: string; email: string; role: Role };
}

/**
 * Exchanges a link's token for a session, in one D1 transaction: the link is marked used by this
 * session only if it was unused and unexpired, the account is made if the address is new, and the
 * session is started. Two requests with one link: one session, the other is told the link was used.
 */
export async function exchangeSignInLink(env: Pick<Env, "DB"> & ConfigSource, db: Db, token: string, now: Date): Promise<SignedIn> {
  const config = configOf(env);
  const tokenHash = await sha256Hex(token);
  const sessionId = newId("authSession");
  const expiresAt = new Date(now.getTime() + config.jwtMaxLifetimeSeconds * 1000);
  const at = now.getTime();
  // Plain D1 statements: drizzle cannot batch INSERT … SELECT. One transaction, in this order.
  const statements = [
    `UPDATE sign_in_links SET used_at = ?1, used_by_session = ?2 WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1`,
    `INSERT INTO accounts (id, email, role, role_set_by) SELECT ?3, email, 'customer', 'sign-in' FROM sign_in_links WHERE used_by_session = ?2
       ON CONFLICT (email) DO NOTHING`,
    `INSERT INTO auth_sessions (id, account_id, expires_at, created_at) SELECT ?2, accounts.id, ?3, ?1
       FROM sign_in_links JOIN accounts ON accounts.email = sign_in_links.email WHERE sign_in_links.used_by_session = ?2`,
    `SELECT accounts.id AS id, accounts.email AS email, accounts.role AS role FROM auth_sessions JOIN accounts ON accounts.id = auth_sessions.account_id WHERE auth_sessions.id = ?1`,
  ];
  const d1 = env.DB;
  const results = await d1.batch<{ id: string; email: string; role: Role }>([
    d1.prepare(statements[0]!).bind(at, sessionId, tokenHash),
    d1.prepare(statements[1]!).bind(at, sessionId, newId("account")),
    d1.prepare(statements[2]!).bind(at, sessionId, expiresAt.getTime()),
    d1.prepare(statements[3]!).bind(sessionId),
  ]);
  const found = results[3]!.results;
  const user = found[0];
  if (!user) throw await whyRefused(db, tokenHash, now);
  const accessToken = await signJwt(claimsFor({ sub: user.id, role: user.role, email: user.email, sid: sessionId, now: Math.floor(at / 1000), ttlSeconds: config.jwtMaxLifetimeSeconds, issuer: config.jwtIssuer, audience: config.jwtAudience }), config.jwtSecret);
  return { accessToken, expiresAt, sessionId, user };
}

/** Why a link could not be used, in a code the page can explain. */
async function whyRefused(db: Db, tokenHash: string, now: Date): Promise<ApiError> {
  const link = await db.query.signInLinks.findFirst({ where: eq(signInLinks.tokenHash, tokenHash), columns: { usedAt: true, expiresAt: true } });
  if (!link) return new ApiError("SIGN_IN_LINK_INVALID", "This sign-in link is not valid; ask for a new one");
  if (link.usedAt !== null) return new ApiError("SIGN_IN_LINK_USED", "This sign-in link has already been used; ask for a new one");
  if (link.expiresAt.getTime() <= now.getTime()) return new ApiError("SIGN_IN_LINK_EXPIRED", "This sign-in link has expired; ask for a new one");
  return new ApiError("SIGN_IN_LINK_INVALID", "This sign-in link is not valid; ask for a new one");
}

/** What a sign-in link's confirm page may say about it before it is used. */
export type SignInLinkState = { state: "usable"; email: string } | { state: "used" | "expired" | "unknown" };

/**
 * The link a token names, read only (using it is `exchangeSignInLink`): the page that asks
 * "Sign in as …?" names the address, or explains why the link will not work, without spending it.
 */
export async function signInLinkState(db: Db, token: string, now: Date): Promise<SignInLinkState> {
  if (token.length < 16 || token.length > 200) return { state: "unknown" };
  const link = await db.query.signInLinks.findFirst({ where: eq(signInLinks.tokenHash, await sha256Hex(token)), columns: { email: true, usedAt: true, expiresAt: true } });
  if (!link) return { state: "unknown" };
  if (link.usedAt !== null) return { state: "used" };
  if (link.expiresAt.getTime() <= now.getTime()) return { state: "expired" };
  return { state: "usable", email: link.email };
}
