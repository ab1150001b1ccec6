/**
 * Resend's delivery webhooks (POST /api/v1/webhooks/resend): only a body signed with the endpoint's
 * secret, recently, is believed; each delivery is recorded once on the message it is about; a hard
 * bounce or a complaint makes the address undeliverable and tells an admin.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { getDb } from "../src/db/client";
import { isUndeliverable } from "../src/services/communications";
import { unique } from "./helpers";

const db = getDb(env.DB);

/** A fresh `whsec_` secret: base64 of random bytes, as Resend's dashboard shows one. */
const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
const RESEND = { NOTIFICATION_PROVIDER: "resend", RESEND_API_KEY: "re_test_key", RESEND_FROM: "Studio <bookings@studio.example>", RESEND_WEBHOOK_SECRET: secret };

async function postWebhook(body: string, headers: Record<string, string>, settings: Record<string, string> = RESEND) {
  const ctx = createExecutionContext();
  const request = new Request("http://localhost/api/v1/webhooks/resend", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
  const response = await worker.fetch(request, { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, json: (text ? JSON.parse(text) : undefined) as any };
}

/** The body and the svix-* headers Resend would send, signed `at` (now by default) under `key`. */
function signed(event: unknown, options: { id?: string; at?: Date; key?: string } = {}) {
  const body = JSON.stringify(event);
  const id = options.id ?? `msg_${unique()}${unique()}`;
  const at = options.at ?? new Date();
  const signature = new Webhook(options.key ?? secret).sign(id, at, body);
  return { body, id, headers: { "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": signature } };
}

/** A message this service sent through Resend, as the consumer leaves its row. */
async function sentMessage() {
  const id = `booking-confirmed:bkg_${unique()}`;
  const emailId = crypto.randomUUID();
  const email = `guest-${unique()}@example.test`;
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO booking_communications (id, recipient_email, type, channel, status, provider, provider_message_id, attempts, requested_at, sent_at)
     VALUES (?, ?, 'BOOKING_CONFIRMED', 'email', 'sent', 'resend', ?, 1, ?, ?)`,
  )
    .bind(id, email, emailId, now, now)
    .run();
  return { id, emailId, email };
}

const row = (id: string) =>
  env.DB.prepare(`SELECT status, delivered_at, opened_at, clicked_at, failed_reason FROM booking_communications WHERE id = ?`).bind(id).first<Record<string, number | string | null>>();

const alertFor = (email: string) =>
  env.DB.prepare(`SELECT severity, status, title, occurrences, details FROM alerts WHERE type = 'EMAIL_UNDELIVERABLE' AND subject_key = ?`).bind(`email:${email}`).first<Record<string, string | number>>();

const undeliverable = (email: string) => env.DB.prepare(`SELECT reason, provider FROM undeliverable_addresses WHERE email = ?`).bind(email).first<Record<string, string>>();

const receipts = (webhookId: string) => env.DB.prepare(`SELECT type FROM webhook_receipts WHERE provider = 'resend' AND webhook_id = ?`).bind(webhookId).all();

/** Resend's event shape (https://resend.com/docs/webhooks/emails/delivered and siblings). */
function resendEvent(type: string, message: { emailId: string; email: string }, createdAt: string, extra: Record<string, unknown> = {}) {
  return {
    type,
    created_at: createdAt,
    data: { created_at: createdAt, email_id: message.emailId, from: "Studio <bookings@studio.example>", to: [message.email], subject: "Booking confirmed", tags: { kind: "BOOKING_CONFIRMED" }, ...extra },
  };
}

describe("POST /api/v1/webhooks/resend", () => {
  it("records a delivery a valid signature vouches for, at the time Resend stamped it", async () => {
    const message = await sentMessage();
    const { body, headers } = signed(resendEvent("email.delivered", message, "2030-01-02T03:04:05.678Z"));
    const res = await postWebhook(body, headers);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });
    expect(await row(message.id)).toMatchObject({ status: "sent", delivered_at: Date.parse("2030-01-02T03:04:05.678Z"), opened_at: null, failed_reason: null });
  });

  it("refuses a missing or wrong signature, or a body changed after signing (401 INVALID_SIGNATURE)", async () => {
    const message = await sentMessage();
    const event = resendEvent("email.delivered", message, new Date().toISOString());
    const good = signed(event);
    const otherKey = `whsec_${btoa("a different secret entirely")}`;
    const attempts = [
      { body: good.body, headers: {} },
      { body: good.body, headers: { ...good.headers, "svix-signature": signed(event, { id: good.id, key: otherKey }).headers["svix-signature"] } },
      { body: good.body.replace("email.delivered", "email.opened"), headers: good.headers },
      { body: good.body, headers: { ...good.headers, "svix-id": "msg_another" } },
    ];
    for (const attempt of attempts) {
      const res = await postWebhook(attempt.body, attempt.headers);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("INVALID_SIGNATURE");
    }
    expect(await row(message.id)).toMatchObject({ delivered_at: null, opened_at: null });
  });

  it("refuses a replay: a signature more than 5 minutes old (or ahead) is 401", async () => {
    const message = await sentMessage();
    const event = resendEvent("email.delivered", message, new Date().toISOString());
    for (const at of [new Date(Date.now() - 6 * 60_000), new Date(Date.now() + 6 * 60_000)]) {
      const { body, headers } = signed(event, { at });
      const res = await postWebhook(body, headers);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("INVALID_SIGNATURE");
    }
    expect((await row(message.id))!.delivered_at).toBeNull();
  });

  it("records a webhook delivery once: the same svix-id again changes nothing", async () => {
    const message = await sentMessage();
    const opened = signed(resendEvent("email.opened", message, "2030-01-02T10:00:00.000Z"));
    expect((await postWebhook(opened.body, opened.headers)).status).toBe(200);
    // Resend redelivers it (same id, same body), then something reuses the id for another event.
    expect((await postWebhook(opened.body, opened.headers)).status).toBe(200);
    const reused = signed(resendEvent("email.clicked", message, "2030-01-02T11:00:00.000Z"), { id: opened.id });
    expect((await postWebhook(reused.body, reused.headers)).status).toBe(200);
    expect(await row(message.id)).toMatchObject({ opened_at: Date.parse("2030-01-02T10:00:00.000Z"), clicked_at: null });
    expect((await receipts(opened.id)).results).toEqual([{ type: "email.opened" }]);

    // A second open is a new delivery, but the first open's time stands.
    const again = signed(resendEvent("email.opened", message, "2030-01-03T10:00:00.000Z"));
    expect((await postWebhook(again.body, again.headers)).status).toBe(200);
    expect((await row(message.id))!.opened_at).toBe(Date.parse("2030-01-02T10:00:00.000Z"));
  });

  it("a hard bounce makes the address undeliverable and raises one EMAIL_UNDELIVERABLE alert", async () => {
    const message = await sentMessage();
    const bounce = { message: "The recipient's email address does not exist.", subType: "General", type: "Permanent" };
    const bounced = signed(resendEvent("email.bounced", message, new Date().toISOString(), { bounce }));
    expect((await postWebhook(bounced.body, bounced.headers)).status).toBe(200);
    // Redelivered: still one occurrence.
    expect((await postWebhook(bounced.body, bounced.headers)).status).toBe(200);

    expect(await row(message.id)).toMatchObject({ failed_reason: bounce.message, delivered_at: null });
    expect(await undeliverable(message.email)).toEqual({ reason: `bounced: ${bounce.message}`, provider: "resend" });
    expect(await isUndeliverable(db, message.email)).toBe(true);
    const alert = await alertFor(message.email);
    expect(alert).toMatchObject({ severity: "warning", status: "open", occurrences: 1 });
    expect(JSON.parse(alert!.details as string)).toMatchObject({ email: message.email, event: "email.bounced", communicationId: message.id, kind: "BOOKING_CONFIRMED" });
  });

  it("a transient bounce records why, but leaves the address deliverable", async () => {
    const message = await sentMessage();
    const bounce = { message: "The recipient's mailbox is full.", subType: "MailboxFull", type: "Transient" };
    const bounced = signed(resendEvent("email.bounced", message, new Date().toISOString(), { bounce }));
    expect((await postWebhook(bounced.body, bounced.headers)).status).toBe(200);
    expect((await row(message.id))!.failed_reason).toBe(bounce.message);
    expect(await undeliverable(message.email)).toBeNull();
    expect(await alertFor(message.email)).toBeNull();
  });

  it("a spam complaint makes the address undeliverable too", async () => {
    const message = await sentMessage();
    const complained = signed(resendEvent("email.complained", message, new Date().toISOString()));
    expect((await postWebhook(complained.body, complained.headers)).status).toBe(200);
    expect((await row(message.id))!.failed_reason).toBe("complained");
    expect(await undeliverable(message.email)).toMatchObject({ reason: "complained" });
    expect(await alertFor(message.email)).toMatchObject({ status: "open", occurrences: 1 });
  });

  it("acknowledges event types it does not record, and emails it did not send, changing nothing", async () => {
    const message = await sentMessage();
    for (const type of ["email.sent", "email.delivery_delayed", "contact.created"]) {
      const event = signed(resendEvent(type, message, new Date().toISOString()));
      expect((await postWebhook(event.body, event.headers)).status).toBe(200);
      expect((await receipts(event.id)).results).toEqual([]);
    }
    const stranger = { emailId: crypto.randomUUID(), email: `stranger-${unique()}@example.test` };
    const elsewhere = signed(resendEvent("email.bounced", stranger, new Date().toISOString(), { bounce: { type: "Permanent", message: "gone" } }));
    const res = await postWebhook(elsewhere.body, elsewhere.headers);
    expect(res).toEqual({ status: 200, json: { received: true } });
    expect(await undeliverable(stranger.email)).toBeNull();
    expect(await alertFor(stranger.email)).toBeNull();
    expect(await row(message.id)).toMatchObject({ delivered_at: null, opened_at: null, clicked_at: null, failed_reason: null });
  });

  it("refuses a signed body that is not JSON (400 INVALID_JSON)", async () => {
    const id = `msg_${unique()}`;
    const at = new Date();
    const body = "{not json";
    const headers = { "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": new Webhook(secret).sign(id, at, body) };
    const res = await postWebhook(body, headers);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_JSON");
  });

  it("is off (404) while RESEND_WEBHOOK_SECRET is not set, even for a well-signed body", async () => {
    const message = await sentMessage();
    const { body, headers } = signed(resendEvent("email.delivered", message, new Date().toISOString()));
    const res = await postWebhook(body, headers, { ...RESEND, RESEND_WEBHOOK_SECRET: "" });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
    expect((await row(message.id))!.delivered_at).toBeNull();
  });
});
