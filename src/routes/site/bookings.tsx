/**
 * The manage-booking page, `/bookings/{id}?token=`: opened by the booking's manage token, by the
 * signed-in customer it belongs to, or by staff, through the very check the API uses
 * (`loadAuthorized`, src/routes/bookings.ts), so the page never shows what the API would refuse.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { getDb } from "../../db/client";
import { customerMayCancel } from "../../domain/customer-cancellation";
import type { AppEnv } from "../../env";
import { describeCancellationPolicy, OPEN_POLICY } from "../../domain/booking-terms";
import { ApiError } from "../../errors";
import { authenticate } from "../../middleware/auth";
import { BookingUnavailablePage, type BookingUnavailableReason, ManageBookingPage } from "../../pages/manage-booking";
import { classPlace } from "../../services/booking-context";
import type { BookingView } from "../../services/booking-views";
import { loadAuthorized } from "../bookings";
import { pageHeaders, pageUser, renderPage } from "../page-response";

/** A manage token is a few dozen characters; anything far longer is not one (as the API's query limit). */
const MAX_TOKEN = 200;

export const bookingPages = new Hono<AppEnv>();
// Mounted at the root: middleware on this router's own paths only.
bookingPages.use("/bookings/*", pageHeaders);
bookingPages.use("/bookings/*", authenticate());

bookingPages.get("/bookings/:id", async (c) => {
  const id = c.req.param("id");
  const token = c.req.query("token");
  let booking: BookingView;
  try {
    if (token !== undefined && token.length > MAX_TOKEN) throw new ApiError("FORBIDDEN", "Not a manage token");
    booking = await loadAuthorized(c, id, token || undefined);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return unavailable(c, id, error);
  }
  const principal = c.get("principal");
  const staff = principal?.role === "staff" || principal?.role === "admin";
  const place = await classPlace(getDb(c.env.DB), booking.classId);
  const cancellable =
    booking.status === "confirmed" && (staff || customerMayCancel({ status: booking.status, startsAt: booking.lines.map((line) => Date.parse(line.startsAt)) }, Date.now(), place?.cancellationPolicy));
  return renderPage(
    c,
    <ManageBookingPage
      booking={{
        id: booking.id,
        status: booking.status,
        className: place?.className ?? "Class",
        studioName: place?.studioName ?? "",
        timeZone: place?.timeZone ?? "UTC",
        customerName: `${booking.customer.firstName} ${booking.customer.lastName}`.trim(),
        customerEmail: booking.customer.email,
        seats: booking.guestCount,
        lines: booking.lines,
        subtotalPence: booking.subtotalPence,
        discountPence: booking.discountPence,
        totalPence: booking.totalAmountPence,
        confirmedAt: booking.confirmedAt,
        cancelledAt: booking.cancelledAt,
        cancellationPolicy: describeCancellationPolicy(place?.cancellationPolicy ?? OPEN_POLICY),
      }}
      token={token || undefined}
      cancellable={cancellable}
      user={pageUser(c)}
    />,
  );
});

/** The API's refusal as a page: 403 without or with the wrong credential, 404 for an unknown booking. */
function unavailable(c: Context<AppEnv>, id: string, error: ApiError) {
  const reason: BookingUnavailableReason = error.code === "UNAUTHENTICATED" ? "no-credential" : error.status === 404 ? "not-found" : "forbidden";
  const signInHref = `/sign-in?next=${encodeURIComponent(`/bookings/${id}`)}`;
  return renderPage(c, <BookingUnavailablePage reason={reason} signInHref={signInHref} user={pageUser(c)} />, { status: reason === "not-found" ? 404 : 403 });
}
