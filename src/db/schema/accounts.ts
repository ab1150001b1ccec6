/** Who may sign in and as what: accounts with their role, emailed sign-in links and signed-in sessions. (Conventions: src/db/schema.ts.) */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "./columns";
import { staff } from "./catalog";

export const ACCOUNT_ROLES = ["customer", "staff", "admin"] as const;

/**
 * One per email that has signed in or been invited. The role here is the only one that counts:
 * every request of a signed-in session reads it (src/services/auth-sessions.ts), so a changed role
 * applies to the next request. Staff accounts point at their staff record.
 */
export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull().unique(),
    role: text("role", { enum: ACCOUNT_ROLES }).notNull(),
    staffId: text("staff_id").references(() => staff.id, { onDelete: "set null" }),
    /** Who last set the role (an admin's email, `admin:create`, or `sign-in` for a new customer). */
    roleSetBy: text("role_set_by").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("accounts_role_idx").on(t.role)],
);

export const SIGN_IN_LINK_PURPOSES = ["sign_in", "invite"] as const;

/**
 * Emailed sign-in links. Only the SHA-256 of the link's token is kept; a link is used once
 * (`used_at`, and the session it made), and refused after `expires_at`.
 */
export const signInLinks = sqliteTable(
  "sign_in_links",
  {
    tokenHash: text("token_hash").primaryKey(),
    email: text("email").notNull(),
    /** The address's limit identity (src/domain/email-identity.ts): links per hour and day are counted by it. */
    limitKey: text("limit_key").notNull(),
    purpose: text("purpose", { enum: SIGN_IN_LINK_PURPOSES }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
    /** The session the link was exchanged for: the one request that used it. */
    usedBySession: text("used_by_session"),
    createdAt: createdAt(),
  },
  (t) => [index("sign_in_links_limit_key_idx").on(t.limitKey, t.createdAt)],
);

/**
 * Signed-in sessions. An access token (and the cookie holding it) names its session; a session
 * that ended (sign-out) or expired is refused on the next request, whatever the token's signature.
 */
export const authSessions = sqliteTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [index("auth_sessions_account_idx").on(t.accountId)],
);
