/**
 * The confirmation page (GET /bookings/{id}/confirmed?token=…): what was booked, for whom, the
 * total, the link to manage the booking and the calendar file. The same facts the class page
 * shows in place after booking; this one can be bookmarked (the token is the key to it).
 */
import { Layout, type LayoutProps } from "./layout";
import { localTime } from "./format";
import { PriceFacts } from "./facts";
import type { BookingStatus } from "../domain/booking-status";

export interface ConfirmedProps {
  user: LayoutProps["user"];
  booking: {
    id: string;
    status: BookingStatus;
    className: string;
    studioName: string;
    timeZone: string;
    guestCount: number;
    email: string;
    name: string;
    lines: { sessionId: string; startsAt: string; status: string }[];
    subtotalPence: number;
    discountPence: number;
    totalAmountPence: number;
    /** The class's cancellation policy in words. */
    cancellationPolicy: string;
  };
  manageHref: string;
  calendarHref: string;
}

export function BookingConfirmedPage({ user, booking, manageHref, calendarHref }: ConfirmedProps) {
  return (
    <Layout title={TITLE[booking.status]} user={user}>
      <StatusNotice status={booking.status} email={booking.email} />
      <section class="card" aria-labelledby="summary-heading" data-testid="booking-summary">
        <h2 id="summary-heading">{booking.className}</h2>
        <dl class="facts">
          <dt>Booking</dt>
          <dd id="booking-id">{booking.id}</dd>
          <dt>Where</dt>
          <dd>{booking.studioName}</dd>
          <dt>When</dt>
          <dd>
            <ul class="plain">
              {booking.lines.map((line) => (
                <li>
                  <time datetime={line.startsAt}>{localTime(line.startsAt, booking.timeZone)}</time>
                  {line.status === "cancelled" ? <span class="muted"> (cancelled)</span> : null}
                </li>
              ))}
            </ul>
          </dd>
          <dt>People</dt>
          <dd>{booking.guestCount}</dd>
          <dt>Name</dt>
          <dd>{booking.name}</dd>
          <PriceFacts subtotalPence={booking.subtotalPence} discountPence={booking.discountPence} totalPence={booking.totalAmountPence} />
          <dt>Cancellation</dt>
          <dd data-testid="cancellation-policy">{booking.cancellationPolicy}</dd>
        </dl>
      </section>
      <p class="actions">
        <a class="button" href={manageHref} id="manage-link">
          Manage this booking
        </a>{" "}
        <a class="button secondary" href={calendarHref} id="calendar-link" download>
          Add to calendar
        </a>
      </p>
      <p class="muted">Keep the manage link: it lets you see or cancel this booking without signing in.</p>
    </Layout>
  );
}

const TITLE: Record<BookingStatus, string> = { confirmed: "You are booked", cancelled: "Booking cancelled", pending_payment: "Waiting for your payment", expired: "Booking not completed" };

/** What the booking's status means for the customer, said once at the top. */
function StatusNotice({ status, email }: { status: BookingStatus; email: string }) {
  switch (status) {
    case "confirmed":
      return <p class="success" data-testid="booking-notice">Your booking is confirmed. We have emailed the details to {email}.</p>;
    case "cancelled":
      return <p class="notice" data-testid="booking-notice">This booking has been cancelled.</p>;
    case "pending_payment":
      // The provider tells us by webhook, usually within seconds of the customer paying: reloading shows it.
      return <p class="notice" data-testid="booking-notice" role="status">Your seats are held while we wait for the payment to come through. Reload this page in a moment to see it confirmed.</p>;
    case "expired":
      return <p class="notice" data-testid="booking-notice">This booking was not completed: the payment did not arrive before the seats' hold ended. Nothing was charged, or the money is on its way back.</p>;
  }
}

/** The confirmation link did not open a booking: wrong or missing token, or no such booking. */
export function BookingNotOpenPage({ user, message }: { user: LayoutProps["user"]; message: string }) {
  return (
    <Layout title="Booking not found" user={user}>
      <p class="error" role="alert">
        {message}
      </p>
      <p>
        <a href="/">Back to the classes</a>
      </p>
    </Layout>
  );
}

/**
 * Back from the payment provider's checkout (GET /bookings/{id}/return). It shows nothing of the
 * booking: the browser that booked kept the manage token and opens the confirmation with it
 * (src/client/reopen-booking.ts); anyone else is pointed to the confirmation email.
 */
export function CheckoutReturnPage({ user, bookingId }: { user: LayoutProps["user"]; bookingId: string }) {
  return (
    <Layout title="Finishing your booking" user={user}>
      <p role="status" data-reopen-booking={bookingId}>
        Opening your booking…
      </p>
      <p class="muted">If nothing happens, use the link in the email we sent you, or sign in with the address you booked with to see it under My bookings.</p>
    </Layout>
  );
}
