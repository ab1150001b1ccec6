/**
 * How the customer pages' features (manage booking, waitlist, offers, notify me, my bookings) call
 * the JSON API: same origin, so the session cookie rides along and the browser adds Origin (the
 * CSRF check). Every API error code becomes a sentence a customer can act on; a code not listed
 * here falls back to the API's own message, which is written for people too.
 */

export interface ApiAnswer<T = unknown> {
  ok: boolean;
  status: number;
  body: T;
  /** For a failure: the error code (or NETWORK when nothing came back). */
  code?: string;
  /** For a failure: what to tell the customer. */
  message?: string;
}

const MESSAGES: Record<string, string> = {
  VALIDATION_FAILED: "Some details are missing or not valid. Check the form and try again.",
  UNAUTHENTICATED: "Please sign in, or open this page from the link in your email.",
  INVALID_TOKEN: "Your sign-in has expired. Please sign in again.",
  SESSION_ENDED: "You were signed out. Please sign in again.",
  FORBIDDEN: "You cannot do this with this link or account.",
  CSRF_REFUSED: "This request was refused for your safety. Reload the page and try again.",
  NOT_FOUND: "We could not find that. It may have been removed.",
  SESSION_NOT_FOUND: "This session no longer exists.",
  SESSION_NOT_BOOKABLE: "This session can no longer be booked or changed (it has started, or was cancelled).",
  NO_TRAINER: "This class has no trainer yet, so it cannot be booked. Ask to be notified instead.",
  SESSION_FULL: "Sorry, this session is full.",
  INSUFFICIENT_CAPACITY: "There are not enough seats left for your party.",
  RESOURCE_UNAVAILABLE: "The equipment this class needs has run out for that many seats.",
  DUPLICATE_BOOKING: "This email address is already booked on, or waiting for, this session.",
  HOLD_EXPIRED: "The seats held for you have been released because the time ran out.",
  SEAT_LIMIT_EXCEEDED: "That is more seats than one person may take in this session.",
  AMOUNT_MISMATCH: "The price has changed since this page was loaded. Reload the page to see the new price.",
  INVALID_AMOUNT: "The price could not be worked out. Reload the page and try again.",
  CURRENCY_NOT_SUPPORTED: "Only payments in pounds (GBP) are accepted.",
  PROMO_INVALID: "That promo code is not valid.",
  PROMO_EXPIRED: "That promo code has expired.",
  PROMO_EXHAUSTED: "That promo code has been used up.",
  IDEMPOTENCY_IN_PROGRESS: "Your previous attempt is still being processed. Wait a moment and try again.",
  IDEMPOTENCY_KEY_REUSED: "Something changed since your last attempt. Reload the page and try again.",
  WAITLIST_NOT_NEEDED: "There are seats available, so there is no need to wait: book on the class page.",
  WAITLIST_ENTRY_NOT_FOUND: "We could not find that waitlist place or offer.",
  WAITLIST_LIMIT_EXCEEDED: "Too many parties from your connection are already waiting for this session.",
  OFFER_NOT_AVAILABLE: "This offer is no longer open: it has expired, was declined, or was accepted already.",
  RATE_LIMITED: "Too many attempts. Please wait a minute and try again.",
  PAYLOAD_TOO_LARGE: "That is too much text. Shorten it and try again.",
  SERVICE_UNAVAILABLE: "The service is busy just now. Please try again in a minute.",
  INTERNAL_ERROR: "Something went wrong on our side. Please try again.",
  NETWORK: "We could not reach the server. Check your connection and try again.",
};

/** The sentence for an error code, else the API's message, else a general one. */
export function messageFor(code: string | undefined, apiMessage?: string): string {
  return (code && MESSAGES[code]) || apiMessage || "Something went wrong. Please try again.";
}

/** A fresh key for a POST that creates something (retries with the same key replay, never repeat). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** Calls the API and never throws: a failure comes back with its code and customer-facing message. */
export async function callApi<T = unknown>(method: "GET" | "POST", path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin", body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    return { ok: false, status: 0, body: undefined as T, code: "NETWORK", message: messageFor("NETWORK") };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (response.ok) return { ok: true, status: response.status, body: body as T };
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = error?.code ?? `HTTP_${response.status}`;
  return { ok: false, status: response.status, body: body as T, code, message: messageFor(error?.code, error?.message) };
}

/** Shows a message in a live region, as success or error (the region is announced by screen readers). */
export function say(region: Element | null, text: string, kind: "success" | "error" | "info"): void {
  if (!region) return;
  region.textContent = text;
  region.classList.remove("success", "error", "info");
  region.classList.add(kind);
}
