/**
 * How values appear in messages: one-line text, staff's multi-line text, money, instants on the
 * studio's wall clock, the greeting and the link origin. Pure, shared by every template.
 */
import { displayablePersonName } from "../person-name";
import { TOKEN_SEGMENT_PARENTS } from "../redaction";

/** One line of plain text: control characters (newlines included) become spaces. */
export function line(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/ {2,}/g, " ").trim();
}

/**
 * Free text written by staff as paragraphs of lines: line breaks are kept (CR LF and lone CR count
 * as one), every line is reduced like a value (`line`), and runs of blank lines become one
 * paragraph break, so the text can shape paragraphs but never smuggle control characters in.
 */
export function paragraphsOf(value: string): string[] {
  return value
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, "\n")
    .split(/\n[ \t]*\n\s*/)
    .map((paragraph) => paragraph.split("\n").map(line).filter((text) => text !== "").join("\n"))
    .filter((paragraph) => paragraph !== "");
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

/** "Hi Ada," with a valid first name only; anything else (a link, an instruction, invisible characters) is never echoed. */
export function greetingFor(firstName: string | null | undefined): string {
  const name = displayablePersonName(firstName);
  return name ? `Hi ${line(name)},` : "Hello,";
}

/** The http(s) origin of a base URL (`https://book.example.com/` → `https://book.example.com`), or undefined. */
export function originOf(baseUrl: string): string | undefined {
  try {
    const url = new URL(baseUrl);
    const bare = (url.pathname === "/" || url.pathname === "") && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
    return bare && (url.protocol === "https:" || url.protocol === "http:") ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export const at = (studioName: string | undefined) => (studioName ? ` at ${line(studioName)}` : "");
export const seats = (count: number) => (count === 1 ? "1 seat" : `${count} seats`);

/** The token segment of a link to a token route (the routes src/domain/redaction.ts masks in logs). */
const TOKEN_SEGMENT = new RegExp(`(/(?:${TOKEN_SEGMENT_PARENTS.join("|")})/)[^/?#\\s"'<>]+`, "g");

/**
 * The text to keep on record: the values of `token`-like query parameters in links, and the
 * token path segment of waitlist offer and confirmation links, are masked, so a stored message never holds a
 * credential (a booking's manage token, an offer token).
 */
export function maskLinkTokens(text: string): string {
  return text.replace(/([?&][^=&\s#]*token=)[^&\s#"'<>]+/gi, "$1[redacted]").replace(TOKEN_SEGMENT, "$1[redacted]");
}
