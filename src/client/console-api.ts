/**
 * How the studio console's buttons and forms call the admin API: same origin (the session cookie
 * rides along, the browser adds Origin for the CSRF check), and every error code turned into a
 * sentence for staff. A code not listed falls back to the API's own message, written for people too.
 */

export interface ConsoleAnswer {
  ok: boolean;
  status: number;
  body: unknown;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: "You are not signed in any more. Sign in again and retry.",
  INVALID_TOKEN: "Your sign-in has expired. Sign in again and retry.",
  SESSION_ENDED: "You were signed out. Sign in again and retry.",
  FORBIDDEN: "Only an admin can do this. Ask an admin, or sign in with an admin account.",
  CSRF_REFUSED: "The request was refused for safety (it did not come from this site). Reload the page and try again.",
  NOT_FOUND: "That no longer exists. Reload the page to see the current state.",
  SESSION_NOT_FOUND: "This session no longer exists.",
  WAITLIST_ENTRY_NOT_FOUND: "That waiting-list entry no longer exists. Reload the page.",
  STAFF_NOT_QUALIFIED: "Someone chosen may not teach this class (inactive, or without its teaching role).",
  STAFF_DOUBLE_BOOKED: "Someone chosen is already on another session at this time.",
  IN_USE: "This cannot be changed while seats are booked or held.",
  WAITLIST_NOT_NEEDED: "The session has free seats, so nobody needs to wait: book them in instead.",
  WAITLIST_LIMIT_EXCEEDED: "The waiting list has reached its limit for this session.",
  OFFER_NOT_AVAILABLE: "An offer cannot be made now: the party does not fit the seats free, or the entry is no longer waiting.",
  DUPLICATE_BOOKING: "This person is already booked on, or waiting for, this session.",
  SESSION_NOT_BOOKABLE: "This session has started or was cancelled.",
  INVALID_REFERENCE: "Something referred to does not exist any more. Reload the page.",
  IDEMPOTENCY_IN_PROGRESS: "The previous attempt is still being processed. Wait a moment and reload.",
  RATE_LIMITED: "Too many attempts. Wait a minute and try again.",
  PAYLOAD_TOO_LARGE: "That is too much text. Shorten it and try again.",
  SERVICE_UNAVAILABLE: "The service is busy just now. Try again in a minute.",
  INTERNAL_ERROR: "Something went wrong on our side. Try again; if it keeps happening, check the alerts.",
  NETWORK: "The server could not be reached. Check the connection and try again.",
};

/** The sentence for a code; validation failures keep the API's field-level message. */
export function consoleMessage(code: string | undefined, apiMessage?: string): string {
  if (code === "VALIDATION_FAILED" && apiMessage) return `Check the form: ${apiMessage.replace(/^Invalid (body|query|param)\.\s*/, "")}`;
  return (code && MESSAGES[code]) || apiMessage || "Something went wrong. Try again.";
}

/** Calls the admin API and never throws; a POST carries a fresh Idempotency-Key. */
export async function consoleCall(method: string, url: string, body?: unknown): Promise<ConsoleAnswer> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  let response: Response;
  try {
    response = await fetch(url, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, body: undefined, code: "NETWORK", message: consoleMessage("NETWORK") };
  }
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    parsed = undefined;
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed };
  const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  const code = error?.code ?? `HTTP_${response.status}`;
  return { ok: false, status: response.status, body: parsed, code, message: consoleMessage(error?.code, error?.message), ...(error?.details ? { details: error.details } : {}) };
}
