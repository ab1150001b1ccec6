/**
 * Promo codes: lookup and validity (D1 reads), and redemptions that never exceed a code's limits.
 *
 * Usage is never a counter: it is the number of the code's redemptions, which its
 * PromoRedemptionsDO decides one at a time, counting them in the same transaction, so two parallel
 * bookings cannot both see "4 of 5 used" and both take one. No D1 write on a booking's way: D1's
 * promo_redemptions is the projection (src/durable-objects/promo-redemptions.ts).
 *
 * Codes cannot be probed: a booking is told only that its code "cannot be used" (`promoRefusalFor`),
 * whatever the reason (unknown, inactive, not valid yet, expired, used up), and attempts carrying a
 * code are rate-limited per client address (`limitPromoAttempts`). Staff see the reason.
 */
import { and, count, eq } from "drizzle-orm";
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

/** The object that decides the code's uses. */
function redemptionsOf(env: Pick<Env, "PROMO_REDEMPTIONS">, promoId: string) {
  return env.PROMO_REDEMPTIONS.getByName(promoId);
}

/**
 * Records that `bookingId` used the promo, unless that would exceed its total or per-email limit
 * (409 PROMO_EXHAUSTED, details say which) or the code is not valid at `now` (the `checkPromo`
 * error). Idempotent per booking: redeeming again for the same booking id succeeds with
 * `replayed: true`. Call `releaseRedemption` if the booking then fails. Decided by the code's
 * PromoRedemptionsDO; D1 hears of it through the projection.
 */
export async function redeemPromo(env: Pick<Env, "PROMO_REDEMPTIONS">, { promo, bookingId, email, now }: RedeemInput): Promise<{ replayed: boolean }> {
  const invalid = checkPromo(promo, now);
  if (invalid) throw invalid;
  const answer = await redemptionsOf(env, promo.id).redeem({
    promoCodeId: promo.id,
    bookingId,
    email: email.trim().toLowerCase(),
    maxUses: promo.maxUses,
    maxUsesPerEmail: promo.maxUsesPerEmail,
  });
  if (answer.ok) return { replayed: answer.replayed };
  if (answer.limit === "total") {
    throw new ApiError("PROMO_EXHAUSTED", `Promo code ${promo.code} has been used the maximum ${answer.maxUses} times`, {
      code: promo.code,
      limit: "total",
      maxUses: answer.maxUses,
      uses: answer.uses,
    });
  }
  throw new ApiError("PROMO_EXHAUSTED", `Promo code ${promo.code} may be used ${answer.maxUsesPerEmail} time(s) per email, and this email has used it up`, {
    code: promo.code,
    limit: "per_email",
    maxUsesPerEmail: answer.maxUsesPerEmail,
    usesByEmail: answer.usesByEmail,
  });
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

/** Gives back the use a booking took (when the booking or its payment fails); true if there was one. */
export async function releaseRedemption(env: Pick<Env, "PROMO_REDEMPTIONS">, promoId: string, bookingId: string): Promise<boolean> {
  return redemptionsOf(env, promoId).release(promoId, bookingId);
}

/** The code's uses as its object has decided them (D1's projection may not have them all yet). */
export function currentUses(env: Pick<Env, "PROMO_REDEMPTIONS">, promoId: string): Promise<number> {
  return redemptionsOf(env, promoId).uses(promoId);
}

/** How many times a promo has been redeemed (in total, or by one email), as D1's projection has it. */
export async function promoUses(db: Db, promoId: string, email?: string): Promise<number> {
  const redeemed = and(eq(promoRedemptions.promoCodeId, promoId), eq(promoRedemptions.status, "redeemed"));
  const [row] = await db
    .select({ uses: count() })
    .from(promoRedemptions)
    .where(email === undefined ? redeemed : and(redeemed, eq(promoRedemptions.email, email.trim().toLowerCase())));
  return row?.uses ?? 0;
}
