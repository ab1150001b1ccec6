/** Messages around a booked session: the reminder before it, the follow-up after it, and staff's own messages. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, line, paragraphsOf, seats, shortWhen, when } from "./format";

export const SESSION_TEMPLATES: Templates<"SESSION_REMINDER" | "SESSION_FOLLOW_UP" | "STAFF_MESSAGE"> = {
  SESSION_REMINDER: (data, { greeting, bookingId, link }) => ({
    subject: `Reminder: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `See you soon: you are booked on ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}, for ${seats(data.seats)}.`,
      data.address === undefined ? null : `Address: ${line(data.address)}`,
      bookingId ? `Booking reference: ${bookingId}` : null,
      ["Can no longer come? View or cancel your booking, so someone else can have the place: ", link(data.manageLinkPath)],
    ),
  }),
  SESSION_FOLLOW_UP: (data, { greeting, link }) => ({
    subject: `Thanks for coming to ${line(data.className)}`,
    body: body(
      greeting,
      `Thanks for coming to ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}. We hope you enjoyed it.`,
      data.bookLinkPath ? ["Book again: ", link(data.bookLinkPath)] : "We would love to see you again.",
    ),
  }),
  STAFF_MESSAGE: (data, { greeting }) => ({
    subject: line(data.subject),
    body: body(
      greeting,
      about(data) ?? null,
      ...paragraphsOf(data.text),
      data.senderName ? `${line(data.senderName)}${at(data.studioName)}` : data.studioName ? line(data.studioName) : null,
    ),
  }),
};

/** "About: Wheel Basics, Saturday 14 March 2026, 18:00 GMT", when the message is about a class or session. */
function about(data: { className?: string; sessionStartsAt?: number; timeZone?: string }): string | undefined {
  const parts = [data.className ? line(data.className) : null, data.sessionStartsAt === undefined ? null : when(data.sessionStartsAt, data.timeZone)];
  const known = parts.filter((part): part is string => part !== null);
  return known.length > 0 ? `About: ${known.join(", ")}` : undefined;
}
