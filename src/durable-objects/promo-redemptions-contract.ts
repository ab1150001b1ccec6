/** What the Worker asks a PromoRedemptionsDO and what it answers (zod at the RPC boundary). */
import { z } from "zod";

export const RedeemInput = z.object({
  promoCodeId: z.string().min(1).max(200),
  bookingId: z.string().min(1).max(300),
  /** Normalised (trimmed, lower-cased): the per-email limit counts it. */
  email: z.string().min(1).max(320),
  /** The code's limits as the catalog has them now (null: none). */
  maxUses: z.number().int().min(0).nullable(),
  maxUsesPerEmail: z.number().int().min(0).nullable(),
});
export type RedeemInput = z.input<typeof RedeemInput>;

/** `replayed`: this booking had redeemed the code already (a retry), nothing new was taken. */
export type RedeemAnswer =
  | { ok: true; replayed: boolean }
  | { ok: false; limit: "total"; uses: number; maxUses: number }
  | { ok: false; limit: "per_email"; usesByEmail: number; maxUsesPerEmail: number };
