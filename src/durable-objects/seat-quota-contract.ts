/** What the Worker asks a SeatQuotaDO and what it answers (zod at the RPC boundary). */
import { z } from "zod";

export const QuotaCharge = z.object({
  /** Identifies the request: a retry of the same request (same id) is charged once. */
  chargeId: z.string().min(1).max(300),
  /** What is counted: seats taken in sessions, or waiting parties joined. */
  kind: z.enum(["seats", "waitlist"]),
  amount: z.number().int().min(1),
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1000),
});
export type QuotaCharge = z.input<typeof QuotaCharge>;

export type QuotaAnswer = { ok: true } | { ok: false; used: number; limit: number; retryAfterSeconds: number };
