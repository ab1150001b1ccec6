/**
 * A booking's status as customers and staff see it. D1's bookings are confirmed or cancelled (the
 * projection of what the sessions' objects committed); a booking paid online is `pending_payment`
 * first, its seats held until the payment succeeds, and `expired` if its checkout closes unpaid.
 */
export const BOOKING_STATUSES_SHOWN = ["pending_payment", "confirmed", "cancelled", "expired"] as const;
export type BookingStatus = (typeof BOOKING_STATUSES_SHOWN)[number];
