/** Money given back on a booking: by staff from the console, at the desk, or by the system (a payment that arrived too late). */
import type { Templates } from "./context";
import { body } from "./document";
import { at, formatPence, line, shortWhen, when } from "./format";

/** How many sessions a refund message lists before summarising the rest. */
const LISTED_SESSIONS = 10;

export const REFUND_TEMPLATES: Templates<"BOOKING_REFUNDED"> = {
  BOOKING_REFUNDED: (data, { greeting, bookingId, link }) => {
    const starts = data.sessions.map((session) => session.startsAt).sort((a, b) => a - b);
    const listed = starts.slice(0, LISTED_SESSIONS).map((start) => `- ${when(start, data.timeZone)}`);
    if (starts.length > LISTED_SESSIONS) listed.push(`- and ${starts.length - LISTED_SESSIONS} more`);
    return {
      subject: `Refund of ${formatPence(data.amountPence)}: ${line(data.className)}` + (starts.length > 0 ? `, ${shortWhen(starts[0]!, data.timeZone)}` : ""),
      body: body(
        greeting,
        `We have refunded ${formatPence(data.amountPence)} of your booking for ${line(data.className)}${at(data.studioName)}` +
          `${bookingId ? ` (reference ${bookingId})` : ""}.`,
        `Reason: ${line(data.reason)}`,
        data.atDesk
          ? "The money was handed back to you at the studio."
          : "It goes back to the card or account you paid with; banks usually take 5 to 10 working days to show it.",
        data.refundedPence !== undefined && data.paidPence !== undefined
          ? `Refunded so far: ${formatPence(data.refundedPence)} of ${formatPence(data.paidPence)} paid.`
          : null,
        starts.length > 0 ? `${starts.length === 1 ? "Session" : `Sessions (${starts.length})`}:\n${listed.join("\n")}` : null,
        data.manageLinkPath ? ["View the booking: ", link(data.manageLinkPath)] : null,
      ),
    };
  },
};
