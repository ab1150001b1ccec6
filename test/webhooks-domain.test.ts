import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { domainEvent, EVENT_TYPES } from "../src/domain/events";
import {
  MAX_ATTEMPTS,
  newWebhookSecret,
  payloadOf,
  retryDelayAfter,
  signatureOf,
  WEBHOOK_EVENT_OF,
  WEBHOOK_EVENT_TYPES,
  webhookTypeOf,
  webhookUrlRefusal,
} from "../src/domain/webhooks";

describe("webhooks domain: URL rules (SSRF)", () => {
  const refusedEverywhere = [
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://0x0a000001/hook",
    "https://167772161/hook",
    "https://012.0.0.1/hook",
    "https://printer.local/hook",
    "https://db.internal/hook",
    "https://intranet/hook",
    "https://user:pass@hooks.example.com/hook",
    "ftp://hooks.example.com/hook",
    "not a url",
  ];
  for (const url of refusedEverywhere) {
    it(`refuses ${url} in production and in development`, () => {
      expect(webhookUrlRefusal(url, "production")).toEqual(expect.any(String));
      expect(webhookUrlRefusal(url, "development")).toEqual(expect.any(String));
    });
  }

  const loopback = ["https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://0x7f000001/hook", "https://2130706433/hook", "https://0177.0.0.1/hook", "https://127.1/hook"];
  for (const url of loopback) {
    it(`refuses loopback ${url} in production, allows it in development`, () => {
      expect(webhookUrlRefusal(url, "production")).toMatch(/loopback|this machine/);
      expect(webhookUrlRefusal(url, "development")).toBeNull();
    });
  }

  it("refuses plain http in production, allows it in development (the local e2e receiver)", () => {
    expect(webhookUrlRefusal("http://127.0.0.1:9999/hook", "production")).toBe("must be https");
    expect(webhookUrlRefusal("http://127.0.0.1:9999/hook", "development")).toBeNull();
    expect(webhookUrlRefusal("http://10.0.0.1:9999/hook", "development")).toMatch(/private/);
    expect(webhookUrlRefusal("http://hooks.example.com/x", "production")).toBe("must be https");
    expect(webhookUrlRefusal("http://hooks.example.com/x", "development")).toBeNull();
  });

  it("allows a public https URL, and public IP literals", () => {
    expect(webhookUrlRefusal("https://hooks.example.com/studio?x=1", "production")).toBeNull();
    expect(webhookUrlRefusal("https://8.8.8.8/hook", "production")).toBeNull();
    expect(webhookUrlRefusal("https://[2606:4700::1111]/hook", "production")).toBeNull();
  });
});

describe("webhooks domain: signatures", () => {
  it("signs as the standardwebhooks package verifies; another secret or a changed body does not verify", async () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: "booking.confirmed", timestamp: new Date().toISOString(), data: { bookingId: "bkg_1" } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(timestamp), "webhook-signature": await signatureOf(secret, "msg_1", timestamp, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // The same bytes as the package's own signer.
    expect(headers["webhook-signature"]).toBe(new Webhook(secret).sign("msg_1", new Date(timestamp * 1000), body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace("bkg_1", "bkg_2"), headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "msg_2" })).toThrow();
  });

  it("makes a different secret every time", () => {
    expect(new Set(Array.from({ length: 20 }, newWebhookSecret)).size).toBe(20);
  });
});

describe("webhooks domain: events, payloads, retries", () => {
  it("maps the nine domain events, and no other, to webhook types", () => {
    const mapped = EVENT_TYPES.filter((type) => webhookTypeOf(type) !== undefined);
    expect(mapped.sort()).toEqual(["ATTENDED", "BOOKING_CANCELLED", "BOOKING_CONFIRMED", "CERTIFICATE_ISSUED", "NO_SHOW", "OFFER_SENT", "SESSION_CANCELLED", "SESSION_FULL", "SESSION_REOPENED"]);
    expect(WEBHOOK_EVENT_TYPES).toEqual(Object.values(WEBHOOK_EVENT_OF));
    expect(webhookTypeOf("OFFER_SENT")).toBe("waitlist.offer_made");
  });

  it("carries ids and facts, never the email, a token or unlisted data", () => {
    const event = domainEvent("BOOKING_CONFIRMED", {
      bookingId: "bkg_1",
      sessionId: "ses_1",
      classId: "cls_1",
      customerId: "cus_1",
      email: "ada@example.test",
      seats: 2,
      amountPence: 5000,
      source: "web",
      data: { currency: "GBP", guestCount: 2, manageToken: "secret-token", notes: { free: "text" } },
    });
    const payload = payloadOf(event, "booking.confirmed");
    expect(payload).toEqual({
      type: "booking.confirmed",
      timestamp: new Date(event.occurredAt).toISOString(),
      data: { eventId: event.id, occurredAt: new Date(event.occurredAt).toISOString(), bookingId: "bkg_1", sessionId: "ses_1", classId: "cls_1", customerId: "cus_1", seats: 2, amountPence: 5000, source: "web", currency: "GBP", guestCount: 2 },
    });
    expect(JSON.stringify(payload)).not.toMatch(/ada@|secret-token|free/);
  });

  it("backs off 30 s, 2 min, 10 min, 1 h, 6 h, then stops", () => {
    expect(Array.from({ length: MAX_ATTEMPTS }, (_, i) => retryDelayAfter(i + 1))).toEqual([30, 120, 600, 3600, 21600, null]);
    expect(retryDelayAfter(0)).toBeNull();
  });
});
