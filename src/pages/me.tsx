/**
 * My bookings (`/me`, signed in): upcoming and past bookings with their manage and calendar
 * links, waitlist places, and the private calendar feed with a button to replace its URL
 * (src/client/calendar-feed.ts calls POST /api/v1/me/calendar-feed/rotate).
 */
import { localTime, pounds } from "./format";
import { Layout, type LayoutProps } from "./layout";

export interface MyBooking {
  id: string;
  status: "confirmed" | "cancelled";
  className: string;
  studioName: string;
  timeZone: string;
  seats: number;
  sessions: Array<{ startsAt: string; status: string }>;
  totalPence: number;
  cancellable: boolean;
}

export interface MyWaitlistEntry {
  id: string;
  sessionId: string;
  className: string;
  studioName: string;
  timeZone: string;
  startsAt: string;
  seats: number;
  status: string;
  confirmed: boolean | null;
  position: number | null;
  offerExpiresAt: string | null;
  bookingId: string | null;
}

export interface MePageProps {
  user: NonNullable<LayoutProps["user"]>;
  upcoming: MyBooking[];
  past: MyBooking[];
  waitlist: MyWaitlistEntry[];
  calendarFeedUrl: string;
}

function BookingItem({ booking }: { booking: MyBooking }) {
  const first = booking.sessions[0];
  const more = booking.sessions.length - 1;
  const href = `/bookings/${encodeURIComponent(booking.id)}`;
  return (
    <li class="card" data-booking-id={booking.id}>
      <h3>
        <a href={href}>{booking.className}</a>
      </h3>
      <p>
        {booking.studioName}
        {first ? (
          <>
            {", "}
            <time datetime={first.startsAt}>{localTime(first.startsAt, booking.timeZone)}</time>
            {more > 0 ? ` and ${more} more session${more === 1 ? "" : "s"}` : ""}
          </>
        ) : null}
      </p>
      <p>
        {booking.seats === 1 ? "1 seat" : `${booking.seats} seats`} · {pounds(booking.totalPence)} ·{" "}
        <span class={`badge ${booking.status === "confirmed" ? "ok" : "full"}`}>{booking.status === "confirmed" ? "Confirmed" : "Cancelled"}</span>
      </p>
      <p>
        <a href={href} data-testid="manage-link">
          {booking.cancellable ? "Manage or cancel" : "View booking"}
        </a>
        {" · "}
        <a href={`/api/v1/bookings/${encodeURIComponent(booking.id)}/calendar.ics`} download data-testid="calendar-link">
          Add to calendar
        </a>
      </p>
    </li>
  );
}

function BookingList({ id, bookings, empty }: { id: string; bookings: MyBooking[]; empty: string }) {
  return bookings.length === 0 ? (
    <p id={`${id}-empty`} class="muted">
      {empty}
    </p>
  ) : (
    <ul class="cards" id={id}>
      {bookings.map((booking) => (
        <BookingItem booking={booking} />
      ))}
    </ul>
  );
}

function waitlistState(entry: MyWaitlistEntry): string {
  switch (entry.status) {
    case "offered":
      return `Seats are offered to you: accept with the link in your email${entry.offerExpiresAt ? ` by ${localTime(entry.offerExpiresAt, entry.timeZone)}` : ""}.`;
    case "waiting":
      if (entry.confirmed === false) return "Waiting for you to confirm your email address: check your inbox.";
      return entry.position ? `Waiting: number ${entry.position} in line.` : "Waiting in line.";
    case "booked":
      return "Booked from the waitlist.";
    case "expired":
      return "The offer expired.";
    case "declined":
      return "You declined the offer.";
    default:
      return "No longer on the waitlist.";
  }
}

export function MePage({ user, upcoming, past, waitlist, calendarFeedUrl }: MePageProps) {
  return (
    <Layout title="My bookings" user={user}>
      <p>Signed in as {user.email}. Bookings made with this address, signed in or not, are listed here.</p>
      <section aria-labelledby="upcoming-heading">
        <h2 id="upcoming-heading">Upcoming</h2>
        <BookingList id="upcoming-bookings" bookings={upcoming} empty="No upcoming bookings." />
      </section>
      <section aria-labelledby="waitlist-heading">
        <h2 id="waitlist-heading">Waiting lists</h2>
        {waitlist.length === 0 ? (
          <p id="waitlist-empty" class="muted">
            You are not on any waiting list.
          </p>
        ) : (
          <ul id="my-waitlist">
            {waitlist.map((entry) => (
              <li data-entry-id={entry.id} data-status={entry.status}>
                <strong>{entry.className}</strong>, {entry.studioName}, <time datetime={entry.startsAt}>{localTime(entry.startsAt, entry.timeZone)}</time> ·{" "}
                {entry.seats === 1 ? "1 seat" : `${entry.seats} seats`}. {waitlistState(entry)}
                {entry.bookingId ? (
                  <>
                    {" "}
                    <a href={`/bookings/${encodeURIComponent(entry.bookingId)}`}>See the booking</a>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="past-heading">
        <h2 id="past-heading">Past and cancelled</h2>
        <BookingList id="past-bookings" bookings={past} empty="No past bookings." />
      </section>
      <section aria-labelledby="feed-heading" id="calendar-feed" data-calendar-feed="">
        <h2 id="feed-heading">Calendar feed</h2>
        <p>Subscribe to this private address in your calendar app to see your booked sessions there. Anyone with the address can read them: if it leaks, replace it.</p>
        <label for="calendar-feed-url">Your private calendar address</label>
        <input id="calendar-feed-url" type="text" readonly value={calendarFeedUrl} />
        <p>
          <button type="button" id="calendar-feed-rotate" class="secondary">
            Replace the address
          </button>
        </p>
        <p id="calendar-feed-result" role="status" aria-live="polite"></p>
      </section>
    </Layout>
  );
}
