/** Private calendar feeds: a customer's subscribable, revocable secret URL. (Conventions: src/db/schema.ts.) */
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt } from "./columns";

/**
 * One row per feed URL a customer was given (GET /api/v1/me/calendar-feed). Only the SHA-256 of
 * the URL's secret is stored; the secret is recomputed from the row's id under the server key
 * (src/services/calendar-feeds.ts) to show the URL again. Rotating revokes the row (`revoked_at`)
 * and adds another, so at most one feed per email is live (the partial unique index).
 */
export const calendarFeeds = sqliteTable(
  "calendar_feeds",
  {
    id: text("id").primaryKey(),
    /** The signed-in customer's email, lower-cased: the feed lists the bookings of the customer with this email. */
    customerEmail: text("customer_email").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    createdAt: createdAt(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("calendar_feeds_live_email_uq").on(t.customerEmail).where(sql`revoked_at IS NULL`)],
);
