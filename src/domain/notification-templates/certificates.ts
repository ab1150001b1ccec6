/** Certificate messages: one issued, one about to expire, and a seat held to renew it. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, formatPence, line, shortWhen, when } from "./format";

export const CERTIFICATE_TEMPLATES: Templates<"CERTIFICATE_ISSUED" | "CERTIFICATE_EXPIRING" | "RENEWAL_OFFER"> = {
  CERTIFICATE_ISSUED: (data, { greeting, link }) => ({
    subject: `Your certificate for ${line(data.className)}: ${line(data.number)}`,
    body: body(
      greeting,
      `Congratulations: you completed ${line(data.className)}${at(data.studioName)}. Certificate ${line(data.number)} is issued to ${line(data.holderName)}.`,
      data.expiresAt === undefined ? "It does not expire." : `It is valid until ${when(data.expiresAt, data.timeZone)}.`,
      ["View and print it (sign in with this email): ", link(data.certificateLinkPath)],
      ["Anyone can check that it is valid here: ", link(data.verifyLinkPath)],
    ),
  }),
  CERTIFICATE_EXPIRING: (data, { greeting, link }) => ({
    subject: `Your ${line(data.className)} certificate expires ${shortWhen(data.expiresAt, data.timeZone)}`,
    body: body(
      greeting,
      `Certificate ${line(data.number)} for ${line(data.className)}${at(data.studioName)} expires on ${when(data.expiresAt, data.timeZone)}.`,
      data.bookLinkPath === undefined ? "Book a renewal session before then to stay certified." : ["Book a renewal session before then to stay certified: ", link(data.bookLinkPath)],
    ),
  }),
  RENEWAL_OFFER: (data, { greeting, link }) => ({
    subject: `A seat is held for you to renew: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    body: body(
      greeting,
      `To renew certificate ${line(data.number)}, we are holding a seat for you on ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}.`,
      `The seat is yours until ${when(data.offerExpiresAt, data.timeZone)}.` + (data.totalAmountPence === undefined ? "" : ` Price: ${formatPence(data.totalAmountPence)}.`),
      ["Accept or decline it here: ", link(data.offerLinkPath)],
      "If you do nothing, the seat is released when the hold ends.",
    ),
  }),
};
