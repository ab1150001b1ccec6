/**
 * When a customer may still cancel a booking themselves: while it stands and its class's
 * cancellation policy allows it (at the latest until the first session starts; staff may cancel at
 * any time). The cancel route (src/services/cancellations.ts), the portal and the manage page all
 * ask this, so the pages only offer what that route will do. Pure.
 */
import { type CancellationPolicy, cancellationTermsAt, OPEN_POLICY } from "./booking-terms";

/** True while a confirmed booking may still be cancelled by its customer under `policy`. */
export function customerMayCancel(booking: { status: "confirmed" | "cancelled"; startsAt: readonly number[] }, now: number, policy: CancellationPolicy = OPEN_POLICY): boolean {
  if (booking.status !== "confirmed" || booking.startsAt.length === 0) return false;
  return cancellationTermsAt(policy, Math.min(...booking.startsAt), now).selfCancellable;
}
