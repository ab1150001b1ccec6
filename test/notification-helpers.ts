/** A booking-confirmation request as the booking path queues it, for tests of the notifications consumer. */
import type { NotificationRequest } from "../src/services/notifications";
import { unique } from "./helpers";

export function confirmationRequest(email: string): NotificationRequest {
  const bookingId = `bkg_test_${unique()}`;
  return {
    id: `booking-confirmed:${bookingId}`,
    kind: "BOOKING_CONFIRMED",
    recipient: { email, firstName: "Ada", lastName: "Lovelace" },
    channel: "email",
    bookingId,
    data: { className: "Wheel basics", sessions: [{ startsAt: "2030-03-16T18:00:00Z" }], seats: 1, totalAmountPence: 2500, manageLinkPath: `/api/v1/bookings/${bookingId}?token=t0k3n` },
    requestedAt: Date.now(),
  };
}
