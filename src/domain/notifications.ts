/**
 * Notification requests, the pure definitions: which kinds there are, what a request carries and
 * the schema its queue consumer checks it with. Queueing them is src/services/notifications.ts.
 * A request's id is its idempotency key: a redelivered or re-sent request sends nothing twice.
 */
import { z } from "zod";
import type { NotificationDataInput, TemplateKind } from "./notification-templates";
import { displayablePersonName } from "./person-name";

export const NOTIFICATION_KINDS = [
  "WAITLIST_CONFIRM",
  "OFFER_MADE",
  "OFFER_EXPIRING",
  "OFFER_EXPIRED",
  "BOOKING_CONFIRMED",
  "BOOKING_CANCELLED",
  "TRAINER_AVAILABLE",
  "SESSION_REMINDER",
  "SESSION_FOLLOW_UP",
  "STAFF_MESSAGE",
  "SIGN_IN_LINK",
  "STAFF_INVITE",
  "CERTIFICATE_ISSUED",
  "CERTIFICATE_EXPIRING",
  "RENEWAL_OFFER",
  "GROUP_CONFIRMATION",
  "GROUP_PARTICIPANT_CONFIRMATION",
  "GROUP_CANCELLED",
  "SESSION_CANCELLED",
  "BOOKING_REFUNDED",
  "BOOKING_MOVED",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotificationRequest {
  /** Deterministic where a retry could send it again (e.g. `offer:<entryId>:<offerNo>`). */
  id: string;
  kind: NotificationKind;
  recipient: { email: string; firstName?: string | null; lastName?: string | null };
  channel?: "email" | "sms";
  bookingId?: string | null;
  waitlistEntryId?: string | null;
  sessionId?: string | null;
  classId?: string | null;
  /** What the template needs: class name, start time, offer link and expiry, amount … (see below). */
  data: Record<string, unknown>;
  /** When the producer asked, UTC epoch milliseconds. */
  requestedAt: number;
  /** Who on the staff asked for it (their email, else their subject); absent for what the system sends. */
  sentBy?: string | null;
}

/**
 * What `data` must hold for each kind, checked by the zod schemas `NOTIFICATION_DATA` in
 * src/domain/notification-templates.ts (extra fields are ignored). A request whose data does not
 * fit is recorded as failed and alerted on; it is never sent and never retried.
 *
 * Instants are epoch ms or ISO 8601 with an offset; links are paths on this service (`/…`), which
 * the template makes absolute on PUBLIC_BASE_URL, and any `token` query parameter in them is
 * masked in the stored copy; money is integer pence.
 *
 * Every class kind: `className`; optional `studioName`, `timeZone` (IANA; times are shown in it, else UTC).
 * - WAITLIST_CONFIRM: `sessionStartsAt`, `seats`, `confirmLinkPath`; optional `confirmBy`.
 * - OFFER_MADE: `sessionStartsAt`, `seats`, `offerExpiresAt`, `acceptLinkPath`; optional `totalAmountPence`.
 * - OFFER_EXPIRING: `sessionStartsAt`, `offerExpiresAt`, `acceptLinkPath`.
 * - OFFER_EXPIRED: `sessionStartsAt`.
 * - BOOKING_CONFIRMED: `sessions` ([{ sessionId?, startsAt }], at least one), `seats`, `totalAmountPence`, `manageLinkPath`; optional `calendarLinkPath`.
 * - BOOKING_CANCELLED: `sessions`, `seats`; optional `totalAmountPence`, `manageLinkPath`.
 * - BOOKING_MOVED: `fromStartsAt`, `toStartsAt` (the line moved), `sessions` (what the booking covers now), `seats`, `manageLinkPath`.
 * - TRAINER_AVAILABLE: optional `sessionStartsAt` (the next bookable session), `cityName`, `bookLinkPath`.
 * - SESSION_REMINDER: `sessionStartsAt`, `seats`, `manageLinkPath`; optional `address`.
 * - SESSION_FOLLOW_UP: `sessionStartsAt`; optional `bookLinkPath`.
 * - STAFF_MESSAGE (class optional): `subject` (one line), `text` (free text, line breaks kept, at most 5000
 *   characters); optional `className`, `studioName`, `sessionStartsAt`, `timeZone`, `senderName`.
 * - SIGN_IN_LINK (no class): `linkPath`, `expiresAt`; optional `timeZone`.
 * - CERTIFICATE_ISSUED: `number`, `holderName`, `issuedAt`, `certificateLinkPath`, `verifyLinkPath`; optional `expiresAt`.
 * - CERTIFICATE_EXPIRING: `number`, `expiresAt`; optional `bookLinkPath`.
 * - RENEWAL_OFFER: `number`, `sessionStartsAt`, `offerExpiresAt`, `offerLinkPath`; optional `totalAmountPence`.
 * - GROUP_CONFIRMATION (to the organiser): `groupName`, `reference`, `sessions`, `participants` ([{ name }]); optional `company`, `totalAmountPence`.
 * - GROUP_PARTICIPANT_CONFIRMATION (to each participant with an email): `groupName`, `participantName`, `sessions`; optional `organiserName`.
 * - GROUP_CANCELLED (to the organiser and each participant with an email): `groupName`, `reference`, `sessions`; optional `participantName` (a participant's own), `reason`.
 * - BOOKING_REFUNDED: `amountPence` (this refund), `reason`, `sessions` (may be empty); optional `paidPence`, `refundedPence` (the booking's totals after it), `atDesk`, `manageLinkPath`.
 * - SESSION_CANCELLED (the studio cancelled a session; to each booker and each party waiting): `sessionStartsAt`, `reason`, `audience` ("booking" | "waitlist");
 *   optional `seats`, `refundPence`, `deskRefundPence`, `bookingStillActive` (a course or drop-in keeps its other sessions), `manageLinkPath`.
 * - STAFF_INVITE (no class): `linkPath`, `expiresAt`, `role` ("staff" | "admin"); optional `studioName`, `invitedBy`, `timeZone`.
 */
export type NotificationData<K extends NotificationKind> = NotificationDataInput<K>;

/** A request whose `data` is typed by its kind, for producers that want the compiler's help. */
export type TypedNotificationRequest<K extends NotificationKind> = Omit<NotificationRequest, "kind" | "data"> & { kind: K; data: NotificationData<K> };

// Every kind has a template and every template a kind.
type SameKeys<A extends string, B extends string> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const templatesCoverKinds: SameKeys<NotificationKind, TemplateKind> = true;
void templatesCoverKinds;

/**
 * A recipient's name as the consumer passes it on: the validated name, or null when it is not a
 * valid person's name (stored before names were checked, say), so no message greets or addresses
 * anyone with a link, an instruction or invisible characters.
 */
const RecipientName = z
  .unknown()
  .transform((value) => displayablePersonName(typeof value === "string" ? value : null))
  .optional();

/** The envelope of a request, as the consumer checks it off the queue (the data is checked per kind when rendering). */
export const NotificationRequestSchema = z.object({
  id: z.string().min(1).max(200),
  kind: z.enum(NOTIFICATION_KINDS),
  recipient: z.object({
    email: z.email().max(254),
    firstName: RecipientName,
    lastName: RecipientName,
  }),
  channel: z.enum(["email", "sms"]).optional(),
  bookingId: z.string().max(64).nullish(),
  waitlistEntryId: z.string().max(64).nullish(),
  sessionId: z.string().max(64).nullish(),
  classId: z.string().max(64).nullish(),
  data: z.record(z.string(), z.unknown()),
  requestedAt: z.number().int().nonnegative(),
  sentBy: z.string().max(254).nullish(),
});
