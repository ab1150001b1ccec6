/**
 * Manage a booking (`/bookings/{id}`): what was booked, in the studio's time, what it cost, a
 * calendar file, and cancelling. The cancel button is wired by src/client/cancel-booking.ts, which
 * calls POST /api/v1/bookings/{id}/cancel with the same manage token this page was opened with.
 */
import { localTime } from "./format";
import { PriceFacts } from "./facts";
import { Layout, type LayoutProps } from "./layout";
import type { BookingStatus } from "../domain/booking-status";

export interface ManagedBooking {
  id: string;
  status: BookingStatus;
  className: string;
  studioName: string;
  timeZone: string;
  customerName: string;
  customerEmail: string;
  seats: number;
  lines: Array<{ sessionId: string; startsAt: string; endsAt: string; status: "confirmed" | "cancelled" }>;
  subtotalPence: number;
  discountPence: number;
  totalPence: number;
  confirmedAt: string;
  cancelledAt: string | null;
  /** The class's cancellation policy in words. */
  cancellationPolicy: string;
}

export interface ManageBookingProps {
  booking: ManagedBooking;
  /** The manage token the page was opened with, if any (a signed-in owner or staff need none). */
  token?: string | undefined;
  /** Whether the cancel route will take a cancellation from this visitor now. */
  cancellable: boolean;
  user?: LayoutProps["user"];
}

const STATUS_TEXT: Record<BookingStatus, string> = { confirmed: "Confirmed", cancelled: "Cancelled", pending_payment: "Waiting for payment", expired: "Not completed" };

export function ManageBookingPage({ booking, token, cancellable, user }: ManageBookingProps) {
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const seats = booking.seats === 1 ? "1 seat" : `${booking.seats} seats`;
  return (
    <Layout title={`Your booking: ${booking.className}`} user={user}>
      <section aria-labelledby="summary-heading" class="card" id="booking-summary" data-booking-id={booking.id}>
        <h2 id="summary-heading">Summary</h2>
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <span id="booking-status" data-testid="booking-status" data-status={booking.status} class={`badge ${booking.status === "confirmed" ? "ok" : "full"}`}>
              {STATUS_TEXT[booking.status]}
            </span>
          </dd>
          <dt>Class</dt>
          <dd>{booking.className}</dd>
          <dt>Studio</dt>
          <dd>{booking.studioName}</dd>
          <dt>Seats</dt>
          <dd id="booking-seats">{seats}</dd>
          <dt>Booked for</dt>
          <dd>
            {booking.customerName} ({booking.customerEmail})
          </dd>
          <PriceFacts subtotalPence={booking.subtotalPence} discountPence={booking.discountPence} totalPence={booking.totalPence} />
          <dt>Cancellation</dt>
          <dd data-testid="cancellation-policy">{booking.cancellationPolicy}</dd>
          <dt>Reference</dt>
          <dd>
            <code>{booking.id}</code>
          </dd>
        </dl>
      </section>

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">{booking.lines.length === 1 ? "Session" : "Sessions"}</h2>
        <ul id="booking-sessions">
          {booking.lines.map((line) => (
            <li data-session-line={line.sessionId}>
              <time datetime={line.startsAt}>{localTime(line.startsAt, booking.timeZone)}</time>
              {" – "}
              <time datetime={line.endsAt}>{localTime(line.endsAt, booking.timeZone)}</time>
              {line.status === "cancelled" ? <span class="badge full">Cancelled</span> : null}
            </li>
          ))}
        </ul>
        <p>
          <a id="calendar-link" href={`/api/v1/bookings/${encodeURIComponent(booking.id)}/calendar.ics${query}`} download>
            Add to calendar (.ics)
          </a>
        </p>
      </section>

      <section aria-labelledby="cancel-heading" id="cancel-section">
        <h2 id="cancel-heading">Cancel</h2>
        {booking.status === "cancelled" ? (
          <p id="cancelled-note">This booking was cancelled{booking.cancelledAt ? ` on ${localTime(booking.cancelledAt, booking.timeZone)}` : ""}.</p>
        ) : cancellable ? (
          <div data-cancel-booking={booking.id} data-manage-token={token ?? ""}>
            <p>Cancelling frees your seats for someone else at once. It cannot be undone.</p>
            <p>
              <button type="button" id="cancel-booking" class="secondary">
                Cancel this booking
              </button>
            </p>
            <div id="cancel-confirm-panel" hidden>
              <p>Are you sure you want to cancel this booking?</p>
              <p class="actions">
                <button type="button" id="cancel-confirm">
                  Yes, cancel it
                </button>{" "}
                <button type="button" id="cancel-keep" class="secondary">
                  No, keep it
                </button>
              </p>
            </div>
            <p id="cancel-result" role="status" aria-live="polite" tabindex={-1}></p>
          </div>
        ) : (
          <p id="not-cancellable">This booking can no longer be cancelled online: the first session has started, or the cancellation policy above no longer allows it. Please contact the studio.</p>
        )}
      </section>
    </Layout>
  );
}

export type BookingUnavailableReason = "no-credential" | "forbidden" | "not-found";

const UNAVAILABLE: Record<BookingUnavailableReason, { title: string; text: string }> = {
  "no-credential": { title: "Open your booking", text: "Open this page from the link in your booking confirmation email, or sign in with the email address you booked with." },
  forbidden: { title: "This link does not open this booking", text: "The link may be incomplete or no longer valid. Use the newest link from your confirmation email, or sign in with the email address you booked with." },
  "not-found": { title: "Booking not found", text: "We could not find this booking. Check the link in your confirmation email." },
};

export function BookingUnavailablePage({ reason, signInHref, user }: { reason: BookingUnavailableReason; signInHref: string; user?: LayoutProps["user"] }) {
  const { title, text } = UNAVAILABLE[reason];
  return (
    <Layout title={title} user={user}>
      <p id="booking-unavailable" data-reason={reason}>
        {text}
      </p>
      <p>
        {user ? <a href="/me">See my bookings</a> : <a href={signInHref}>Sign in</a>}
        {" · "}
        <a href="/">Browse classes</a>
      </p>
    </Layout>
  );
}
