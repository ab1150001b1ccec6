/** Booking messages: confirmed, cancelled, moved, and a course that can now be booked. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, formatPence, line, seats, shortWhen, when } from "./format";

/** How many sessions a message lists before summarising the rest. */
const LISTED_SESSIONS = 10;

export const BOOKING_TEMPLATES: Templates<"BOOKING_CONFIRMED" | "BOOKING_CANCELLED" | "BOOKING_MOVED" | "TRAINER_AVAILABLE"> = {
  BOOKING_CONFIRMED: (data, { greeting, bookingId, link }) => ({
    subject: `Booking confirmed: ${line(data.className)}, ${shortWhen(firstStart(data.sessions), data.timeZone)}`,
    body: body(
      greeting,
      `Your booking for ${line(data.className)}${at(data.studioName)} is confirmed.`,
      sessionList(data.sessions, data.timeZone),
      `Seats: ${data.seats}\nTotal paid: ${formatPence(data.totalAmountPence)}`,
      bookingId ? `Booking reference: ${bookingId}` : null,
      ["View or cancel your booking: ", link(data.manageLinkPath)],
      data.cancellationPolicy === undefined ? null : `Cancellation policy: ${line(data.cancellationPolicy)}`,
      data.calendarLinkPath === undefined ? null : ["Add to your calendar: ", link(data.calendarLinkPath)],
    ),
  }),
  BOOKING_CANCELLED: (data, { greeting, bookingId, link }) => ({
    subject: `Booking cancelled: ${line(data.className)}` + (data.sessions.length > 0 ? `, ${shortWhen(firstStart(data.sessions), data.timeZone)}` : ""),
    body: body(
      greeting,
      `Your booking for ${line(data.className)}${at(data.studioName)}${bookingId ? ` (reference ${bookingId})` : ""} has been cancelled, ` +
        `and its ${seats(data.seats)} released.`,
      data.sessions.length > 0 ? sessionList(data.sessions, data.timeZone) : null,
      data.totalAmountPence === undefined ? null : `Booking total: ${formatPence(data.totalAmountPence)}`,
      data.manageLinkPath ? ["View the booking: ", link(data.manageLinkPath)] : null,
    ),
  }),
  BOOKING_MOVED: (data, { greeting, bookingId, link }) => ({
    subject: `Booking moved: ${line(data.className)}, now ${shortWhen(data.toStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `Your booking for ${line(data.className)}${at(data.studioName)}${bookingId ? ` (reference ${bookingId})` : ""} has moved ` +
        `from ${when(data.fromStartsAt, data.timeZone)} to ${when(data.toStartsAt, data.timeZone)}.`,
      sessionList(data.sessions, data.timeZone),
      `Seats: ${data.seats}`,
      ["View or manage your booking: ", link(data.manageLinkPath)],
    ),
  }),
  TRAINER_AVAILABLE: (data, { greeting, link }) => ({
    subject: `${line(data.className)} can now be booked`,
    body: body(
      greeting,
      `You asked us to let you know when ${line(data.className)}${data.cityName ? ` in ${line(data.cityName)}` : ""} could be booked: ` +
        "an instructor is now assigned.",
      data.sessionStartsAt === undefined ? null : `Next session: ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}`,
      data.bookLinkPath ? ["Book now: ", link(data.bookLinkPath)] : null,
    ),
  }),
};

const firstStart = (sessions: { startsAt: number }[]) => Math.min(...sessions.map((session) => session.startsAt));

function sessionList(sessions: { startsAt: number }[], zone: string | undefined): string {
  const sorted = [...sessions].sort((a, b) => a.startsAt - b.startsAt);
  const lines = sorted.slice(0, LISTED_SESSIONS).map((session) => `- ${when(session.startsAt, zone)}`);
  if (sorted.length > LISTED_SESSIONS) lines.push(`- and ${sorted.length - LISTED_SESSIONS} more`);
  return `${sorted.length === 1 ? "Session" : `Sessions (${sorted.length})`}:\n${lines.join("\n")}`;
}
