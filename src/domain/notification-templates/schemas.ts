/**
 * What each notification kind's `data` must hold, as zod schemas. Data that does not fit is a
 * permanent failure the consumer records, never a crash. Unknown extra fields are ignored.
 */
import { IANAZone } from "luxon";
import { z } from "zod";
import { paragraphsOf } from "./format";

/** An instant: epoch milliseconds, or an ISO 8601 date-time with an offset (`2026-03-14T18:00:00Z`). */
const Instant = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((value) => Date.parse(value))]);
const Text = z.string().trim().min(1).max(200);
/** Zones already checked: luxon builds an Intl formatter for every check, and studios have few zones. */
const knownZones = new Map<string, boolean>();

function isValidZone(zone: string): boolean {
  let valid = knownZones.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (knownZones.size < 1000) knownZones.set(zone, valid);
  }
  return valid;
}

const TimeZone = z.string().refine(isValidZone, "an IANA time zone such as Europe/London");
/** A path on this service (`/api/v1/bookings/…`), never an absolute URL: the template puts it on the base URL. */
const LinkPath = z.string().max(2048).regex(/^\/(?![/\\])\S*$/, "a path starting with /");
const Pence = z.number().int().nonnegative();
const Seats = z.number().int().min(1).max(1000);
const Currency = z.literal("GBP").default("GBP");

/** The longest free text staff may send in one message. */
export const MAX_STAFF_MESSAGE_LENGTH = 5000;
/** Staff's free text: several lines allowed (format.ts `paragraphsOf` reduces them), but something to say. */
const StaffText = z
  .string()
  .max(MAX_STAFF_MESSAGE_LENGTH)
  .refine((value) => paragraphsOf(value).length > 0, "some text");

/** Fields every class kind carries: which class, where, and the studio's zone for showing times. */
const Place = {
  className: Text,
  studioName: Text.optional(),
  timeZone: TimeZone.optional(),
};

const BookedSession = z.object({ sessionId: z.string().max(64).optional(), startsAt: Instant });

export const NOTIFICATION_DATA = {
  WAITLIST_CONFIRM: z.object({
    ...Place,
    sessionStartsAt: Instant,
    seats: Seats,
    confirmLinkPath: LinkPath,
    confirmBy: Instant.optional(),
  }),
  OFFER_MADE: z.object({
    ...Place,
    sessionStartsAt: Instant,
    seats: Seats,
    offerExpiresAt: Instant,
    acceptLinkPath: LinkPath,
    declineLinkPath: LinkPath.optional(),
    totalAmountPence: Pence.optional(),
    currency: Currency,
  }),
  OFFER_EXPIRING: z.object({
    ...Place,
    sessionStartsAt: Instant,
    offerExpiresAt: Instant,
    acceptLinkPath: LinkPath,
  }),
  OFFER_EXPIRED: z.object({
    ...Place,
    sessionStartsAt: Instant,
  }),
  BOOKING_CONFIRMED: z.object({
    ...Place,
    sessions: z.array(BookedSession).min(1).max(1000),
    seats: Seats,
    totalAmountPence: Pence,
    currency: Currency,
    manageLinkPath: LinkPath,
    /** The booking's calendar file or feed, when the producer offers one. */
    calendarLinkPath: LinkPath.optional(),
    /** The class's cancellation policy in words (absent in messages queued before policies existed). */
    cancellationPolicy: z.string().min(1).max(500).optional(),
  }),
  BOOKING_CANCELLED: z.object({
    ...Place,
    /** May be empty when the booking's lines are not known. */
    sessions: z.array(BookedSession).max(1000),
    seats: Seats,
    totalAmountPence: Pence.optional(),
    currency: Currency,
    manageLinkPath: LinkPath.optional(),
  }),
  /** A booking's line moved to another session of its class (src/services/booking-moves.ts). */
  BOOKING_MOVED: z.object({
    ...Place,
    fromStartsAt: Instant,
    toStartsAt: Instant,
    sessions: z.array(BookedSession).min(1).max(1000),
    seats: Seats,
    manageLinkPath: LinkPath,
  }),
  TRAINER_AVAILABLE: z.object({
    ...Place,
    sessionStartsAt: Instant.optional(),
    cityName: Text.optional(),
    bookLinkPath: LinkPath.optional(),
  }),
  SESSION_REMINDER: z.object({
    ...Place,
    sessionStartsAt: Instant,
    seats: Seats,
    manageLinkPath: LinkPath,
    address: z.string().trim().min(1).max(500).optional(),
  }),
  SESSION_FOLLOW_UP: z.object({
    ...Place,
    sessionStartsAt: Instant,
    bookLinkPath: LinkPath.optional(),
  }),
  /** Free text from staff, optionally about one class or session. */
  STAFF_MESSAGE: z.object({
    subject: Text,
    text: StaffText,
    className: Text.optional(),
    studioName: Text.optional(),
    sessionStartsAt: Instant.optional(),
    timeZone: TimeZone.optional(),
    senderName: Text.optional(),
  }),
  /** Account kinds carry no class: only the link, its expiry and, optionally, the zone to show it in. */
  SIGN_IN_LINK: z.object({
    linkPath: LinkPath,
    expiresAt: Instant,
    timeZone: TimeZone.optional(),
  }),
  STAFF_INVITE: z.object({
    linkPath: LinkPath,
    expiresAt: Instant,
    role: z.enum(["staff", "admin"]),
    studioName: Text.optional(),
    invitedBy: Text.optional(),
    timeZone: TimeZone.optional(),
  }),
  /** Certificates (src/domain/notification-templates/certificates.ts). */
  CERTIFICATE_ISSUED: z.object({
    ...Place,
    number: Text,
    holderName: Text,
    issuedAt: Instant,
    /** Absent for a certificate that never expires. */
    expiresAt: Instant.optional(),
    certificateLinkPath: LinkPath,
    verifyLinkPath: LinkPath,
  }),
  CERTIFICATE_EXPIRING: z.object({
    ...Place,
    number: Text,
    expiresAt: Instant,
    bookLinkPath: LinkPath.optional(),
  }),
  RENEWAL_OFFER: z.object({
    ...Place,
    number: Text,
    sessionStartsAt: Instant,
    offerExpiresAt: Instant,
    offerLinkPath: LinkPath,
    totalAmountPence: Pence.optional(),
    currency: Currency,
  }),
  /** Group bookings (src/domain/notification-templates/groups.ts): the organiser's, listing everyone, and each participant's. */
  GROUP_CONFIRMATION: z.object({
    ...Place,
    groupName: Text,
    reference: Text,
    company: Text.optional(),
    sessions: z.array(BookedSession).min(1).max(1000),
    participants: z.array(z.object({ name: Text })).min(1).max(1000),
    totalAmountPence: Pence.optional(),
    currency: Currency,
  }),
  GROUP_PARTICIPANT_CONFIRMATION: z.object({
    ...Place,
    groupName: Text,
    participantName: Text,
    organiserName: Text.optional(),
    sessions: z.array(BookedSession).min(1).max(1000),
  }),
  /** A group cancelled as a whole (src/domain/notification-templates/group-cancellation.ts); `participantName` on a participant's own. */
  GROUP_CANCELLED: z.object({
    ...Place,
    groupName: Text,
    reference: Text,
    participantName: Text.optional(),
    reason: z.string().trim().min(1).max(500).optional(),
    sessions: z.array(BookedSession).min(1).max(1000),
  }),
  /** Money given back on a booking (src/domain/notification-templates/refunds.ts): this refund's amount and why; `atDesk` when handed back at the studio. */
  BOOKING_REFUNDED: z.object({
    ...Place,
    amountPence: z.number().int().positive(),
    currency: Currency,
    reason: z.string().trim().min(1).max(500),
    /** May be empty when the booking's lines are not known. */
    sessions: z.array(BookedSession).max(1000),
    /** The booking's totals after this refund, when known. */
    paidPence: Pence.optional(),
    refundedPence: Pence.optional(),
    atDesk: z.boolean().optional(),
    manageLinkPath: LinkPath.optional(),
  }),
  /** The studio cancelled a session (src/domain/notification-templates/session-cancellation.ts): to a booker, or to a party that was waiting. */
  SESSION_CANCELLED: z.object({
    ...Place,
    sessionStartsAt: Instant,
    reason: z.string().trim().min(1).max(500),
    audience: z.enum(["booking", "waitlist"]),
    seats: Seats.optional(),
    /** What this cancellation refunds of the booking online (0 or absent: nothing). */
    refundPence: Pence.optional(),
    /** What the studio hands back of money paid at its desk. */
    deskRefundPence: Pence.optional(),
    /** A course or drop-in booking keeps its other sessions. */
    bookingStillActive: z.boolean().optional(),
    manageLinkPath: LinkPath.optional(),
  }),
} as const;

export type TemplateKind = keyof typeof NOTIFICATION_DATA;
/** What a producer puts in `data` for a kind (before defaults and conversions). */
export type NotificationDataInput<K extends TemplateKind> = z.input<(typeof NOTIFICATION_DATA)[K]>;
/** A kind's data as its template receives it (checked, instants as epoch ms). */
export type TemplateData<K extends TemplateKind> = z.output<(typeof NOTIFICATION_DATA)[K]>;
