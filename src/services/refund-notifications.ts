/**
 * Telling the customer about money given back: one BOOKING_REFUNDED message per refund, with the
 * request id `booking-refunded:<refundId>`, so a retried refund (or the same refund reported twice)
 * sends once. For every refund of a booking, whoever made it: staff (src/services/booking-payments.ts)
 * or the booking side's automatic refunds.
 */
import type { ConfigSource } from "../config";
import type { Db } from "../db/client";
import type { Env } from "../env";
import { classPlace } from "./booking-context";
import { bookingAddressing } from "./booking-notifications";
import { getBooking } from "./booking-views";
import { currentManageToken } from "./manage-tokens";
import { type NotificationRequest, queueNotifications, type TypedNotificationRequest } from "./notifications";
import { paymentsOfBooking } from "./payments/payments";
import type { RefundView } from "./payments/records";

export type RefundNotificationEnv = Pick<Env, "NOTIFICATIONS" | "SESSION" | "COORDINATOR"> & ConfigSource;

/** The deterministic request id of a refund's message. */
export const refundNotificationId = (refundId: string) => `booking-refunded:${refundId}`;

/**
 * Queues the customer's message about `refund` of the booking. Only a refund that succeeded is
 * told (a pending one may still fail; telling it once it succeeds uses the same id). Never throws:
 * a message that cannot be built or queued is logged, and the refund stands.
 */
export async function notifyRefund(env: RefundNotificationEnv, db: Db, input: { bookingId: string; refund: RefundView }): Promise<void> {
  const { bookingId, refund } = input;
  try {
    if (refund.status !== "succeeded") return;
    const request = await refundNotification(env, db, bookingId, refund);
    if (request) await queueNotifications(env, [request]);
    else console.warn(JSON.stringify({ level: "warn", msg: "refund notification not sent: booking or class unknown", bookingId, refundId: refund.id }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not build refund notification", bookingId, refundId: refund.id, error: String(error) }));
  }
}

/** The request for a refund, or undefined when the booking or its class is unknown. */
export async function refundNotification(env: RefundNotificationEnv, db: Db, bookingId: string, refund: RefundView): Promise<NotificationRequest | undefined> {
  const booking = await getBooking(env, db, bookingId);
  if (!booking) return undefined;
  const [place, payments, manageToken] = await Promise.all([classPlace(db, booking.classId), paymentsOfBooking(db, bookingId), currentManageToken(env, db, bookingId)]);
  if (!place) return undefined;
  const paidPence = payments.reduce((sum, payment) => sum + payment.paidPence, 0);
  const refundedPence = payments.reduce((sum, payment) => sum + payment.refundedPence, 0);
  const request: TypedNotificationRequest<"BOOKING_REFUNDED"> = {
    id: refundNotificationId(refund.id),
    kind: "BOOKING_REFUNDED",
    ...bookingAddressing(booking),
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      amountPence: refund.amountPence,
      currency: "GBP",
      reason: refund.reason,
      sessions: booking.lines.map((line) => ({ sessionId: line.sessionId, startsAt: line.startsAt })),
      ...(paidPence > 0 && { paidPence, refundedPence }),
      atDesk: payments.find((payment) => payment.id === refund.paymentId)?.provider === "desk",
      manageLinkPath: `/api/v1/bookings/${encodeURIComponent(booking.id)}?token=${manageToken}`,
    },
    requestedAt: Date.now(),
  };
  return request;
}
