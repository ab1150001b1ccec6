/**
 * Who holds which role, kept in D1's accounts: admins invite staff by email (the invitation is a
 * sign-in link valid for STAFF_INVITE_HOURS), change roles, and take them away. A role change
 * applies to the account's next request (roles are read per request, src/services/auth-sessions.ts).
 * There is always at least one admin.
 */
import { and, asc, eq, exists, gt, ne, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { ConfigSource } from "../config";
import type { Db } from "../db/client";
import { accounts, staff } from "../db/schema";
import type { Env, Role } from "../env";
import { ApiError, notFound } from "../errors";
import { newId } from "../lib/ids";
import { sendSignInLink } from "./sign-in";

export type Account = typeof accounts.$inferSelect;

/**
 * Gives a staff member's email the role (staff unless admin is asked), linked to their staff
 * record, and emails them an invitation link. Inviting again sends a fresh link.
 */
export async function inviteStaff(
  env: Pick<Env, "NOTIFICATIONS"> & ConfigSource,
  db: Db,
  invite: { staffId: string; role: Exclude<Role, "customer">; invitedBy: string },
  now: Date,
): Promise<{ account: Account; expiresAt: Date }> {
  const member = await db.query.staff.findFirst({ where: eq(staff.id, invite.staffId), columns: { id: true, email: true, active: true } });
  if (!member) throw notFound("Staff member", invite.staffId);
  if (!member.active) throw new ApiError("BAD_REQUEST", "This staff member is inactive; make them active before inviting them");
  const current = await db.query.accounts.findFirst({ where: eq(accounts.email, member.email) });
  // Inviting an admin as staff would quietly demote them: a demotion is asked for explicitly.
  if (current?.role === "admin" && invite.role === "staff") {
    throw new ApiError("ALREADY_EXISTS", "This person is already an admin; to make them staff, change the role (PATCH /api/v1/admin/accounts/{id})", { accountId: current.id });
  }
  const [account] = await db
    .insert(accounts)
    .values({ id: newId("account"), email: member.email, role: invite.role, staffId: member.id, roleSetBy: invite.invitedBy })
    .onConflictDoUpdate({ target: accounts.email, set: { role: invite.role, staffId: member.id, roleSetBy: invite.invitedBy, updatedAt: now } })
    .returning();
  const { expiresAt } = await sendSignInLink(env, db, { email: member.email, purpose: "invite", role: invite.role, invitedBy: invite.invitedBy }, now);
  return { account: account!, expiresAt };
}

/**
 * Sets an account's role; the last admin cannot be demoted (409 LAST_ADMIN). The check is part of
 * the UPDATE itself, so two admins demoting each other at once leave one admin, not none.
 */
export async function setRole(db: Db, change: { accountId: string; role: Role; setBy: string }, now: Date): Promise<Account> {
  const current = await db.query.accounts.findFirst({ where: eq(accounts.id, change.accountId) });
  if (!current) throw notFound("Account", change.accountId);
  if (current.role === change.role) return current;
  const otherAdmin = alias(accounts, "other_admin");
  const keepsAnAdmin = or(
    ne(accounts.role, "admin"),
    sql`${change.role} = 'admin'`,
    exists(db.select({ id: otherAdmin.id }).from(otherAdmin).where(and(eq(otherAdmin.role, "admin"), ne(otherAdmin.id, accounts.id)))),
  );
  const [updated] = await db
    .update(accounts)
    .set({ role: change.role, roleSetBy: change.setBy, updatedAt: now })
    .where(and(eq(accounts.id, change.accountId), keepsAnAdmin))
    .returning();
  if (!updated) throw new ApiError("LAST_ADMIN", "This is the only admin; make someone else admin first");
  return updated;
}

/** Accounts by email, optionally of one role, in keyset pages. */
export function listAccounts(db: Db, query: { role?: Role; afterEmail?: string; limit: number }): Promise<Account[]> {
  return db
    .select()
    .from(accounts)
    .where(and(query.role ? eq(accounts.role, query.role) : sql`1`, query.afterEmail ? gt(accounts.email, query.afterEmail) : sql`1`))
    .orderBy(asc(accounts.email))
    .limit(query.limit + 1);
}

/**
 * Makes `email` an admin, creating its account if need be (`npm run admin:create`: the first admin
 * of a new deployment). Linked to a staff record with the same email, when there is one.
 */
export async function grantAdmin(db: Db, email: string, setBy: string, now: Date): Promise<Account> {
  const member = await db.query.staff.findFirst({ where: eq(staff.email, email), columns: { id: true } });
  const [account] = await db
    .insert(accounts)
    .values({ id: newId("account"), email, role: "admin", staffId: member?.id ?? null, roleSetBy: setBy })
    .onConflictDoUpdate({ target: accounts.email, set: { role: "admin", roleSetBy: setBy, updatedAt: now } })
    .returning();
  return account!;
}
