/** What the Worker asks a SeatQuotaDO and what it answers (zod at the RPC boundary). */
import { z } from "zod";

/**
 * Subjects (client addresses, email identities, customers) are spread over this many objects by a
 * hash of their name: an object per subject would be created for almost every guest, which costs
 * more than the charge itself. Changing the number (or the hash below) moves subjects to shards that
 * have not seen them: for one window after such a deploy a party may take up to twice its limit.
 */
export const SEAT_QUOTA_SHARDS = 32;

export const QuotaCharge = z.object({
  /** Whose window: `client:<address>`, `email:<identity>` or `customer:<id>`. */
  subject: z.string().min(1).max(400),
  /** Identifies the request: a retry of the same request (same id) is charged once. */
  chargeId: z.string().min(1).max(300),
  /** What is counted: seats taken in sessions, or waiting parties joined. */
  kind: z.enum(["seats", "waitlist"]),
  amount: z.number().int().min(1),
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1000),
});
export type QuotaCharge = z.input<typeof QuotaCharge>;

/** `repeated`: this charge id was charged already (a retry): nothing new was charged, and its refund is the first request's to make. */
export type QuotaAnswer = { ok: true; repeated?: true } | { ok: false; used: number; limit: number; retryAfterSeconds: number };

/**
 * The name of the object that counts `subject`'s windows: FNV-1a of the name, synchronous and
 * cheap (twice per booking). Nothing secret depends on it: a party that steers its names into one
 * shard only shares that shard's load, its windows stay its own.
 */
export function seatQuotaShardOf(subject: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < subject.length; index++) {
    hash ^= subject.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return `quota-shard-${(hash >>> 0) % SEAT_QUOTA_SHARDS}`;
}
