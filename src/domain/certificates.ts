/**
 * Certificates of completion, the pure rules: who completed a class (the share of a booking's
 * sessions they were checked in at), a certificate's expiry and validity at an instant, its
 * number, and which session can renew it. Time is UTC epoch milliseconds.
 */

/** The longest validity a class may give (about 50 years): far beyond any real certification. */
export const MAX_CERTIFICATE_VALIDITY_DAYS = 18_250;
const DAY_MS = 86_400_000;
/** A renewal session may start this long after the certificate expires ("soon after"). */
export const RENEWAL_SESSION_GRACE_MS = 14 * DAY_MS;

export type CertificateValidity = "valid" | "expiring" | "expired" | "revoked";

/** Whole percent of `total` sessions attended, rounded down (so 2 of 3 is 66, not 67). */
export function attendedPercent(attended: number, total: number): number {
  if (total <= 0) return 0;
  return Math.floor((Math.min(attended, total) * 100) / total);
}

/** Whether attending `attended` of `total` sessions completes a class that asks for `requiredPercent`. */
export function completes(attended: number, total: number, requiredPercent: number): boolean {
  // Compared in integers: attended / total >= required / 100.
  return total > 0 && attended > 0 && Math.min(attended, total) * 100 >= requiredPercent * total;
}

/** The percent a class asks for: its own, else the studio-wide default. */
export function requiredPercentOf(classPercent: number | null, defaultPercent: number): number {
  return classPercent ?? defaultPercent;
}

/** When a certificate issued at `issuedAt` expires: null for a class whose certificates never do (0 days). */
export function expiryOf(issuedAt: number, validityDays: number): number | null {
  return validityDays === 0 ? null : issuedAt + validityDays * DAY_MS;
}

/**
 * A certificate's validity at `now`: revoked whatever the dates; expired from its expiry instant
 * on; expiring within `reminderMs` before it; else valid. A certificate that never expires is valid.
 */
export function validityAt(certificate: { status: "valid" | "revoked"; expiresAt: number | null }, now: number, reminderMs: number): CertificateValidity {
  if (certificate.status === "revoked") return "revoked";
  if (certificate.expiresAt === null) return "valid";
  if (now >= certificate.expiresAt) return "expired";
  return now >= certificate.expiresAt - reminderMs ? "expiring" : "valid";
}

/** The bounds on `expires_at` that select a validity at `now` (for queries; revoked is by status). */
export function expiryBounds(validity: "valid" | "expiring" | "expired", now: number, reminderMs: number): { after?: number; before?: number; orNever?: boolean } {
  switch (validity) {
    case "expired":
      return { before: now + 1 };
    case "expiring":
      return { after: now, before: now + reminderMs + 1 };
    case "valid":
      return { after: now + reminderMs, orNever: true };
  }
}

/** The printed number's prefix for a year: numbers run `CERT-2026-0000001`, `CERT-2026-0000002`, … */
export function numberPrefix(issuedAt: number): string {
  return `CERT-${new Date(issuedAt).getUTCFullYear()}-`;
}

/** Digits of a number's sequence part (zero-padded so that text order is number order). */
export const NUMBER_DIGITS = 7;

export function certificateNumber(issuedAt: number, sequence: number): string {
  return `${numberPrefix(issuedAt)}${String(sequence).padStart(NUMBER_DIGITS, "0")}`;
}

/** When a holder is reminded: `reminderMs` before expiry (never for a certificate that does not expire). */
export function reminderDueAt(expiresAt: number | null, reminderMs: number): number | null {
  return expiresAt === null ? null : expiresAt - reminderMs;
}

/** The window a renewal session must start in: after now, and no later than soon after the expiry. */
export function renewalWindow(expiresAt: number, now: number): { startsAfter: number; startsBefore: number } {
  return { startsAfter: now, startsBefore: expiresAt + RENEWAL_SESSION_GRACE_MS };
}

/**
 * How long a renewal offer holds its seat: `offerMs`, but never past the session's start (a hold
 * for a session that has begun books nothing).
 */
export function offerExpiry(now: number, offerMs: number, sessionStartsAt: number): number {
  return Math.min(now + offerMs, sessionStartsAt);
}

/** Notification and event ids: deterministic, so a repeated run sends nothing twice. */
export const certificateIssuedId = (certificateId: string) => `certificate-issued:${certificateId}`;
export const renewalReminderId = (certificateId: string) => `certificate-renewal:${certificateId}`;
export const renewalOfferId = (offerId: string) => `renewal-offer:${offerId}`;
