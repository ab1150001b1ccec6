/**
 * The Resend provider against a stand-in for its API: the request is exactly what
 * https://resend.com/docs/api-reference/emails/send-email documents, and each failure is
 * permanent or retried as https://resend.com/docs/api-reference/errors says it should be.
 */
import { describe, expect, it } from "vitest";
import { type OutgoingMessage, PermanentDeliveryError } from "../src/services/notification-providers";
import { RESEND_EMAILS_URL, ResendProvider } from "../src/services/providers/resend";

const message: OutgoingMessage = {
  id: "booking-confirmed:bkg_123",
  kind: "BOOKING_CONFIRMED",
  channel: "email",
  to: { email: "ada@example.test", name: "Ada Lovelace" },
  subject: "Booking confirmed: Wheel basics",
  text: "See you there.\nManage: https://book.example/api/v1/bookings/bkg_123?token=t0k3n",
};

/** A provider whose API answers `respond`, and the requests it was sent. */
function providerAnswering(respond: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request.clone());
    return respond(request);
  }) as typeof fetch;
  return { provider: new ResendProvider({ apiKey: "re_test_key", from: "Studio <bookings@studio.example>" }, fetcher), requests };
}

const resendError = (status: number, name: string, text: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ statusCode: status, name, message: text }), { status, headers: { "Content-Type": "application/json", ...headers } });

describe("ResendProvider", () => {
  it("is named resend and leaves marking the message sent to the consumer", () => {
    const { provider } = providerAnswering(() => new Response("{}"));
    expect(provider.name).toBe("resend");
    expect(provider.recordsDelivery).toBe(false);
  });

  it("POSTs the documented body to api.resend.com/emails with the key and the request id as Idempotency-Key", async () => {
    const { provider, requests } = providerAnswering(() => Response.json({ id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" }));
    await expect(provider.send(message)).resolves.toEqual({ providerMessageId: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.url).toBe("https://api.resend.com/emails");
    expect(RESEND_EMAILS_URL).toBe("https://api.resend.com/emails");
    expect(request!.method).toBe("POST");
    expect(request!.headers.get("Authorization")).toBe("Bearer re_test_key");
    expect(request!.headers.get("Content-Type")).toBe("application/json");
    expect(request!.headers.get("Idempotency-Key")).toBe("booking-confirmed:bkg_123");
    expect(await request!.json()).toEqual({
      from: "Studio <bookings@studio.example>",
      to: ["ada@example.test"],
      subject: "Booking confirmed: Wheel basics",
      text: "See you there.\nManage: https://book.example/api/v1/bookings/bkg_123?token=t0k3n",
      tags: [{ name: "kind", value: "BOOKING_CONFIRMED" }],
    });
  });

  it("sends the same Idempotency-Key on a retry, so Resend sends the email once", async () => {
    const { provider, requests } = providerAnswering(() => Response.json({ id: "em_1" }));
    await provider.send(message);
    await provider.send(message);
    expect(requests.map((r) => r.headers.get("Idempotency-Key"))).toEqual([message.id, message.id]);
  });

  it.each([
    [422, "validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` format."],
    [400, "validation_error", "We found an error with one or more fields in the request."],
    [422, "missing_required_field", "Missing `to` field."],
  ])("treats %i %s as permanent: retrying cannot help", async (status, name, text) => {
    const { provider } = providerAnswering(() => resendError(status, name, text));
    const sent = provider.send(message);
    await expect(sent).rejects.toBeInstanceOf(PermanentDeliveryError);
    await expect(sent).rejects.toThrow(`${status} ${name}`);
  });

  it.each([
    [429, "rate_limit_exceeded", "Too many requests. You can only make 2 requests per second."],
    [500, "internal_server_error", "An unexpected error occurred."],
    [503, "application_error", "Something went wrong."],
    [409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress."],
  ])("retries %i %s", async (status, name, text) => {
    const { provider } = providerAnswering(() => resendError(status, name, text, status === 429 ? { "Retry-After": "1" } : {}));
    const sent = provider.send(message);
    await expect(sent).rejects.toThrow(name);
    await expect(sent).rejects.not.toBeInstanceOf(PermanentDeliveryError);
  });

  it.each([
    [401, "missing_api_key", "Missing API key in the authorization header."],
    [403, "invalid_api_key", "API key is invalid."],
    [403, "validation_error", "The studio.example domain is not verified."],
  ])("retries %i %s: a bad key or From domain is our configuration, not the message", async (status, name, text) => {
    const { provider } = providerAnswering(() => resendError(status, name, text));
    const sent = provider.send(message);
    await expect(sent).rejects.toThrow(/RESEND_API_KEY/);
    await expect(sent).rejects.not.toBeInstanceOf(PermanentDeliveryError);
  });

  it("retries when Resend cannot be reached, or answers without an id", async () => {
    const unreachable = providerAnswering(() => {
      throw new TypeError("Network connection lost.");
    });
    const failed = unreachable.provider.send(message);
    await expect(failed).rejects.toThrow(/could not be reached/);
    await expect(failed).rejects.not.toBeInstanceOf(PermanentDeliveryError);

    const odd = providerAnswering(() => new Response("<html>gateway</html>", { status: 200 }));
    await expect(odd.provider.send(message)).rejects.not.toBeInstanceOf(PermanentDeliveryError);
  });

  it("refuses SMS for good, without calling Resend", async () => {
    const { provider, requests } = providerAnswering(() => Response.json({ id: "em_1" }));
    const sent = provider.send({ ...message, channel: "sms" });
    await expect(sent).rejects.toBeInstanceOf(PermanentDeliveryError);
    await expect(sent).rejects.toThrow("Resend sends email only");
    expect(requests).toHaveLength(0);
  });
});
