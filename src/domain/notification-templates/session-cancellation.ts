/** A session the studio cancelled: one message to each booker (with the refund, if any) and one to each party waiting for it. */
import type { Templates } from "./context";
import { body } from "./document";
import { formatPence, line, seats, shortWhen, when } from "./format";

export const SESSION_CANCELLATION_TEMPLATES: Templates<"SESSION_CANCELLED"> = {
  SESSION_CANCELLED: (data, { greeting, bookingId, link }) => ({
    subject: `Cancelled by the studio: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `${data.studioName ? line(data.studioName) : "The studio"} has cancelled ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}.`,
      `Reason: ${line(data.reason)}`,
      data.audience === "waitlist"
        ? `You were on the waiting list for it${data.seats === undefined ? "" : ` (${seats(data.seats)})`}; the waiting list is closed and nothing is held for you.`
        : data.bookingStillActive
          ? `Your place on this session is cancelled; the rest of your booking stands.`
          : `Your booking${data.seats === undefined ? "" : ` (${seats(data.seats)})`} is cancelled.`,
      data.audience === "booking" && data.refundPence !== undefined && data.refundPence > 0
        ? `A refund of ${formatPence(data.refundPence)} is on its way to the card you paid with.`
        : null,
      data.audience === "booking" && data.deskRefundPence !== undefined && data.deskRefundPence > 0
        ? `The studio will give you back ${formatPence(data.deskRefundPence)} of what you paid at the studio.`
        : null,
      data.audience === "booking" && bookingId ? `Booking reference: ${bookingId}` : null,
      data.manageLinkPath ? ["View your booking: ", link(data.manageLinkPath)] : null,
    ),
  }),
};
