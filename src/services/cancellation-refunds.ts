/**
 * The money back when a booking is cancelled: what was paid online and not yet refunded, less the
 * class's late-cancellation fee when a customer cancels after the free window (never when staff
 * cancel: the studio's decision costs the customer nothing). Money taken at the desk is handed back
 * at the desk: staff record that refund themselves (POST /admin/bookings/{id}/refunds), so nothing
 * here claims it was. Each payment's refund id derives from the booking and the payment, so a
 * repeated cancel refunds nothing twice; the customer is told by BOOKING_REFUNDED.
 */
import { cancellationCharge, type CancellationTerms } from "../domain/booking-terms";
import type { PaymentStatus } from "../domain/payments";
import { sha256Hex } from "../lib/tokens";
import type { Caller } from "./bookings";
import { refundBooking } from "./booking-payments";
import { ApiError } from "../errors";
import { closeOpenCheckouts } from "./payment-outcomes";
import { paymentsOfBooking } from "./payments/payments";
import { refundablePence } from "./payments/refunds";

/**
 * Refunds a cancelled booking's online payments under `terms` (null: a staff cancellation, in full).
 * Returns the booking's payment status after, or undefined when nothing was paid online. A provider
 * that does not answer leaves the cancellation standing: the refund is kept pending and logged.
 */
export async function refundCancelled(caller: Caller, bookingId: string, terms: CancellationTerms | null, by: string): Promise<PaymentStatus | undefined> {
  // Cancelled before paying: its checkout closes, so money that still arrives is refunded in full.
  await closeOpenCheckouts(caller.env, bookingId).catch((error: unknown) => {
    throw notDoneYet(bookingId, null, error, "its checkout could not be closed");
  });
  const all = await paymentsOfBooking(caller.db, bookingId);
  let status: PaymentStatus | undefined;
  for (const payment of all.filter((one) => one.provider !== "desk" && one.paidPence > 0)) {
    // What is left to refund, less refunds still being made (a staff refund in flight).
    const left = await refundablePence(caller.db, payment.id);
    const { feePence, refundPence } = cancellationCharge(terms?.feePercent ?? 0, left);
    if (refundPence <= 0) continue;
    const reason = feePence > 0 ? `cancelled late: ${terms!.feePercent}% (${feePence} pence) kept under the class's cancellation policy` : "booking cancelled";
    const seed = (await sha256Hex(`cancel\n${bookingId}\n${payment.id}`)).slice(0, 32);
    try {
      status = (await refundBooking(caller.env, caller.db, { bookingId, paymentId: payment.id, amountPence: refundPence, reason, requestedBy: by, seed })).booking.paymentStatus;
    } catch (error) {
      // Recorded and pending (the provider did not answer): the sweep asks again. Anything else is
      // told to the caller, so a repeat of the cancel (which changes nothing more) makes the refund.
      if (error instanceof ApiError && error.code === "PAYMENT_UNAVAILABLE" && error.details?.refundId) continue;
      throw notDoneYet(bookingId, payment.id, error, "its refund could not be made");
    }
  }
  return status;
}

/** The cancellation stands but its money is not settled: 503, and a repeat of the cancel finishes it. */
function notDoneYet(bookingId: string, paymentId: string | null, error: unknown, what: string): ApiError {
  console.error(JSON.stringify({ level: "error", msg: "cancellation's payment not settled", bookingId, paymentId, error: String(error) }));
  const unavailable = new ApiError("SERVICE_UNAVAILABLE", `The booking is cancelled, but ${what} just now: send the cancellation again shortly`, { retryAfterSeconds: 30, bookingId });
  unavailable.headers["Retry-After"] = "30";
  return unavailable;
}
