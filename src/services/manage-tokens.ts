/**
 * Manage tokens beyond minting (src/lib/tokens.ts): which generation of a booking's token opens it,
 * and staff revoking them all. A booking without a revocation row takes its generation-0 token;
 * with one, only the row's generation. Tokens are recomputed under every key of the keyring, so a
 * token made before a secret rotation keeps working, and the row, not the booking's stored hash
 * (which the projection may rewrite), decides.
 */
import { eq, sql } from "drizzle-orm";
import { type ConfigSource, configOf } from "../config";
import type { Db } from "../db/client";
import { manageTokenRevocations } from "../db/schema";
import type { Env } from "../env";
import { notFound } from "../errors";
import { manageTokenFor, manageTokenGeneration } from "../lib/tokens";
import { getBooking } from "./booking-views";

/** The generation of a booking's manage token that works now: 0 until staff revoke. */
export async function currentManageTokenGeneration(db: Db, bookingId: string): Promise<number> {
  const [row] = await db
    .select({ generation: manageTokenRevocations.generation })
    .from(manageTokenRevocations)
    .where(eq(manageTokenRevocations.bookingId, bookingId));
  return row?.generation ?? 0;
}

/** Whether `token` is this booking's manage token of the current generation (under the current or previous secret). */
export async function manageTokenOpens(env: ConfigSource, db: Db, bookingId: string, token: string): Promise<boolean> {
  const generation = await manageTokenGeneration(configOf(env).keyring, bookingId, token);
  if (generation === null) return false;
  return generation === (await currentManageTokenGeneration(db, bookingId));
}

/** The booking's manage token as messages should carry it: the current generation, current secret. */
export async function currentManageToken(env: ConfigSource, db: Db, bookingId: string): Promise<string> {
  return manageTokenFor(configOf(env).jwtSecret, bookingId, await currentManageTokenGeneration(db, bookingId));
}

export interface Revocation {
  bookingId: string;
  manageToken: string;
  revokedAt: string;
}

/**
 * Refuses every manage token issued so far for the booking and returns the next one, for staff to
 * pass on. One atomic upsert bumps the generation, so two revokes at once give two generations and
 * the later one wins. 404 for a booking nobody knows.
 */
export async function revokeManageToken(env: Env, db: Db, bookingId: string, by: string): Promise<Revocation> {
  const booking = await getBooking(env, db, bookingId);
  if (!booking) throw notFound("Booking", bookingId);
  const revokedAt = new Date();
  const [row] = await db
    .insert(manageTokenRevocations)
    .values({ bookingId, generation: 1, revokedAt, revokedBy: by })
    .onConflictDoUpdate({
      target: manageTokenRevocations.bookingId,
      set: { generation: sql`${manageTokenRevocations.generation} + 1`, revokedAt, revokedBy: by },
    })
    .returning({ generation: manageTokenRevocations.generation });
  const generation = row!.generation;
  // No staff-action audit table exists: the row keeps who and when, this line the history.
  console.log(JSON.stringify({ level: "info", msg: "manage token revoked", bookingId, generation, revokedBy: by }));
  return { bookingId, manageToken: await manageTokenFor(configOf(env).jwtSecret, bookingId, generation), revokedAt: revokedAt.toISOString() };
}
