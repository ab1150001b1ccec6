/**
 * Resend (NOTIFICATION_PROVIDER resend): sends email through its HTTPS API, POST /emails
 * (https://resend.com/docs/api-reference/emails/send-email). The request's id goes as the
 * Idempotency-Key, so a retry after a lost response sends nothing twice (Resend keeps keys 24 h).
 * What happens to the message afterwards arrives by webhook (src/services/delivery-events.ts).
 *
 * Failures (https://resend.com/docs/api-reference/errors): a request Resend will never accept
 * (400/422 validation_error, missing_required_field, invalid_parameter …) is a
 * PermanentDeliveryError; 401/403 (missing or invalid key, unverified From domain) is our
 * configuration, so it is retried until fixed (then dead-lettered like any failure); 408, 409
 * (concurrent_idempotent_requests), 429 (rate or quota) and 5xx, and any network error, are retried.
 */
import { type NotificationProvider, type OutgoingMessage, PermanentDeliveryError } from "../notification-providers";

/** Fixed, never configurable: nothing a setting says can point our API key somewhere else. */
export const RESEND_EMAILS_URL = "https://api.resend.com/emails";

/** Longer than Resend ever takes, well inside the consumer's send lease (SEND_LEASE_MS). */
const REQUEST_TIMEOUT_MS = 15_000;

/** Resend's documented tag charset (ASCII letters, digits, _ and -, at most 256). */
const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

/** Statuses that may succeed later: timeout, idempotent request in flight, rate limit or quota. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

export class ResendProvider implements NotificationProvider {
  readonly name = "resend";
  readonly recordsDelivery = false;
  private readonly fetcher: typeof fetch;

  constructor(
    private readonly options: { apiKey: string; from: string },
    fetcher: typeof fetch = fetch,
  ) {
    // Called unbound: the Workers runtime refuses `fetch` invoked as a method of another object.
    this.fetcher = (input, init) => fetcher(input, init);
  }

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    if (message.channel !== "email") throw new PermanentDeliveryError("Resend sends email only");
    const body: Record<string, unknown> = { from: this.options.from, to: [message.to.email], subject: message.subject, text: message.text };
    if (message.html) body.html = message.html;
    if (TAG_VALUE.test(message.kind)) body.tags = [{ name: "kind", value: message.kind }];
    const request = new Request(RESEND_EMAILS_URL, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${this.options.apiKey}`,
        "Content-Type": "application/json",
        "Idempotency-Key": message.id,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });

    let response: Response;
    try {
      response = await this.fetcher(request);
    } catch (error) {
      throw new Error(`Resend could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    }

    if (response.ok) {
      const json = (await response.json().catch(() => null)) as { id?: unknown } | null;
      if (typeof json?.id !== "string" || json.id === "") throw new Error(`Resend answered ${response.status} without an email id`);
      return { providerMessageId: json.id };
    }

    const problem = await describeError(response);
    const { status } = response;
    if (status === 401 || status === 403) throw new Error(`Resend refused the request (check RESEND_API_KEY and RESEND_FROM): ${problem}`);
    if (status >= 500 || RETRYABLE_4XX.has(status)) throw new Error(`Resend could not send it now: ${problem}`);
    throw new PermanentDeliveryError(`Resend refused the message: ${problem}`);
  }
}

/** `422 validation_error: Invalid \`to\` field…` from Resend's `{statusCode, name, message}`, clipped. */
async function describeError(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  let name = "";
  let detail = text;
  try {
    const json = JSON.parse(text) as { name?: unknown; message?: unknown };
    if (typeof json.name === "string") name = json.name;
    if (typeof json.message === "string") detail = json.message;
  } catch {
    // Not JSON (a proxy's error page): keep the text.
  }
  const retryAfter = response.headers.get("Retry-After");
  const summary = `${response.status}${name ? ` ${name}` : ""}: ${detail.trim() || response.statusText}${retryAfter ? ` (retry after ${retryAfter} s)` : ""}`;
  return summary.length > 300 ? `${summary.slice(0, 299)}…` : summary;
}
