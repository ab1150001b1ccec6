/**
 * Signed-in sessions, checked server-side on every request: a token names its session, and the
 * session's account gives the email and the role. Both are read from D1 on each request (a read,
 * never a write), so a sign-out or a changed role applies to the very next request; no Worker
 * keeps a copy.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { accounts, authSessions, signInLinks } from "../db/schema";
import type { Role } from "../env";

export interface SignedInAccount {
  accountId: string;
  email: string;
  role: Role;
  sessionId: string;
  expiresAt: Date;
}

/** The account a live session belongs to; null when the session ended, expired or never existed. */
export async function liveSession(db: Db, sessionId: string, now: Date): Promise<SignedInAccount | null> {
  const [row] = await db
    .select({ accountId: accounts.id, email: accounts.email, role: accounts.role, expiresAt: authSessions.expiresAt, endedAt: authSessions.endedAt })
    .from(authSessions)
    .innerJoin(accounts, eq(accounts.id, authSessions.accountId))
    .where(eq(authSessions.id, sessionId))
    .limit(1);
  if (!row || row.endedAt !== null || row.expiresAt.getTime() <= now.getTime()) return null;
  return { accountId: row.accountId, email: row.email, role: row.role, sessionId, expiresAt: row.expiresAt };
}

/** Ends a session: its token and cookie are refused from the next request on. Ending it twice changes nothing. */
export async function endSession(db: Db, sessionId: string, now: Date): Promise<void> {
  await db
    .update(authSessions)
    .set({ endedAt: now })
    .where(and(eq(authSessions.id, sessionId), isNull(authSessions.endedAt)));
}

/** How long ended and expired sessions, and used or expired sign-in links, are kept (for support questions). */
export const SIGN_IN_RECORDS_KEPT_MS = 30 * 86_400_000;

/** Deletes sessions and sign-in links that stopped working more than SIGN_IN_RECORDS_KEPT_MS ago (the hourly cron). */
export async function purgeOldSignInRecords(db: Db, now: Date): Promise<{ sessions: number; links: number }> {
  const cutoff = new Date(now.getTime() - SIGN_IN_RECORDS_KEPT_MS);
  const [sessions, links] = await db.batch([
    db.delete(authSessions).where(or(lt(authSessions.expiresAt, cutoff), lt(authSessions.endedAt, cutoff))).returning({ id: authSessions.id }),
    db.delete(signInLinks).where(or(lt(signInLinks.expiresAt, cutoff), lt(signInLinks.usedAt, cutoff))).returning({ hash: signInLinks.tokenHash }),
  ]);
  return { sessions: sessions.length, links: links.length };
}
