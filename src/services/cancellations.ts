/**
 * Cancelling a booking: every line in every session it covers, freeing the seats at once. The
 * sessions' objects record the attempt and queue the BOOKING_CANCELLED message with the change;
 * the answer is built from what was cancelled, so it does not wait for D1.
 */
import { type CancellationPolicy, type CancellationWindow, cancellationTermsAt, describeCancellationPolicy, OPEN_POLICY } from "../domain/booking-terms";
import { ApiError } from "../errors";
import { Attempt } from "./audit";
import type { CancellationData } from "./attempt-subject";
import { bookingNotification } from "./booking-notifications";
import type { BookingView } from "./booking-views";
import { classPlace } from "./booking-context";
import { type Caller, isStaff, whoAttempts } from "./bookings";
import { cancelAll, committedSessionIds } from "./seat-coordinator";
import { fullSessions } from "./edge-cache";
import { keyOf, settle } from "./keyed-writes";
import { locateBooking, moveLedgerOf } from "./session-client";
import { refundCancelled } from "./cancellation-refunds";

/**
 * Cancels every line of a booking. Customers (and manage tokens) may cancel as the class's
 * cancellation policy allows (at the latest until the first session starts); staff at any time. Idempotent.
 */
export async function cancelBooking(caller: Caller, booking: BookingView): Promise<BookingView & { replayed?: boolean }> {
  const attempt = new Attempt({
    kind: "cancellation",
    bookingId: booking.id,
    registrationType: booking.registrationType,
    sessionIds: booking.lines.map((line) => line.sessionId),
    email: booking.customer.email,
    guestCount: booking.guestCount,
    amountPence: booking.totalAmountPence,
    expectedAmountPence: null,
    currency: booking.currency,
    promoCode: null,
    source: booking.source,
    ...whoAttempts(caller, "manage-token"),
  });
  return attempt.run(caller.env, async () => {
    // A moved booking keeps its cancelled source line: the policy counts from the lines still booked.
    const live = booking.lines.filter((line) => line.status === "confirmed");
    const startsAt = (live.length > 0 ? live : booking.lines).map((line) => Date.parse(line.startsAt));
    // D1 may not have every line yet (a session still confirming from its coordinator's commit):
    // cancel in every session the commit covered as well.
    const place = locateBooking(booking.id);
    const coordinator = place && "coordinator" in place ? place.coordinator : null;
    const reservationId = booking.holdId ?? booking.id;
    const [committed, classAndStudio, ledger] = await Promise.all([
      committedSessionIds(caller.env, coordinator, booking.id),
      classPlace(caller.db, booking.classId),
      booking.status === "cancelled" ? null : (await moveLedgerOf(caller.env, booking.id)).moveLedger(),
    ]);
    // A move being finished would confirm its new seat after this cancel: wait for it to end.
    if (ledger?.pending) throw moveInProgress(booking.id);
    // Confirmed lines first: the first session sends the message and keeps the key's record.
    const sessionIds = [...new Set([...live.map((line) => line.sessionId), ...booking.lines.map((line) => line.sessionId), ...committed])];
    const now = Date.now();
    // The class's policy binds a customer's own cancellation, never the studio's.
    const terms = isStaff(caller.principal) ? null : cancellationTermsAt(classAndStudio?.cancellationPolicy ?? OPEN_POLICY, Math.min(...startsAt), now);
    if (booking.status !== "cancelled" && terms && !terms.selfCancellable) throw selfCancellationRefused(terms.window, classAndStudio?.cancellationPolicy ?? OPEN_POLICY);
    const confirmedAt = Date.parse(booking.confirmedAt);
    if (booking.status !== "cancelled") {
      attempt.note({
        subject: {
          classId: booking.classId,
          studioId: classAndStudio?.studioId ?? null,
          cityId: classAndStudio?.cityId ?? null,
          customerId: booking.customer.id,
          sessionIds,
          data: {
            confirmedAt,
            minutesSinceConfirmation: Math.floor((now - confirmedAt) / 60_000),
            minutesBeforeStart: Math.floor((Math.min(...startsAt) - now) / 60_000),
            ...(terms ? { policyWindow: terms.window, feePercent: terms.feePercent } : {}),
          } satisfies CancellationData,
        },
      });
    }
    const cancelledView: BookingView = {
      ...booking,
      status: "cancelled",
      cancelledAt: booking.cancelledAt ?? new Date(now).toISOString(),
      lines: booking.lines.map((line) => ({ ...line, status: "cancelled" as const })),
    };
    // The request id makes it one message, also for a repeat cancel (a lost first send is made good).
    const notification = await bookingNotification(caller.env, caller.db, "BOOKING_CANCELLED", cancelledView, classAndStudio);
    const key = keyOf(caller);
    const answer = await cancelAll(caller.env, sessionIds.map((id) => ({ id })), {
      bookingId: booking.id,
      reservationId,
      audit: attempt.toObject(),
      notifications: notification ? [notification] : [],
      idempotency: key,
      response: JSON.stringify(cancelledView),
    });
    for (const id of sessionIds) fullSessions.delete(id);
    const settled = answer ? settle(answer, cancelledView, {}, key) : cancelledView;
    // After the seats are free: money back under the policy (a repeat finds the same refunds).
    const paymentStatus = await refundCancelled(caller, booking.id, terms, caller.principal?.subject ?? "customer");
    return paymentStatus ? { ...settled, paymentStatus } : settled;
  });
}

/** A move of the booking is being finished: a cancellation now could miss its new seat. */
function moveInProgress(bookingId: string): ApiError {
  const error = new ApiError("MOVE_NOT_ALLOWED", "The booking is being moved just now; cancel it again in a few seconds", { reason: "in_progress", bookingId, retryAfterSeconds: 5 });
  error.headers["Retry-After"] = "5";
  return error;
}

/** Why a customer may not cancel (or move) themselves now: the session has started, or the policy's cutoff has passed. */
export function selfCancellationRefused(window: CancellationWindow, policy: CancellationPolicy): ApiError {
  if (window === "started") return new ApiError("SESSION_NOT_BOOKABLE", "The booking's first session has started; ask the studio to cancel", { reason: "started" });
  return new ApiError("SELF_CANCELLATION_CLOSED", `This booking can no longer be cancelled online: ${describeCancellationPolicy(policy)}`, {
    reason: "policy",
    selfCancelCutoffHours: policy.selfCancelCutoffHours,
  });
}
