/**
 * Signed-in sessions, checked server-side on every request: a token names its session, and the
 * session's account gives the email and the role. Both are read from D1 on each request (a read,
 * never a write), so a sign-out or a changed role applies to the very next request; no Worker
 * keeps a copy.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { accounts, authSessions, signInLinks, staff } from "../db/schema";
import type { Role } from "../env";

export interface SignedInAccount {
  accountId: string;
  email: string;
  role: Role;
  sessionId: string;
  expiresAt: Date;
}

/**
 * The account a live session belongs to; null when the session ended, expired or never existed.
 * A `staff` role holds only while its staff record is active and has the account's email: a
 * deactivated, deleted or re-addressed staff member is a customer from their next request on.
 * (An admin's role is the studio's decision alone.)
 */
export async function liveSession(db: Db, sessionId: string, now: Date): Promise<SignedInAccount | null> {
  const [row] = await db
    .select({
      accountId: accounts.id,
      email: accounts.email,
      role: accounts.role,
      expiresAt: authSessions.expiresAt,
      endedAt: authSessions.endedAt,
      staffActive: staff.active,
      staffEmail: staff.email,
    })
    .from(authSessions)
    .innerJoin(accounts, eq(accounts.id, authSessions.accountId))
    .leftJoin(staff, eq(staff.id, accounts.staffId))
    .where(eq(authSessions.id, sessionId))
    .limit(1);
  if (!row || row.endedAt !== null || row.expiresAt.getTime() <= now.getTime()) return null;
  const staffStands = row.staffActive === true && row.staffEmail === row.email;
  const role = row.role === "staff" && !staffStands ? "customer" : row.role;
  return { accountId: row.accountId, email: row.email, role, sessionId, expiresAt: row.expiresAt };
}

/** Ends every live session of an account ("sign out everywhere"). */
export async function endAllSessions(db: Db, accountId: string, now: Date): Promise<void> {
  await db
    .update(authSessions)
    .set({ endedAt: now })
    .where(and(eq(authSessions.accountId, accountId), isNull(authSessions.endedAt)));
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
