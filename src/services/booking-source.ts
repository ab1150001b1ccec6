/**
 * Where a booking came from (BOOKING_SOURCES, a closed list). What a request may claim depends on
 * who sends it: a customer or a guest books on the website; phone, email, walk-in and staff
 * bookings are made by staff for someone else; `waitlist` is only ever set by accepting an offer.
 */
import { BOOKING_SOURCES, type BookingSource } from "../db/schema";
import type { Principal } from "../env";
import { ApiError } from "../errors";
import { isStaff } from "./disclosure";

/** What the booking request may send as `source` (`waitlist` is set by the offer's acceptance, never sent). */
export const REQUESTABLE_SOURCES = BOOKING_SOURCES.filter((source): source is Exclude<BookingSource, "waitlist"> => source !== "waitlist");

/** The source recorded when none is sent: staff booking for someone are `staff`, everyone else `website`. */
export function bookingSourceOf(principal: Principal | undefined, requested: BookingSource | undefined, fromWaitlistOffer: boolean): BookingSource {
  if (fromWaitlistOffer) return "waitlist";
  return requested ?? (isStaff(principal) ? "staff" : "website");
}

/** 403 FORBIDDEN when a customer or guest claims a source only staff record (phone, email, walk_in, staff). */
export function assertMayRecordSource(principal: Principal | undefined, source: BookingSource, fromWaitlistOffer: boolean): void {
  if (isStaff(principal) || source === "website" || (source === "waitlist" && fromWaitlistOffer)) return;
  throw new ApiError("FORBIDDEN", `Only staff may record a booking's source as ${source}; customers book with source website`, {
    field: "source",
    allowed: ["website"],
  });
}
