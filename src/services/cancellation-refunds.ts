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
import { closeCheckout, paymentsOfBooking } from "./payments/payments";

/**
 * Refunds a cancelled booking's online payments under `terms` (null: a staff cancellation, in full).
 * Returns the booking's payment status after, or undefined when nothing was paid online. A provider
 * that does not answer leaves the cancellation standing: the refund is kept pending and logged.
 */
export async function refundCancelled(caller: Caller, bookingId: string, terms: CancellationTerms | null, by: string): Promise<PaymentStatus | undefined> {
  const all = await paymentsOfBooking(caller.db, bookingId);
  // Cancelled before paying: its checkout closes, so money that still arrives is refunded in full.
  for (const open of all.filter((payment) => payment.status === "pending" || payment.status === "unpaid")) {
    await closeCheckout(caller.env, open.id, { reason: "cancelled" }).catch((error: unknown) => {
      console.error(JSON.stringify({ level: "error", msg: "could not close a cancelled booking's checkout", bookingId, paymentId: open.id, error: String(error) }));
    });
  }
  const paid = all.filter((payment) => payment.provider !== "desk" && payment.paidPence > payment.refundedPence);
  let status: PaymentStatus | undefined;
  for (const payment of paid) {
    const left = payment.paidPence - payment.refundedPence;
    const { feePence, refundPence } = cancellationCharge(terms?.feePercent ?? 0, left);
    if (refundPence <= 0) continue;
    const reason = feePence > 0 ? `cancelled late: ${terms!.feePercent}% (${feePence} pence) kept under the class's cancellation policy` : "booking cancelled";
    try {
      const seed = (await sha256Hex(`cancel\n${bookingId}\n${payment.id}`)).slice(0, 32);
      const result = await refundBooking(caller.env, caller.db, { bookingId, paymentId: payment.id, amountPence: refundPence, reason, requestedBy: by, seed });
      status = result.booking.paymentStatus;
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "cancellation refund not made", bookingId, paymentId: payment.id, error: String(error) }));
    }
  }
  return status;
}
