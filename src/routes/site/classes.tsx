/**
 * The class page (GET /classes/{id}) with its booking form, the booking confirmation
 * (GET /bookings/{id}/confirmed?token=…) and the way back from a payment provider (…/return). The class page's data comes from
 * src/services/catalog-pages.ts; the confirmation opens the booking exactly as the API does
 * (`loadAuthorized`: its manage token, its owner signed in, or staff), so the page can never show
 * a booking the API would not.
 */
import type { Context } from "hono";
import { z } from "zod";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { describeCancellationPolicy, OPEN_POLICY } from "../../domain/booking-terms";
import { ApiError } from "../../errors";
import { createRouter } from "../../lib/openapi";
import { authenticate } from "../../middleware/auth";
import { BookingConfirmedPage, BookingNotOpenPage, CheckoutReturnPage } from "../../pages/booking-confirmed";
import { ClassPage } from "../../pages/class-page";
import { Layout } from "../../pages/layout";
import { classPlace } from "../../services/booking-context";
import { classPage } from "../../services/catalog-pages";
import { loadAuthorized } from "../bookings";
import { pageHeaders, pageUser, renderPage } from "../page-response";

const Id = z.string().min(1).max(64).regex(/^[\w-]+$/);

export const classSite = createRouter();

classSite.get("/classes/:id", pageHeaders, authenticate(), async (c) => {
  const id = Id.safeParse(c.req.param("id"));
  const user = pageUser(c);
  const data = id.success ? await classPage(c.env, getDb(c.env.DB), id.data, user?.email) : undefined;
  if (!data) return classNotFound(c);
  const { sessions, courses, contact, ...klass } = data;
  const picked = Id.safeParse(c.req.query("session"));
  return renderPage(
    c,
    <ClassPage user={user} klass={klass} sessions={sessions} courses={courses} contact={contact} picked={picked.success ? picked.data : undefined} />,
    // Prefilled contact details are personal; an anonymous page is the same for everyone.
    { cache: user ? "private" : "public" },
  );
});

/**
 * Where a payment provider sends the customer back: a signed-in customer goes straight to the
 * confirmation; a guest's browser reopens it with the manage token it kept (never in this URL).
 */
classSite.get("/bookings/:id/return", pageHeaders, authenticate(), async (c) => {
  const id = Id.safeParse(c.req.param("id"));
  if (!id.success) return renderPage(c, <BookingNotOpenPage user={pageUser(c)} message="That is not a booking link." />, { status: 404 });
  if (c.get("principal")) return c.redirect(`/bookings/${encodeURIComponent(id.data)}/confirmed`, 303);
  return renderPage(c, <CheckoutReturnPage user={pageUser(c)} bookingId={id.data} />);
});

classSite.get("/bookings/:id/confirmed", pageHeaders, authenticate(), async (c) => {
  const user = pageUser(c);
  const id = Id.safeParse(c.req.param("id"));
  const token = c.req.query("token")?.slice(0, 200);
  if (!id.success) return renderPage(c, <BookingNotOpenPage user={user} message="That is not a booking link." />, { status: 404 });
  let booking;
  try {
    booking = await loadAuthorized(c, id.data, token);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const status = error.code === "NOT_FOUND" ? 404 : 403;
    const message =
      status === 404
        ? "We could not find that booking."
        : "This link does not open that booking. Use the link from your confirmation email, or sign in with the address you booked with.";
    return renderPage(c, <BookingNotOpenPage user={user} message={message} />, { status });
  }
  const place = await classPlace(getDb(c.env.DB), booking.classId);
  const tokenQuery = token ? `?token=${encodeURIComponent(token)}` : "";
  return renderPage(
    c,
    <BookingConfirmedPage
      user={user}
      booking={{
        id: booking.id,
        status: booking.status,
        className: place?.className ?? booking.classId,
        studioName: place?.studioName ?? "",
        timeZone: place?.timeZone ?? "UTC",
        guestCount: booking.guestCount,
        email: booking.customer.email,
        name: `${booking.customer.firstName} ${booking.customer.lastName}`.trim(),
        lines: booking.lines.map((line) => ({ sessionId: line.sessionId, startsAt: line.startsAt, status: line.status })),
        subtotalPence: booking.subtotalPence,
        discountPence: booking.discountPence,
        totalAmountPence: booking.totalAmountPence,
        cancellationPolicy: describeCancellationPolicy(place?.cancellationPolicy ?? OPEN_POLICY),
      }}
      manageHref={`/bookings/${booking.id}${tokenQuery}`}
      calendarHref={`/api/v1/bookings/${booking.id}/calendar.ics${tokenQuery}`}
    />,
  );
});

function classNotFound(c: Context<AppEnv>) {
  return renderPage(
    c,
    <Layout title="Class not found" user={pageUser(c)}>
      <p>We could not find that class. It may have been removed.</p>
      <p>
        <a href="/">See all classes</a>
      </p>
    </Layout>,
    { status: 404 },
  );
}
