/** Waitlist messages: confirm a join, a place offered, the offer about to lapse, and lapsed. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, formatPence, line, seats, shortWhen, when } from "./format";

export const WAITLIST_TEMPLATES: Templates<"WAITLIST_CONFIRM" | "OFFER_MADE" | "OFFER_EXPIRING" | "OFFER_EXPIRED"> = {
  WAITLIST_CONFIRM: (data, { greeting, link }) => ({
    subject: `Confirm your place on the waitlist: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `You asked to join the waitlist for ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}, for ${seats(data.seats)}.`,
      ["Confirm it is you, and you take your place in line: ", link(data.confirmLinkPath)],
      data.confirmBy === undefined ? null : `Unconfirmed requests are dropped at ${when(data.confirmBy, data.timeZone)}.`,
      "If you did not ask for this, ignore this message: nothing happens without the link.",
    ),
  }),
  OFFER_MADE: (data, { greeting, link }) => ({
    subject: `A place is free: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `A place has opened up for you from the waitlist for ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}.`,
      `We are holding ${seats(data.seats)} for you until ${when(data.offerExpiresAt, data.timeZone)}.` +
        (data.totalAmountPence === undefined ? "" : ` Price: ${formatPence(data.totalAmountPence)}.`),
      ["Claim your place: ", link(data.acceptLinkPath)],
      data.declineLinkPath === undefined ? null : ["No longer need it? Let the next person have it: ", link(data.declineLinkPath)],
      "If it is not claimed by then, the place goes to the next person on the waitlist.",
    ),
  }),
  OFFER_EXPIRING: (data, { greeting, link }) => ({
    subject: `Reminder: your place on ${line(data.className)} is held until ${shortWhen(data.offerExpiresAt, data.timeZone)}`,
    body: body(
      greeting,
      `The place we are holding for you on ${line(data.className)} (${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}) ` +
        `is released at ${when(data.offerExpiresAt, data.timeZone)}.`,
      ["Claim it now: ", link(data.acceptLinkPath)],
    ),
  }),
  OFFER_EXPIRED: (data, { greeting }) => ({
    subject: `Your held place on ${line(data.className)} has been released`,
    body: body(
      greeting,
      `The place we held for you on ${line(data.className)} (${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}) ` +
        "was not claimed in time, so it has gone to the next person on the waitlist.",
      "If you would still like to come, you can join the waitlist again or choose another date.",
    ),
  }),
};
