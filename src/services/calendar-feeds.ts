/**
 * A customer's private calendar feed: a secret URL a calendar app subscribes to, shown again on
 * every ask and revoked by rotating.
 *
 * The secret is a signed token of the feed's random id under the server key's "calendar-feed"
 * purpose (src/lib/tokens.ts), so it can be recomputed to show the URL again, and worth nothing
 * for any other purpose. Only its SHA-256 is stored (calendar_feeds.secret_hash): a feed is served
 * to whoever presents a secret whose hash is a live row's, whatever keys were used since. A feed
 * made under a secret that has left the keyring altogether cannot be shown again; asking for it
 * then rotates it.
 */
import { and, eq, isNull } from "drizzle-orm";
import { type ConfigSource, configOf } from "../config";
import type { Db } from "../db/client";
import { calendarFeeds } from "../db/schema";
import { newId } from "../lib/ids";
import { secretsOf, sha256Hex, signedToken } from "../lib/tokens";

export const CALENDAR_FEED_PURPOSE = "calendar-feed";

/** Where a feed is served: GET /api/v1/calendar/feeds/{secret}.ics (src/routes/calendar.ts). */
export const calendarFeedPath = (secret: string) => `/api/v1/calendar/feeds/${secret}.ics`;

export interface CalendarFeedLink {
  url: string;
  createdAt: string;
}

type FeedRow = typeof calendarFeeds.$inferSelect;

const feedSecret = (secret: string, feedId: string) => signedToken(secret, CALENDAR_FEED_PURPOSE, [feedId]);

/** The live feed of an email, if it has one. */
async function liveFeed(db: Db, email: string): Promise<FeedRow | undefined> {
  const [row] = await db
    .select()
    .from(calendarFeeds)
    .where(and(eq(calendarFeeds.customerEmail, email), isNull(calendarFeeds.revokedAt)));
  return row;
}

/** The row's secret, recomputed under the keyring key it was made with; null when that key is gone. */
async function secretOf(env: ConfigSource, row: FeedRow): Promise<string | null> {
  for (const key of secretsOf(configOf(env).keyring)) {
    const secret = await feedSecret(key, row.id);
    if ((await sha256Hex(secret)) === row.secretHash) return secret;
  }
  return null;
}

function linkOf(env: ConfigSource, secret: string, row: FeedRow): CalendarFeedLink {
  return { url: `${configOf(env).publicBaseUrl}${calendarFeedPath(secret)}`, createdAt: row.createdAt.toISOString() };
}

async function newFeed(env: ConfigSource, email: string) {
  const id = newId("calendarFeed");
  const secret = await feedSecret(configOf(env).jwtSecret, id);
  return { secret, values: { id, customerEmail: email, secretHash: await sha256Hex(secret) } };
}

/**
 * The email's feed URL, made on the first ask. Two first asks at once make one feed: the partial
 * unique index lets one insert win, and both answer with the row that did.
 */
export async function calendarFeedFor(env: ConfigSource, db: Db, email: string): Promise<CalendarFeedLink> {
  const owner = email.toLowerCase();
  let live = await liveFeed(db, owner);
  if (!live) {
    const { secret, values } = await newFeed(env, owner);
    const [inserted] = await db.insert(calendarFeeds).values(values).onConflictDoNothing().returning();
    if (inserted) return linkOf(env, secret, inserted);
    live = await liveFeed(db, owner);
    if (!live) throw new Error("calendar feed neither inserted nor found");
  }
  const secret = await secretOf(env, live);
  return secret ? linkOf(env, secret, live) : rotateCalendarFeed(env, db, owner);
}

/** Revokes the email's feed URL (it answers 404 from now on) and returns a new one. */
export async function rotateCalendarFeed(env: ConfigSource, db: Db, email: string): Promise<CalendarFeedLink> {
  const owner = email.toLowerCase();
  const { secret, values } = await newFeed(env, owner);
  const [, [inserted]] = await db.batch([
    db
      .update(calendarFeeds)
      .set({ revokedAt: new Date() })
      .where(and(eq(calendarFeeds.customerEmail, owner), isNull(calendarFeeds.revokedAt))),
    db.insert(calendarFeeds).values(values).returning(),
  ]);
  return linkOf(env, secret, inserted!);
}

/** The email a live feed's secret belongs to; undefined for a revoked or made-up one. */
export async function calendarFeedOwner(db: Db, secret: string): Promise<string | undefined> {
  const [row] = await db
    .select({ email: calendarFeeds.customerEmail })
    .from(calendarFeeds)
    .where(and(eq(calendarFeeds.secretHash, await sha256Hex(secret)), isNull(calendarFeeds.revokedAt)));
  return row?.email;
}
