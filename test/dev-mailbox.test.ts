/**
 * Messages are really delivered, or say they were not (issue 10): locally the dev mailbox receives
 * every message, links and all; in production without a provider nothing pretends to be sent;
 * an address a provider reported undeliverable gets nothing more.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { getDb } from "../src/db/client";
import { undeliverableAddresses } from "../src/db/schema";
import { consumeNotifications } from "../src/jobs/notifications-consumer";
import type { NotificationRequest } from "../src/services/notifications";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, eventually, unique } from "./helpers";
import { confirmationRequest } from "./notification-helpers";

const db = getDb(env.DB);

async function callIn(settings: Record<string, string>, path: string) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://localhost${path}`), { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function consumeOne(body: NotificationRequest, settings: Record<string, string> = {}) {
  const batch = createMessageBatch("booking-notifications", [{ id: `msg-${unique()}`, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await consumeNotifications(batch, { ...env, ...settings } as typeof env);
  return getQueueResult(batch, ctx);
}

const communication = (id: string) => env.DB.prepare(`SELECT status, provider, provider_message_id, last_error FROM booking_communications WHERE id = ?`).bind(id).first<Record<string, unknown>>();

describe("the dev mailbox", () => {
  it("receives a booking's confirmation through the real queue, with a manage link that works", async () => {
    const { session } = await makeBookableSession({ capacity: 4, pricePence: 2500 });
    const email = uniqueEmail("mailbox");
    const booked = await postBooking(singleBookingBody(session.id, 2500, { contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
    expect(booked.status).toBe(201);
    const message = await eventually(async () => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data[0], 10_000);
    expect(message).toMatchObject({ to: email, subject: expect.stringContaining("Booking confirmed"), html: expect.stringContaining("<a href=") });
    // The mailbox holds the message as sent: the link and its token (the stored record masks it).
    const link = /(http:\/\/127\.0\.0\.1:8787\/api\/v1\/bookings\/\S+)/.exec(message.text)?.[1];
    expect(link).toContain(booked.json.manageToken);
    const followed = await call("GET", new URL(link!).pathname + new URL(link!).search);
    expect(followed.status).toBe(200);
    expect(followed.json.id).toBe(booked.json.booking.id);
    expect(await communication(`booking-confirmed:${booked.json.booking.id}`)).toMatchObject({ status: "sent", provider: "dev-mailbox", provider_message_id: message.id });
  });

  it("shows its messages on a page, escaped, with this service's links clickable", async () => {
    const email = uniqueEmail("page");
    const body = confirmationRequest(email);
    body.data = { ...body.data, className: "<b>Wheel</b> & kiln" };
    await consumeOne(body);
    const page = await callIn({}, `/dev/mailbox?to=${encodeURIComponent(email)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(page.text).toContain("&lt;b&gt;Wheel&lt;/b&gt; &amp; kiln");
    expect(page.text).not.toContain("<b>Wheel</b>");
    expect(page.text).toMatch(/<a href="http:\/\/127\.0\.0\.1:8787\/api\/v1\/bookings\/bkg_test_[^"]+">/);
  });

  it("delivers a redelivered request once", async () => {
    const body = confirmationRequest(uniqueEmail("twice"));
    await consumeOne(body);
    await consumeOne(body);
    const { results } = await env.DB.prepare(`SELECT id FROM dev_mailbox WHERE communication_id = ?`).bind(body.id).all();
    expect(results).toHaveLength(1);
  });

  it("does not exist outside development: the API and the page are 404", async () => {
    const production = { ENVIRONMENT: "production", NOTIFICATION_PROVIDER: "none" };
    expect((await callIn(production, "/api/v1/dev/mailbox")).status).toBe(404);
    expect((await callIn(production, "/dev/mailbox")).status).toBe(404);
    expect((await callIn({}, "/api/v1/dev/mailbox")).status).toBe(200);
  });
});

describe("in production without a provider", () => {
  it("sends nothing and says so: the message stays pending, an alert is raised, the queue retries", async () => {
    const body = confirmationRequest(uniqueEmail("nowhere"));
    const result = await consumeOne(body, { ENVIRONMENT: "production" });
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
    expect(await communication(body.id)).toMatchObject({ status: "pending", provider: null, last_error: expect.stringContaining("No notification provider") });
    const alert = await env.DB.prepare(`SELECT status, severity FROM alerts WHERE type = 'NOTIFICATION_PROVIDER_MISSING' AND status = 'open'`).first();
    expect(alert).toMatchObject({ status: "open", severity: "critical" });
    const delivered = await env.DB.prepare(`SELECT count(*) AS n FROM dev_mailbox WHERE communication_id = ?`).bind(body.id).first<{ n: number }>();
    expect(delivered!.n).toBe(0);
  });
});

describe("an address a provider reported undeliverable", () => {
  it("is sent nothing more: the message fails at once", async () => {
    const email = uniqueEmail("bounced");
    await db.insert(undeliverableAddresses).values({ email, reason: "hard bounce", provider: "resend" });
    const body = confirmationRequest(email);
    const result = await consumeOne(body);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await communication(body.id)).toMatchObject({ status: "failed" });
    const control = confirmationRequest(uniqueEmail("fine"));
    await consumeOne(control);
    expect(await communication(control.id)).toMatchObject({ status: "sent" });
  });
});
