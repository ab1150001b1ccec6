/**
 * Notification templates: what each kind of notification says, as plain text and as HTML with the
 * same content. Pure: a kind, its data and the recipient in, a subject and two bodies out. Each
 * kind's `data` is checked by its zod schema first (notification-templates/schemas.ts); data that
 * does not fit is a permanent failure the caller records, never a crash.
 *
 * Every value is reduced to one line without control characters (staff's free text keeps its line
 * breaks, nothing else), so nothing in the data can add lines to the body or headers to the
 * subject; the HTML escapes every value and link, so nothing becomes markup. The recipient's name
 * is used only if it is a valid person's name (src/domain/person-name.ts), else the greeting is a
 * plain "Hello,". Links are paths in the data; each is made absolute on the `baseUrl` the caller
 * passes (PUBLIC_BASE_URL), so a message never links anywhere else. Money is integer pence shown as
 * pounds (£12.50); instants are shown in the studio's IANA zone when the data gives one, else UTC.
 *
 * The templates live by area in notification-templates/: booking.ts, waitlist.ts, sessions.ts
 * (reminders, follow-ups, staff messages) and account.ts (sign-in links, staff invitations).
 */
import { ACCOUNT_TEMPLATES } from "./notification-templates/account";
import { BOOKING_TEMPLATES } from "./notification-templates/booking";
import { CERTIFICATE_TEMPLATES } from "./notification-templates/certificates";
import { GROUP_TEMPLATES } from "./notification-templates/groups";
import { GROUP_CANCELLATION_TEMPLATES } from "./notification-templates/group-cancellation";
import type { Context, Template } from "./notification-templates/context";
import { toHtml, toText } from "./notification-templates/document";
import { greetingFor, line, originOf } from "./notification-templates/format";
import { NOTIFICATION_DATA, type TemplateKind } from "./notification-templates/schemas";
import { REFUND_TEMPLATES } from "./notification-templates/refunds";
import { SESSION_CANCELLATION_TEMPLATES } from "./notification-templates/session-cancellation";
import { SESSION_TEMPLATES } from "./notification-templates/sessions";
import { WAITLIST_TEMPLATES } from "./notification-templates/waitlist";

export { escapeHtml } from "./notification-templates/document";
export { formatPence, line, maskLinkTokens, paragraphsOf, shortWhen, when } from "./notification-templates/format";
export { MAX_STAFF_MESSAGE_LENGTH, NOTIFICATION_DATA, type NotificationDataInput, type TemplateKind } from "./notification-templates/schemas";

export interface TemplateInput {
  kind: TemplateKind;
  data: unknown;
  recipient: { firstName?: string | null | undefined };
  bookingId?: string | null | undefined;
  /** The origin every link is built on (config `publicBaseUrl`), e.g. `https://book.example.com`. */
  baseUrl: string;
}

export interface RenderedNotification {
  subject: string;
  text: string;
  /** The same content as `text`, as a standalone HTML document. */
  html: string;
  template: { name: string; version: number };
}

export type RenderResult = { ok: true; message: RenderedNotification } | { ok: false; error: string };

/** Bumped when any wording changes, so a recorded message says which text it was sent with. */
export const TEMPLATE_VERSION = 1;

const TEMPLATES: { [K in TemplateKind]: Template<K> } = { ...WAITLIST_TEMPLATES, ...BOOKING_TEMPLATES, ...SESSION_TEMPLATES, ...ACCOUNT_TEMPLATES, ...CERTIFICATE_TEMPLATES, ...GROUP_TEMPLATES, ...GROUP_CANCELLATION_TEMPLATES, ...SESSION_CANCELLATION_TEMPLATES, ...REFUND_TEMPLATES };

const TEMPLATE_NAMES: Record<TemplateKind, string> = {
  WAITLIST_CONFIRM: "waitlist-confirm",
  OFFER_MADE: "offer-made",
  OFFER_EXPIRING: "offer-expiring",
  OFFER_EXPIRED: "offer-expired",
  BOOKING_CONFIRMED: "booking-confirmed",
  BOOKING_CANCELLED: "booking-cancelled",
  BOOKING_MOVED: "booking-moved",
  TRAINER_AVAILABLE: "trainer-available",
  SESSION_REMINDER: "session-reminder",
  SESSION_FOLLOW_UP: "session-follow-up",
  STAFF_MESSAGE: "staff-message",
  SIGN_IN_LINK: "sign-in-link",
  STAFF_INVITE: "staff-invite",
  CERTIFICATE_ISSUED: "certificate-issued",
  CERTIFICATE_EXPIRING: "certificate-expiring",
  RENEWAL_OFFER: "renewal-offer",
  GROUP_CONFIRMATION: "group-confirmation",
  GROUP_PARTICIPANT_CONFIRMATION: "group-participant-confirmation",
  GROUP_CANCELLED: "group-cancelled",
  SESSION_CANCELLED: "session-cancelled",
  BOOKING_REFUNDED: "booking-refunded",
};

/** Renders a notification, or says which data fields (or the base URL) are missing or wrong. */
export function renderNotification(input: TemplateInput): RenderResult {
  const base = originOf(input.baseUrl);
  if (base === undefined) return { ok: false, error: `Invalid base URL for links: ${line(input.baseUrl).slice(0, 100)}` };
  const parsed = NOTIFICATION_DATA[input.kind].safeParse(input.data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "data"}: ${issue.message}`);
    return { ok: false, error: `Invalid ${input.kind} data: ${problems.join("; ")}` };
  }
  const context: Context = {
    greeting: greetingFor(input.recipient.firstName),
    bookingId: input.bookingId ? line(input.bookingId) : null,
    service: new URL(base).host,
    link: (path) => ({ href: `${base}${path}` }),
  };
  // TEMPLATES pairs each kind with its own data type, which the parse above has just checked.
  const template = TEMPLATES[input.kind] as (data: unknown, context: Context) => ReturnType<Template<TemplateKind>>;
  const { subject, body } = template(parsed.data, context);
  const oneLineSubject = line(subject);
  return {
    ok: true,
    message: {
      subject: oneLineSubject,
      text: toText(body),
      html: toHtml(oneLineSubject, body),
      template: { name: TEMPLATE_NAMES[input.kind], version: TEMPLATE_VERSION },
    },
  };
}
