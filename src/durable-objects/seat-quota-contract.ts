/** What the Worker asks a SeatQuotaDO and what it answers (zod at the RPC boundary). */
import { z } from "zod";

/**
 * Subjects (client addresses, email identities, customers) are spread over this many objects by a
 * hash of their name: an object per subject would be created for almost every guest, which costs
 * more than the charge itself. Changing the number moves subjects, forgetting at most one window.
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

/** The name of the object that counts `subject`'s windows. */
export async function seatQuotaShardOf(subject: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(subject)));
  return `quota-shard-${((digest[0]! << 8) | digest[1]!) % SEAT_QUOTA_SHARDS}`;
}
