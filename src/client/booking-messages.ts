/**
 * What to tell a customer when a quote, a hold or a booking is refused: the API's code, made
 * specific with its details where that helps them act (how many seats are left, which equipment
 * ran out, when to try again). Anything not special here gets the shared customer sentence
 * (src/client/customer-api.ts `messageFor`).
 */
import { messageFor } from "./customer-api";

export interface ApiFailure {
  code?: string | undefined;
  message?: string | undefined;
  status: number;
  body: unknown;
}

/** Field names as the form calls them, for VALIDATION_FAILED paths. */
const FIELD_NAMES: Record<string, string> = {
  "contact.email": "email",
  "contact.firstName": "first name",
  "contact.lastName": "last name",
  "contact.phone": "phone number",
  guestCount: "number of people",
  promoCode: "promo code",
  sessionId: "session",
  sessionIds: "sessions",
  patternId: "course",
};

function detailsOf(failure: ApiFailure): Record<string, unknown> {
  const error = (failure.body as { error?: { details?: Record<string, unknown>; message?: string } } | undefined)?.error;
  return error?.details ?? {};
}

/** The form fields a VALIDATION_FAILED names (as API paths). */
export function invalidFields(failure: ApiFailure): string[] {
  const issues = detailsOf(failure).issues;
  return Array.isArray(issues) ? issues.map((issue) => String((issue as { path?: unknown }).path ?? "")).filter(Boolean) : [];
}

export function bookingMessage(failure: ApiFailure): string {
  const details = detailsOf(failure);
  switch (failure.code) {
    case "SESSION_FULL":
      return "Sorry, this session is now full. You can join its waitlist, or pick another session.";
    case "INSUFFICIENT_CAPACITY":
      return `Only ${String(details.availableSpots ?? "a few")} seat(s) are left, and you asked for ${String(details.requested ?? "more")}. Choose fewer people or another session.`;
    case "RESOURCE_UNAVAILABLE":
      return `There is not enough ${String(details.name ?? "equipment")} for that many people (${String(details.needed ?? "?")} needed, ${String(details.available ?? "?")} left). Choose fewer people or another session.`;
    case "SEAT_LIMIT_EXCEEDED":
      return `One person may take at most ${String(details.limit ?? "a few")} seat(s) in this session. Choose fewer people.`;
    case "DUPLICATE_BOOKING":
      return details.existing === "hold"
        ? "Seats are already held for this email in this session. Confirm that checkout, or wait a few minutes for it to be released and try again."
        : "This email already has a booking for this session. Check your confirmation email or My bookings.";
    case "NO_TRAINER":
      return "No qualified instructor is confirmed for this yet, so it cannot be booked. Use “Notify me” to hear when it can.";
    case "SESSION_NOT_BOOKABLE":
      return details.reason === "cancelled" ? "This session has been cancelled, so it cannot be booked." : "This session has already started, so it can no longer be booked.";
    case "HOLD_EXPIRED":
      return "The time to confirm ran out and your seats were released. Check your choice and hold them again.";
    case "AMOUNT_MISMATCH":
      return "The price changed while you were booking. The new price is shown; check it and confirm again.";
    case "RATE_LIMITED": {
      const wait = Number(details.retryAfterSeconds);
      return `Too many attempts just now. Please wait ${Number.isFinite(wait) && wait > 0 ? `${wait} seconds` : "a minute"} and try again.`;
    }
    case "FORBIDDEN":
      return "You are signed in, so you can only book for your own email address. Sign out to book for someone else.";
    case "VALIDATION_FAILED": {
      const fields = [...new Set(invalidFields(failure).map((path) => FIELD_NAMES[path] ?? path))];
      return fields.length > 0 ? `Please check the ${fields.join(", ")}.` : messageFor(failure.code, failure.message);
    }
    case "BOOKING_KIND_NOT_ALLOWED":
      return "This class cannot be booked that way. Choose another option.";
    case "SESSION_NOT_FOUND":
      return "That session no longer exists. Reload the page to see the current dates.";
    default:
      return messageFor(failure.code, failure.message);
  }
}
