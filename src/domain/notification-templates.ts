/**
 * Notification templates: what each kind of notification says, as plain text. Pure: a kind, its
 * data and the recipient in, a subject and a body out. Each kind's `data` is checked by its zod
 * schema first; data that does not fit is a permanent failure the caller records, never a crash.
 *
 * Plain text only: every value is reduced to one line without control characters, so nothing in
 * the data can add lines to the body or headers to the subject. The recipient's name is used only
 * if it is a valid person's name (src/domain/person-name.ts), else the greeting is a plain
 * "Hello,". Links are paths in the data; each is made absolute on the `baseUrl` the caller passes
 * (PUBLIC_BASE_URL), so a message never links anywhere else. Money is integer pence shown as
 * pounds (£12.50); instants are shown in the studio's IANA zone when the data gives one, else UTC.
 */
import { IANAZone } from "luxon";
import { z } from "zod";
import { displayablePersonName } from "./person-name";
import { TOKEN_SEGMENT_PARENTS } from "./redaction";

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

/** Fields every kind may carry: where the class is, and the studio's zone for showing times. */
const Place = {
  className: Text,
  studioName: Text.optional(),
  timeZone: TimeZone.optional(),
};

const BookedSession = z.object({ sessionId: z.string().max(64).optional(), startsAt: Instant });

/** What each kind's `data` must hold. Unknown extra fields are ignored. */
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
  TRAINER_AVAILABLE: z.object({
    ...Place,
    sessionStartsAt: Instant.optional(),
    cityName: Text.optional(),
    bookLinkPath: LinkPath.optional(),
  }),
} as const;

export type TemplateKind = keyof typeof NOTIFICATION_DATA;
/** What a producer puts in `data` for a kind (before defaults and conversions). */
export type NotificationDataInput<K extends TemplateKind> = z.input<(typeof NOTIFICATION_DATA)[K]>;
type Data<K extends TemplateKind> = z.output<(typeof NOTIFICATION_DATA)[K]>;

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
  template: { name: string; version: number };
}

export type RenderResult = { ok: true; message: RenderedNotification } | { ok: false; error: string };

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
    link: (path) => `${base}${path}`,
  };
  // TEMPLATES pairs each kind with its own data type, which the parse above has just checked.
  const template = TEMPLATES[input.kind] as (data: unknown, context: Context) => Omit<RenderedNotification, "template">;
  const { subject, text } = template(parsed.data, context);
  return { ok: true, message: { subject: line(subject), text, template: { name: TEMPLATE_NAMES[input.kind], version: TEMPLATE_VERSION } } };
}

/** Bumped when any wording changes, so a recorded message says which text it was sent with. */
export const TEMPLATE_VERSION = 1;

const TEMPLATE_NAMES: Record<TemplateKind, string> = {
  WAITLIST_CONFIRM: "waitlist-confirm",
  OFFER_MADE: "offer-made",
  OFFER_EXPIRING: "offer-expiring",
  OFFER_EXPIRED: "offer-expired",
  BOOKING_CONFIRMED: "booking-confirmed",
  BOOKING_CANCELLED: "booking-cancelled",
  TRAINER_AVAILABLE: "trainer-available",
};

interface Context {
  greeting: string;
  bookingId: string | null;
  /** A path on this service as an absolute link. */
  link: (path: string) => string;
}

/** How many sessions a message lists before summarising the rest. */
const LISTED_SESSIONS = 10;

const TEMPLATES: { [K in TemplateKind]: (data: Data<K>, context: Context) => { subject: string; text: string } } = {
  WAITLIST_CONFIRM: (data, { greeting, link }) => ({
    subject: `Confirm your place on the waitlist: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    text: body(
      greeting,
      `You asked to join the waitlist for ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}, for ${seats(data.seats)}.`,
      `Confirm it is you, and you take your place in line: ${link(data.confirmLinkPath)}`,
      data.confirmBy === undefined ? null : `Unconfirmed requests are dropped at ${when(data.confirmBy, data.timeZone)}.`,
      "If you did not ask for this, ignore this message: nothing happens without the link.",
    ),
  }),
  OFFER_MADE: (data, { greeting, link }) => ({
    subject: `A place is free: ${line(data.className)}, ${shortWhen(data.sessionStartsAt, data.timeZone)}`,
    text: body(
      greeting,
      `A place has opened up for you from the waitlist for ${line(data.className)} on ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}.`,
      `We are holding ${seats(data.seats)} for you until ${when(data.offerExpiresAt, data.timeZone)}.` +
        (data.totalAmountPence === undefined ? "" : ` Price: ${formatPence(data.totalAmountPence)}.`),
      `Claim your place: ${link(data.acceptLinkPath)}`,
      data.declineLinkPath === undefined ? null : `No longer need it? Let the next person have it: ${link(data.declineLinkPath)}`,
      "If it is not claimed by then, the place goes to the next person on the waitlist.",
    ),
  }),
  OFFER_EXPIRING: (data, { greeting, link }) => ({
    subject: `Reminder: your place on ${line(data.className)} is held until ${shortWhen(data.offerExpiresAt, data.timeZone)}`,
    text: body(
      greeting,
      `The place we are holding for you on ${line(data.className)} (${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}) ` +
        `is released at ${when(data.offerExpiresAt, data.timeZone)}.`,
      `Claim it now: ${link(data.acceptLinkPath)}`,
    ),
  }),
  OFFER_EXPIRED: (data, { greeting }) => ({
    subject: `Your held place on ${line(data.className)} has been released`,
    text: body(
      greeting,
      `The place we held for you on ${line(data.className)} (${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}) ` +
        "was not claimed in time, so it has gone to the next person on the waitlist.",
      "If you would still like to come, you can join the waitlist again or choose another date.",
    ),
  }),
  BOOKING_CONFIRMED: (data, { greeting, bookingId, link }) => ({
    subject: `Booking confirmed: ${line(data.className)}, ${shortWhen(firstStart(data.sessions), data.timeZone)}`,
    text: body(
      greeting,
      `Your booking for ${line(data.className)}${at(data.studioName)} is confirmed.`,
      sessionList(data.sessions, data.timeZone),
      `Seats: ${data.seats}\nTotal paid: ${formatPence(data.totalAmountPence)}`,
      bookingId ? `Booking reference: ${bookingId}` : null,
      `View or cancel your booking: ${link(data.manageLinkPath)}`,
    ),
  }),
  BOOKING_CANCELLED: (data, { greeting, bookingId, link }) => ({
    subject: `Booking cancelled: ${line(data.className)}` + (data.sessions.length > 0 ? `, ${shortWhen(firstStart(data.sessions), data.timeZone)}` : ""),
    text: body(
      greeting,
      `Your booking for ${line(data.className)}${at(data.studioName)}${bookingId ? ` (reference ${bookingId})` : ""} has been cancelled, ` +
        `and its ${seats(data.seats)} released.`,
      data.sessions.length > 0 ? sessionList(data.sessions, data.timeZone) : null,
      data.totalAmountPence === undefined ? null : `Booking total: ${formatPence(data.totalAmountPence)}`,
      data.manageLinkPath ? `View the booking: ${link(data.manageLinkPath)}` : null,
    ),
  }),
  TRAINER_AVAILABLE: (data, { greeting, link }) => ({
    subject: `${line(data.className)} can now be booked`,
    text: body(
      greeting,
      `You asked us to let you know when ${line(data.className)}${data.cityName ? ` in ${line(data.cityName)}` : ""} could be booked: ` +
        "an instructor is now assigned.",
      data.sessionStartsAt === undefined ? null : `Next session: ${when(data.sessionStartsAt, data.timeZone)}${at(data.studioName)}`,
      data.bookLinkPath ? `Book now: ${link(data.bookLinkPath)}` : null,
    ),
  }),
};

/** Paragraphs separated by blank lines; absent ones left out. */
function body(...paragraphs: (string | null)[]): string {
  return paragraphs.filter((paragraph): paragraph is string => paragraph !== null).join("\n\n") + "\n";
}

/** "Hi Ada," with a valid first name only; anything else (a link, an instruction, invisible characters) is never echoed. */
function greetingFor(firstName: string | null | undefined): string {
  const name = displayablePersonName(firstName);
  return name ? `Hi ${line(name)},` : "Hello,";
}

/** The http(s) origin of a base URL (`https://book.example.com/` → `https://book.example.com`), or undefined. */
function originOf(baseUrl: string): string | undefined {
  try {
    const url = new URL(baseUrl);
    const bare = (url.pathname === "/" || url.pathname === "") && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
    return bare && (url.protocol === "https:" || url.protocol === "http:") ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

const at = (studioName: string | undefined) => (studioName ? ` at ${line(studioName)}` : "");
const seats = (count: number) => (count === 1 ? "1 seat" : `${count} seats`);

const firstStart = (sessions: { startsAt: number }[]) => Math.min(...sessions.map((session) => session.startsAt));

function sessionList(sessions: { startsAt: number }[], zone: string | undefined): string {
  const sorted = [...sessions].sort((a, b) => a.startsAt - b.startsAt);
  const lines = sorted.slice(0, LISTED_SESSIONS).map((session) => `- ${when(session.startsAt, zone)}`);
  if (sorted.length > LISTED_SESSIONS) lines.push(`- and ${sorted.length - LISTED_SESSIONS} more`);
  return `${sorted.length === 1 ? "Session" : `Sessions (${sorted.length})`}:\n${lines.join("\n")}`;
}

/** One line of plain text: control characters (newlines included) become spaces. */
export function line(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/ {2,}/g, " ").trim();
}

const poundFormat = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });

/** Integer pence as pounds: 1250 → "£12.50". */
export function formatPence(pence: number): string {
  return poundFormat.format(pence / 100);
}

/** Formatters by zone and form: building an Intl formatter costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The parts of an instant on a zone's wall clock (en-GB names, 24-hour clock). */
function wallClock(epochMs: number, zone: string | undefined, form: "long" | "short"): Record<string, string> {
  const timeZone = zone ?? "UTC";
  const key = `${form} ${timeZone}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: form,
      day: "numeric",
      month: form,
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    if (formatters.size < 500) formatters.set(key, format);
  }
  return Object.fromEntries(format.formatToParts(epochMs).map((part) => [part.type, part.value]));
}

/** An instant on the studio's wall clock with its zone: "Saturday 14 March 2026, 18:00 GMT". */
export function when(epochMs: number, zone: string | undefined): string {
  const p = wallClock(epochMs, zone, "long");
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

/** The short form for subjects: "Sat 14 Mar, 18:00". */
export function shortWhen(epochMs: number, zone: string | undefined): string {
  const p = wallClock(epochMs, zone, "short");
  return `${p.weekday} ${p.day} ${p.month}, ${p.hour}:${p.minute}`;
}

/** The token segment of a link to a token route (the routes src/domain/redaction.ts masks in logs). */
const TOKEN_SEGMENT = new RegExp(`(/(?:${TOKEN_SEGMENT_PARENTS.join("|")})/)[^/?#\\s]+`, "g");

/**
 * The text to keep on record: the values of `token`-like query parameters in links, and the
 * token path segment of waitlist offer and confirmation links, are masked, so a stored message never holds a
 * credential (a booking's manage token, an offer token).
 */
export function maskLinkTokens(text: string): string {
  return text.replace(/([?&][^=&\s#]*token=)[^&\s#]+/gi, "$1[redacted]").replace(TOKEN_SEGMENT, "$1[redacted]");
}
