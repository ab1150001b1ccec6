/**
 * When a customer may still cancel a booking themselves: while it stands and its first session
 * has not started (staff may cancel at any time). The cancel route (src/services/cancellations.ts)
 * and the portal both ask this, so the portal only offers what that route will do. Pure.
 */

/** True while a confirmed booking's first session is still to come. */
export function customerMayCancel(booking: { status: "confirmed" | "cancelled"; startsAt: readonly number[] }, now: number): boolean {
  if (booking.status !== "confirmed" || booking.startsAt.length === 0) return false;
  return Math.min(...booking.startsAt) > now;
}
