/**
 * Writes the waitlist entries session Durable Objects deliver from their outboxes into D1: upserts
 * keyed by id and guarded by `version` (the DO's change counter), so redelivery and out-of-order
 * delivery only ever move a row to a newer state.
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client";
import { customers, waitlistEntries } from "./schema";

export type WaitlistEntryChange = Omit<typeof waitlistEntries.$inferInsert, "createdAt" | "updatedAt" | "joinedAt" | "offerExpiresAt"> & {
  joinedAt: number;
  offerExpiresAt: number | null;
  /** Epoch ms of the change. */
  at: number;
};

const UPDATED_COLUMNS = [
  "customerId",
  "status",
  "priority",
  "guestCount",
  "preferredContact",
  "alternativeDates",
  "notes",
  "offerExpiresAt",
  "offersMade",
  "bookingId",
  "version",
] as const;

/** The upserts for some entry changes, for the caller's batch. */
export function waitlistStatements(db: Db, changes: WaitlistEntryChange[]) {
  return changes.flatMap(({ at, joinedAt, offerExpiresAt, ...entry }) => [
    // The profile is matched by email, or created with the id the entry named.
    ...(entry.customerId
      ? [db.insert(customers).values({ id: entry.customerId, email: entry.email, firstName: entry.firstName, lastName: entry.lastName }).onConflictDoNothing()]
      : []),
    db
      .insert(waitlistEntries)
      .values({
        ...entry,
        customerId: entry.customerId ? sql`(SELECT id FROM customers WHERE email = ${entry.email})` : null,
        joinedAt: new Date(joinedAt),
        offerExpiresAt: offerExpiresAt === null ? null : new Date(offerExpiresAt),
        updatedAt: new Date(at),
      })
      .onConflictDoUpdate({
        target: waitlistEntries.id,
        set: {
          ...Object.fromEntries(UPDATED_COLUMNS.map((column) => [column, sql.raw(`excluded.${waitlistEntries[column].name}`)])),
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: sql`excluded.version > ${waitlistEntries.version}`,
      }),
  ]);
}
