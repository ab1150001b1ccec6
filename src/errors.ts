/**
 * The one error shape of the API: `{"error": {"code", "message", "details", "requestId"}}`.
 * Codes are a closed, documented set; each maps to exactly one HTTP status.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  /** A provider's webhook whose signature or timestamp does not verify. */
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  // Sign-in and sessions
  /** The token names a session that was signed out or has expired: sign in again. */
  SESSION_ENDED: 401,
  /** A cookie-authenticated write from an origin that is not this service's (or a configured one). */
  CSRF_REFUSED: 403,
  SIGN_IN_LINK_INVALID: 400,
  SIGN_IN_LINK_USED: 410,
  SIGN_IN_LINK_EXPIRED: 410,
  /** The change would leave no admin. */
  LAST_ADMIN: 409,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  ALREADY_EXISTS: 409,
  IN_USE: 409,
  STAFF_DOUBLE_BOOKED: 409,
  /** A staff message with nothing to say: a cancelled booking's confirmation, a reminder with no session ahead. */
  NOTHING_TO_SEND: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STAFF_NOT_QUALIFIED: 422,
  INVALID_REFERENCE: 422,
  INVALID_SCHEDULE: 422,
  OCCURRENCE_LIMIT_EXCEEDED: 422,
  // Booking engine
  SESSION_NOT_FOUND: 404,
  SESSION_NOT_BOOKABLE: 409,
  /** The class's cancellation policy no longer lets the customer cancel online; the studio still can. */
  SELF_CANCELLATION_CLOSED: 409,
  NO_TRAINER: 409,
  SESSION_FULL: 409,
  INSUFFICIENT_CAPACITY: 409,
  RESOURCE_UNAVAILABLE: 409,
  DUPLICATE_BOOKING: 409,
  HOLD_EXPIRED: 409,
  /** A booking that cannot be moved so (cancelled, not in that session, another class, a move under way): `details.reason` says which. */
  MOVE_NOT_ALLOWED: 409,
  SEAT_LIMIT_EXCEEDED: 409,
  PROMO_EXHAUSTED: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  BOOKING_KIND_NOT_ALLOWED: 422,
  AMOUNT_MISMATCH: 422,
  INVALID_AMOUNT: 422,
  CURRENCY_NOT_SUPPORTED: 422,
  PROMO_INVALID: 422,
  PROMO_EXPIRED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  // Attendance (src/services/attendance.ts, src/services/participants.ts)
  /** Participants can no longer be renamed by the customer: the booking's first session has started, or the booking is cancelled. */
  PARTICIPANTS_LOCKED: 409,
  /** Too early to record attendance: check-in opens a while before the start, no-shows at the start; or the session is cancelled. */
  ATTENDANCE_NOT_OPEN: 409,
  // Group bookings (src/services/groups.ts)
  /** A booking's seats changed while a participant was being removed: read the group again. */
  SEATS_CHANGED: 409,
  // Waitlists
  WAITLIST_NOT_NEEDED: 409,
  WAITLIST_ENTRY_NOT_FOUND: 404,
  WAITLIST_LIMIT_EXCEEDED: 409,
  OFFER_NOT_AVAILABLE: 409,
  // Outgoing webhooks (src/services/webhooks.ts)
  /** A webhook URL that may not receive anything: not https (in production), credentials, a private, loopback or internal host. */
  WEBHOOK_URL_REFUSED: 400,
  /** A test send or redelivery to a disabled endpoint: enable it first. */
  WEBHOOK_ENDPOINT_DISABLED: 409,
  // Payments (src/services/payments)
  /** A payment provider's webhook whose signature or timestamp does not verify: 400, as Stripe expects (it retries other failures). */
  PAYMENT_SIGNATURE_INVALID: 400,
  /** A refund larger than what was paid less what was refunded (or is being refunded) already. */
  REFUND_EXCEEDS_PAID: 422,
  /** The provider refused the refund (a disputed or too old charge): nothing was refunded. */
  REFUND_REFUSED: 409,
  /** A refund for a booking that has received no money (src/services/booking-payments.ts). */
  NOTHING_TO_REFUND: 409,
  /** Marking a booking paid at the desk when its money already arrived (at the desk or online). */
  ALREADY_PAID: 409,
  /** Marking a booking paid at the desk when nothing is owed there: free, cancelled, or paying online (pending, failed). */
  PAYMENT_NOT_DUE: 409,
  /** No payment provider is configured (PAYMENT_PROVIDER none), or it could not be reached: try again. */
  PAYMENT_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  /** A CSV export whose first rows could not be read (nothing was sent): try again. See src/lib/csv.ts. */
  EXPORT_UNAVAILABLE: 503,
  // Live capacity WebSocket
  ORIGIN_NOT_ALLOWED: 403,
  UPGRADE_REQUIRED: 426,
  LIVE_CONNECTION_LIMIT: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** V8's Error, whose `stackTraceLimit` the Workers types leave out. */
const V8Error = Error as ErrorConstructor & { stackTraceLimit: number };

/** A failure the client can act on; thrown anywhere, turned into the error shape by `onError`. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** Headers the error response carries besides the usual (Retry-After, Idempotent-Replayed). */
  readonly headers: Record<string, string> = {};
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    // An answer, not a fault: nothing reads its stack, and capturing one is most of what a
    // refusal costs to make (a sold-out session refuses thousands a second).
    const stackTraceLimit = V8Error.stackTraceLimit;
    V8Error.stackTraceLimit = 0;
    super(message);
    V8Error.stackTraceLimit = stackTraceLimit;
    this.name = "ApiError";
    this.status = ERROR_STATUS[code];
  }
}

/** Shorthand for the common 404. */
export function notFound(what: string, id: string): ApiError {
  return new ApiError("NOT_FOUND", `${what} ${id} was not found`, { resource: what, id });
}
