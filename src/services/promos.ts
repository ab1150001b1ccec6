/**
 * Promo codes against D1: lookup, validity, and redemptions that never exceed a code's limits.
 *
 * Usage is never a counter: it is the number of promo_redemptions rows. A redemption is one
 * INSERT … SELECT whose WHERE clause counts those rows itself, so two parallel bookings cannot
 * both see "4 of 5 used" and both insert; D1 runs each statement atomically.
 *
 * Codes cannot be probed: a booking is told only that its code "cannot be used" (`promoRefusalFor`),
 * whatever the reason (unknown, inactive, not valid yet, expired, used up), and attempts carrying a
 * code are rate-limited per client address (`limitPromoAttempts`). Staff see the reason.
 */
import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { promoCodes, promoRedemptions } from "../db/schema";
import type { Env, Principal } from "../env";
import { ApiError, type ErrorCode } from "../errors";
import { isStaff } from "./disclosure";

export type PromoCode = typeof promoCodes.$inferSelect;

/** Codes are stored upper-cased; the lookup ignores case and surrounding spaces. */
export function normalizePromoCode(code: string): string {
  return code.trim().toUpperCase();
}

/** The promo code row for `code` (any case), or undefined. */
export async function findPromo(db: Db, code: string): Promise<PromoCode | undefined> {
  const normalized = normalizePromoCode(code);
  if (normalized === "") return undefined;
  return db.query.promoCodes.findFirst({ where: eq(promoCodes.code, normalized) });
}

/**
 * Whether a promo may be used at `now`: null when it may, else 422 PROMO_INVALID (unknown,
 * inactive, not valid yet) or 422 PROMO_EXPIRED (past validUntil). Usage limits are checked by
 * `redeemPromo`, atomically.
 */
export function checkPromo(promo: PromoCode | undefined, now: Date): ApiError | null {
  if (!promo) return new ApiError("PROMO_INVALID", "This promo code does not exist", { reason: "unknown" });
  const details = { code: promo.code };
  if (!promo.active) return new ApiError("PROMO_INVALID", `Promo code ${promo.code} is not active`, { ...details, reason: "inactive" });
  if (promo.validFrom && now.getTime() < promo.validFrom.getTime()) {
    return new ApiError("PROMO_INVALID", `Promo code ${promo.code} is not valid yet`, {
      ...details,
      reason: "not_yet_valid",
      validFrom: promo.validFrom.toISOString(),
    });
  }
  if (promo.validUntil && now.getTime() > promo.validUntil.getTime()) {
    return new ApiError("PROMO_EXPIRED", `Promo code ${promo.code} has expired`, { ...details, validUntil: promo.validUntil.toISOString() });
  }
  return null;
}

export interface RedeemInput {
  promo: PromoCode;
  bookingId: string;
  email: string;
  now: Date;
}

/**
 * Records that `bookingId` used the promo, unless that would exceed its total or per-email limit
 * (409 PROMO_EXHAUSTED, details say which) or the code stopped being valid meanwhile (the
 * `checkPromo` error). Idempotent per booking: redeeming again for the same booking id succeeds
 * with `replayed: true`. Call `releaseRedemption` if the booking then fails.
 */
export async function redeemPromo(db: Db, { promo, bookingId, email, now }: RedeemInput): Promise<{ replayed: boolean }> {
  const normalizedEmail = email.trim().toLowerCase();
  const at = now.getTime();
  // A retry covers the rare case where a parallel release freed a use between our statement and
  // the diagnosis below; it ends on a definite answer either way.
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await db.run(sql`
      INSERT INTO promo_redemptions (booking_id, promo_code_id, email, created_at)
      SELECT ${bookingId}, p.id, ${normalizedEmail}, ${at}
      FROM promo_codes p
      WHERE p.id = ${promo.id}
        AND p.active = 1
        AND (p.valid_from IS NULL OR p.valid_from <= ${at})
        AND (p.valid_until IS NULL OR p.valid_until >= ${at})
        AND (p.max_uses IS NULL
          OR (SELECT count(*) FROM promo_redemptions r WHERE r.promo_code_id = p.id) < p.max_uses)
        AND (p.max_uses_per_email IS NULL
          OR (SELECT count(*) FROM promo_redemptions r WHERE r.promo_code_id = p.id AND r.email = ${normalizedEmail}) < p.max_uses_per_email)
      ON CONFLICT (booking_id) DO NOTHING`);
    if (result.meta.changes === 1) return { replayed: false };

    const existing = await db.query.promoRedemptions.findFirst({ where: eq(promoRedemptions.bookingId, bookingId) });
    if (existing) {
      if (existing.promoCodeId !== promo.id) throw new Error(`Booking ${bookingId} already redeemed another promo code`);
      return { replayed: true };
    }
    const refusal = await whyRefused(db, promo.id, normalizedEmail, now);
    if (refusal) throw refusal;
  }
  throw new ApiError("PROMO_EXHAUSTED", `Promo code ${promo.code} has reached its usage limit`, { code: promo.code, limit: "total" });
}

/** The error explaining why a redemption was refused, or null if nothing refuses it any more. */
async function whyRefused(db: Db, promoId: string, email: string, now: Date): Promise<ApiError | null> {
  const current = await db.query.promoCodes.findFirst({ where: eq(promoCodes.id, promoId) });
  const invalid = checkPromo(current, now);
  if (invalid || !current) return invalid;
  const [usage] = await db
    .select({
      uses: count(),
      usesByEmail: sql<number>`coalesce(sum(${promoRedemptions.email} = ${email}), 0)`,
    })
    .from(promoRedemptions)
    .where(eq(promoRedemptions.promoCodeId, promoId));
  const uses = usage?.uses ?? 0;
  const usesByEmail = Number(usage?.usesByEmail ?? 0);
  if (current.maxUses !== null && uses >= current.maxUses) {
    return new ApiError("PROMO_EXHAUSTED", `Promo code ${current.code} has been used the maximum ${current.maxUses} times`, {
      code: current.code,
      limit: "total",
      maxUses: current.maxUses,
      uses,
    });
  }
  if (current.maxUsesPerEmail !== null && usesByEmail >= current.maxUsesPerEmail) {
    return new ApiError("PROMO_EXHAUSTED", `Promo code ${current.code} may be used ${current.maxUsesPerEmail} time(s) per email, and this email has used it up`, {
      code: current.code,
      limit: "per_email",
      maxUsesPerEmail: current.maxUsesPerEmail,
      usesByEmail,
    });
  }
  return null;
}

/** What every refused promo code answers a booking with, whatever the reason. */
export const PROMO_REFUSED_MESSAGE = "This promo code cannot be used for this booking";

const PROMO_REFUSALS: ReadonlySet<ErrorCode> = new Set(["PROMO_INVALID", "PROMO_EXPIRED", "PROMO_EXHAUSTED"]);
const REASONS: Partial<Record<ErrorCode, string>> = { PROMO_EXPIRED: "expired", PROMO_EXHAUSTED: "exhausted" };

/**
 * A promo refusal (from `checkPromo` or `redeemPromo`) as the booking's caller may see it: one
 * 422 PROMO_INVALID with one message for every reason, so nobody can tell an unknown code from an
 * expired, not-yet-valid or used-up one. Staff also get the reason and the original details.
 * Any other error is returned as it is.
 */
export function promoRefusalFor(error: ApiError, staff: boolean): ApiError {
  if (!PROMO_REFUSALS.has(error.code)) return error;
  if (!staff) return new ApiError("PROMO_INVALID", PROMO_REFUSED_MESSAGE);
  const reason = (error.details?.reason as string | undefined) ?? REASONS[error.code] ?? "invalid";
  return new ApiError("PROMO_INVALID", PROMO_REFUSED_MESSAGE, { ...error.details, reason, explanation: error.message });
}

/** The caller of a booking as the promo limiter sees it. */
export interface PromoCaller {
  env: Pick<Env, "PROMO_RATE_LIMITER">;
  principal: Principal | undefined;
  clientKey: string;
}

/**
 * Bookings carrying a promo code per client address per minute (PROMO_RATE_LIMITER), checked
 * before the code is looked up: over the limit, 429 RATE_LIMITED with scope "promo". Staff are exempt.
 */
export async function limitPromoAttempts(caller: PromoCaller): Promise<void> {
  if (isStaff(caller.principal)) return;
  const { success } = await caller.env.PROMO_RATE_LIMITER.limit({ key: `promo:${caller.clientKey}` });
  if (success) return;
  const error = new ApiError("RATE_LIMITED", "Too many attempts with a promo code; try again in a minute", { scope: "promo", retryAfterSeconds: 60 });
  error.headers["Retry-After"] = "60";
  throw error;
}

/** Gives back the use a booking took (when the booking fails after redeeming); true if there was one. */
export async function releaseRedemption(db: Db, bookingId: string): Promise<boolean> {
  const deleted = await db.delete(promoRedemptions).where(eq(promoRedemptions.bookingId, bookingId)).returning({ bookingId: promoRedemptions.bookingId });
  return deleted.length > 0;
}

/** How many times a promo has been redeemed (in total, or by one email). */
export async function promoUses(db: Db, promoId: string, email?: string): Promise<number> {
  const [row] = await db
    .select({ uses: count() })
    .from(promoRedemptions)
    .where(email === undefined ? eq(promoRedemptions.promoCodeId, promoId) : and(eq(promoRedemptions.promoCodeId, promoId), eq(promoRedemptions.email, email.trim().toLowerCase())));
  return row?.uses ?? 0;
}
