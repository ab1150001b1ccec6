/**
 * Outgoing webhooks (Standard Webhooks, https://www.standardwebhooks.com), the pure parts: which
 * events a subscriber can have and which domain events they come from, the body a subscriber
 * receives, the retry schedule, the signature, and which URLs may receive anything at all.
 */
import type { DomainEvent, EventType } from "./events";

/** The event types an endpoint may subscribe to, and the domain event each one is. */
export const WEBHOOK_EVENT_OF = {
  BOOKING_CONFIRMED: "booking.confirmed",
  BOOKING_CANCELLED: "booking.cancelled",
  SESSION_FULL: "session.full",
  SESSION_REOPENED: "session.reopened",
  SESSION_CANCELLED: "session.cancelled",
  OFFER_SENT: "waitlist.offer_made",
  ATTENDED: "attendance.checked_in",
  NO_SHOW: "attendance.no_show",
  CERTIFICATE_ISSUED: "certificate.issued",
} as const satisfies Partial<Record<EventType, string>>;

/** Sent only by `POST /admin/webhooks/{id}/test`; every endpoint receives it whatever it subscribed to. */
export const WEBHOOK_TEST_EVENT = "webhook.test";

export const WEBHOOK_EVENT_TYPES = Object.values(WEBHOOK_EVENT_OF) as [WebhookEventType, ...WebhookEventType[]];
export type WebhookEventType = (typeof WEBHOOK_EVENT_OF)[keyof typeof WEBHOOK_EVENT_OF];

/** The webhook type a domain event is delivered as, or undefined when no subscriber can have it. */
export function webhookTypeOf(type: EventType): WebhookEventType | undefined {
  return (WEBHOOK_EVENT_OF as Partial<Record<EventType, WebhookEventType>>)[type];
}

/** What a subscriber receives: `{type, timestamp, data}`. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Keys of an event's free-form `data` a subscriber may see: ids and facts, never tokens, secrets or
 * free text a customer typed. Anything not listed stays in the studio.
 */
const SHARED_DATA_KEYS = [
  "currency",
  "guestCount",
  "sessionIds",
  "attendeeId",
  "position",
  "certificateId",
  "number",
  "entryId",
  "offerNumber",
  "offerExpiresAt",
  "priority",
  "capacity",
  "booked",
  "held",
  "availableSpots",
  "by",
  "reason",
] as const;

const isShareable = (value: unknown) =>
  value === null || ["string", "number", "boolean"].includes(typeof value) || (Array.isArray(value) && value.every((item) => typeof item === "string" || typeof item === "number"));

/** The body delivered for a domain event (its webhook type must exist). */
export function payloadOf(event: DomainEvent, type: WebhookEventType): WebhookPayload {
  const data: Record<string, unknown> = { eventId: event.id, occurredAt: new Date(event.occurredAt).toISOString() };
  const columns = ["sessionId", "classId", "studioId", "bookingId", "customerId", "seats", "amountPence", "source", "code"] as const;
  for (const column of columns) if (event[column] !== undefined && event[column] !== null) data[column] = event[column];
  for (const key of SHARED_DATA_KEYS) {
    const value = event.data?.[key];
    if (value !== undefined && isShareable(value)) data[key] = value;
  }
  return { type, timestamp: new Date(event.occurredAt).toISOString(), data };
}

export function testPayload(endpointId: string, now: number): WebhookPayload {
  return { type: WEBHOOK_TEST_EVENT, timestamp: new Date(now).toISOString(), data: { endpointId, message: "A test message from the studio's booking service" } };
}

/**
 * Seconds to wait before each retry after a failed attempt (the schedule Standard Webhooks
 * suggests, shortened at the top): attempt 1 fails → 30 s, … attempt 5 fails → 6 h, attempt 6 is
 * the last. Queues delay a message at most 12 h, so every step fits one `retry({ delaySeconds })`.
 */
export const RETRY_DELAYS_SECONDS = [30, 120, 600, 3600, 6 * 3600] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** The delay before the next attempt after `attempts` failed ones, or null when that was the last. */
export function retryDelayAfter(attempts: number): number | null {
  return attempts >= 1 && attempts <= RETRY_DELAYS_SECONDS.length ? RETRY_DELAYS_SECONDS[attempts - 1]! : null;
}

/** A fresh signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The `webhook-signature` header: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's bytes. */
export async function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const keyBytes = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Why a URL may not receive webhooks (a sentence for the 400), or null when it may. */
export function webhookUrlRefusal(text: string, environment: "development" | "production"): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.username !== "" || url.password !== "") return "must not carry credentials";
  const development = environment === "development";
  if (url.protocol !== "https:" && !(development && url.protocol === "http:")) return development ? "must be http(s)" : "must be https";
  // The WHATWG parser has already turned 0x7f000001, 2130706433, 0177.0.0.1 and 127.1 into 127.0.0.1,
  // so every IPv4 spelling arrives here in dotted form; the raw text is checked too, for what it did not.
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const loopback = isLoopbackHost(host);
  if (loopback) return development ? null : "must not point at this machine (loopback)";
  if (host === "localhost" || host.endsWith(".localhost")) return "must not point at this machine";
  if (host.endsWith(".local") || host.endsWith(".internal") || host.endsWith(".lan") || host.endsWith(".home.arpa") || !host.includes(".") && !host.startsWith("[")) {
    return "must be a public host name (not a local or internal one)";
  }
  const ipv4 = ipv4Of(host);
  if (ipv4 && privateIpv4(ipv4)) return "must not point at a private, loopback, link-local or reserved address";
  if (host.startsWith("[") && privateIpv6(host.slice(1, -1))) return "must not point at a private, loopback, link-local or reserved address";
  // Not checked here, and what a production deploy should add: where the host name resolves. A
  // Worker cannot resolve DNS itself (and its fetch cannot reach private networks anyway); a deploy
  // that delivers from elsewhere must resolve the name at each delivery and refuse private answers.
  return null;
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const ipv4 = ipv4Of(host);
  if (ipv4) return ipv4[0] === 127;
  return host === "[::1]";
}

function ipv4Of(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/** Private (10/8, 172.16/12, 192.168/16), loopback, link-local, CGNAT, "this network", benchmarking, multicast and reserved ranges. */
function privateIpv4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a! >= 224
  );
}

/** Loopback, unspecified, unique-local (fc00::/7), link-local (fe80::/10), and IPv4 mapped or embedded in IPv6. */
function privateIpv6(address: string): boolean {
  const text = address.toLowerCase();
  if (text === "::1" || text === "::") return true;
  if (/^f[cd]/.test(text) || /^fe[89ab]/.test(text)) return true;
  // ::ffff:a.b.c.d (the URL parser writes it ::ffff:7f00:1), ::a.b.c.d, 64:ff9b:: (NAT64): the IPv4 inside decides, so refuse them all.
  if (text.startsWith("::ffff:") || text.startsWith("64:ff9b:") || /^::[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(text) || text.includes(".")) return true;
  return false;
}
