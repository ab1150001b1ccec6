/**
 * My bookings, `/me`: the signed-in person's bookings (upcoming and past), waitlist places and
 * private calendar feed, from the portal's services (the ones /api/v1/me uses), found by the
 * session's email alone. Without a session: to the sign-in page and back.
 */
import { Hono } from "hono";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { authenticate } from "../../middleware/auth";
import { type MyBooking, MePage } from "../../pages/me";
import { calendarFeedFor } from "../../services/calendar-feeds";
import { type PortalBooking, portalBookings } from "../../services/portal";
import { portalWaitlist } from "../../services/portal-activity";
import { pageHeaders, renderPage } from "../page-response";

/** How many of each list the page shows (the API pages through the rest). */
const UPCOMING = 50;
const PAST = 20;
const WAITLIST = 20;

export const mePages = new Hono<AppEnv>();

mePages.get("/me", pageHeaders, authenticate(), async (c) => {
  const principal = c.get("principal");
  if (!principal?.email) return c.redirect(`/sign-in?next=${encodeURIComponent("/me")}`, 303);
  const db = getDb(c.env.DB);
  const now = new Date();
  const [upcoming, past, waitlist, feed] = await Promise.all([
    portalBookings(db, principal, { when: "upcoming", limit: UPCOMING }, now),
    portalBookings(db, principal, { when: "past", limit: PAST }, now),
    portalWaitlist(c.env, db, principal, { limit: WAITLIST }),
    calendarFeedFor(c.env, db, principal.email),
  ]);
  return renderPage(
    c,
    <MePage
      user={{ email: principal.email, role: principal.role }}
      upcoming={upcoming.data.map(toMyBooking)}
      past={past.data.map(toMyBooking)}
      waitlist={waitlist.data.map((entry) => ({
        id: entry.id,
        sessionId: entry.sessionId,
        className: entry.class.name,
        studioName: entry.studio.name,
        timeZone: entry.studio.timeZone,
        startsAt: entry.session.startsAt,
        seats: entry.guestCount,
        status: entry.status,
        confirmed: entry.confirmed,
        position: entry.position,
        offerExpiresAt: entry.offerExpiresAt,
        bookingId: entry.bookingId,
      }))}
      calendarFeedUrl={feed.url}
    />,
  );
});

function toMyBooking(booking: PortalBooking): MyBooking {
  return {
    id: booking.id,
    status: booking.status,
    className: booking.class.name,
    studioName: booking.studio.name,
    timeZone: booking.studio.timeZone,
    seats: booking.seats,
    sessions: booking.sessions.map((session) => ({ startsAt: session.startsAt, status: session.status })),
    totalPence: booking.totalAmountPence,
    cancellable: booking.cancellable,
  };
}
