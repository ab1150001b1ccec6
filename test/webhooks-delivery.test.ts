import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { domainEvent } from "../src/domain/events";
import { MAX_ATTEMPTS } from "../src/domain/webhooks";
import { consumeWebhookDeliveries } from "../src/jobs/webhook-deliveries";
import { fanOutEvents, sweepStuckDeliveries } from "../src/services/webhooks";
import { call, eventually } from "./helpers";
import { admin, batchOf, createEndpoint, deliveryRow, installReceiver, makeDue, receiver, recordingQueue, cleanUp } from "./webhooks-helpers";

afterEach(cleanUp);

const BASE = "/api/v1/admin/webhooks";
const QUEUE = "webhook-deliveries";

/** A certificate.issued delivery to `endpointId` only (no event in these tests' background has that type), kept off the real queue. */
async function pendingDelivery(endpointId: string): Promise<string> {
  const { queue, sent } = recordingQueue();
  const event = domainEvent("CERTIFICATE_ISSUED", { bookingId: `bkg_${crypto.randomUUID().slice(0, 8)}`, classId: "cls_w", data: { certificateId: "crt_1", number: "C-1", attendeeId: "att_1" } });
  const created = await fanOutEvents({ WEBHOOKS: queue }, getDb(env.DB), [event]);
  const mine = await env.DB.prepare(`SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND event_id = ?`).bind(endpointId, event.id).first<{ id: string }>();
  expect(created).toContain(mine!.id);
  expect(sent.map((m) => m.deliveryId)).toContain(mine!.id);
  return mine!.id;
}

/** One message for the delivery through the consumer, with the receiver as the network. */
async function attempt(deliveryId: string, r: ReturnType<typeof receiver>, config: Record<string, unknown> = {}) {
  const { batch, outcomes } = batchOf(QUEUE, [{ deliveryId }]);
  await consumeWebhookDeliveries(batch, { ...env, ...config }, { fetch: r.fetch });
  return outcomes[0];
}

describe("webhooks: a test send", () => {
  it("lands at the receiver through the Worker's own queue, signed as Standard Webhooks says", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url);
    const sent = await call("POST", `${BASE}/${endpoint.id}/test`, { token: await admin() });
    expect(sent.status).toBe(202);
    expect(sent.json).toMatchObject({ eventType: "webhook.test", status: "pending", attempts: 0 });
    const message = await eventually(() => r.received[0]);
    expect(message.headers["webhook-id"]).toBe(sent.json.id);
    expect(message.headers["content-type"]).toBe("application/json");
    expect(Number(message.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -2);
    expect(message.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(message.redirect).toBe("manual");
    const verified = new Webhook(endpoint.secret).verify(message.body, message.headers);
    expect(verified).toEqual({ type: "webhook.test", timestamp: expect.any(String), data: { endpointId: endpoint.id, message: expect.any(String) } });
    // Another secret, or a body changed on the way, does not verify.
    const rotated = await call("POST", `${BASE}/${endpoint.id}/rotate-secret`, { token: await admin() });
    expect(() => new Webhook(rotated.json.secret).verify(message.body, message.headers)).toThrow();
    expect(() => new Webhook(endpoint.secret).verify(message.body.replace("webhook.test", "webhook.tset"), message.headers)).toThrow();

    await eventually(async () => (await deliveryRow(sent.json.id)).status === "succeeded");
    const log = await call("GET", `${BASE}/${endpoint.id}/deliveries`, { token: await admin() });
    expect(log.json.data).toEqual([expect.objectContaining({ id: sent.json.id, status: "succeeded", attempts: 1, responseStatus: 200, lastError: null, nextAttemptAt: null, lastAttemptAt: expect.any(String) })]);
    expect(log.text).not.toContain(endpoint.secret);
  });

  it("is refused for a disabled endpoint (409), as is a redelivery", async () => {
    const endpoint = await createEndpoint(receiver().url);
    await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "disabled" } });
    const test = await call("POST", `${BASE}/${endpoint.id}/test`, { token: await admin() });
    expect(test.status).toBe(409);
    expect(test.json.error.code).toBe("WEBHOOK_ENDPOINT_DISABLED");
  });
});

describe("webhooks: retries, the delivery log, disabling", () => {
  it("retries with growing delays, one attempt per due message, the same webhook-id each time, until a 2xx", async () => {
    const r = receiver(undefined, [500, 503, "timeout", "network", 204]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const id = await pendingDelivery(endpoint.id);

    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await attempt(id, r);
      expect(outcome).toMatchObject({ retried: true });
      delays.push((outcome as { delaySeconds: number }).delaySeconds);
      // A second message before the delay has passed (a duplicate) sends nothing.
      expect(await attempt(id, r)).toEqual({ acked: true });
      expect(r.received).toHaveLength(i + 1);
      await makeDue(id);
    }
    expect(delays.map((d) => Math.round(d! / 10) * 10)).toEqual([30, 120, 600, 3600]);
    const failing = await deliveryRow(id);
    expect(failing).toMatchObject({ status: "pending", attempts: 4, responseStatus: null });
    expect(failing.lastError).toMatch(/network error/);

    expect(await attempt(id, r)).toEqual({ acked: true });
    expect(await deliveryRow(id)).toMatchObject({ status: "succeeded", attempts: 5, responseStatus: 204, lastError: null, nextAttemptAt: null });
    expect(new Set(r.received.map((m) => m.headers["webhook-id"]))).toEqual(new Set([id]));
    for (const message of r.received) expect(() => new Webhook(endpoint.secret).verify(message.body, message.headers)).not.toThrow();
  });

  it("records each attempt's status and error in the log (a redirect is a failure, never followed)", async () => {
    const r = receiver(undefined, [302, 500, "timeout"]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const id = await pendingDelivery(endpoint.id);
    const log = async () => (await call("GET", `${BASE}/${endpoint.id}/deliveries`, { token: await admin() })).json.data[0];

    await attempt(id, r);
    expect(await log()).toMatchObject({ id, status: "pending", attempts: 1, responseStatus: 302, lastError: expect.stringMatching(/redirect/) });
    expect(r.received).toHaveLength(1);
    expect(r.received[0]!.redirect).toBe("manual");
    await makeDue(id);
    await attempt(id, r);
    expect(await log()).toMatchObject({ attempts: 2, responseStatus: 500, lastError: "HTTP 500: ok" });
    await makeDue(id);
    const before = Date.now();
    await attempt(id, r);
    const third = await log();
    expect(third).toMatchObject({ attempts: 3, responseStatus: null, lastError: "no response within 10 s" });
    expect(Date.parse(third.nextAttemptAt) - before).toBeGreaterThanOrEqual(600_000 - 2_000);
    expect(Date.parse(third.nextAttemptAt) - before).toBeLessThanOrEqual(600_000 + 2_000);
  });

  it("fails a delivery after its last attempt, and disables the endpoint after N such failures in a row", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const config = { WEBHOOK_DISABLE_AFTER_FAILURES: "2" };
    const exhaust = async (id: string) => {
      for (let i = 1; i <= MAX_ATTEMPTS; i++) {
        const outcome = await attempt(id, r, config);
        expect(outcome, `attempt ${i}`).toEqual(i < MAX_ATTEMPTS ? expect.objectContaining({ retried: true }) : { acked: true });
        await makeDue(id);
      }
      expect(await deliveryRow(id)).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, responseStatus: 500, nextAttemptAt: null });
    };
    const first = await pendingDelivery(endpoint.id);
    const second = await pendingDelivery(endpoint.id);
    const third = await pendingDelivery(endpoint.id);
    await exhaust(first);
    const afterOne = await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() });
    expect(afterOne.json).toMatchObject({ status: "enabled", consecutiveFailures: 1 });
    await exhaust(second);
    const afterTwo = await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() });
    expect(afterTwo.json).toMatchObject({ status: "disabled", consecutiveFailures: 2, disabledReason: expect.stringMatching(/automatically after 2/) });
    expect(r.received).toHaveLength(2 * MAX_ATTEMPTS);

    // Its pending delivery is not sent, and new events create none for it.
    expect(await attempt(third, r, config)).toEqual({ acked: true });
    expect(await deliveryRow(third)).toMatchObject({ status: "failed", attempts: 0, lastError: expect.stringMatching(/endpoint disabled/) });
    expect(r.received).toHaveLength(2 * MAX_ATTEMPTS);
    const created = await fanOutEvents({}, getDb(env.DB), [domainEvent("CERTIFICATE_ISSUED", { bookingId: "bkg_after" })]);
    const rows = await env.DB.prepare(`SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND id IN (SELECT value FROM json_each(?))`).bind(endpoint.id, JSON.stringify(created)).all();
    expect(rows.results).toHaveLength(0);

    // Enabled again: the count starts over, and a success keeps it at 0.
    await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "enabled", url: receiver().url } });
    expect((await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() })).json).toMatchObject({ status: "enabled", consecutiveFailures: 0, disabledReason: null });
  });

  it("resets the failure count on a success", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const failed = await pendingDelivery(endpoint.id);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await attempt(failed, r);
      await makeDue(failed);
    }
    expect((await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() })).json.consecutiveFailures).toBe(1);
    r.statuses.splice(0, r.statuses.length, 200);
    const ok = await pendingDelivery(endpoint.id);
    expect(await attempt(ok, r)).toEqual({ acked: true });
    expect((await call("GET", `${BASE}/${endpoint.id}`, { token: await admin() })).json.consecutiveFailures).toBe(0);
  });

  it("checks the URL again at delivery: a URL no longer allowed is not called", async () => {
    const r = receiver();
    const endpoint = await createEndpoint(r.url.replace("https:", "http:"), ["certificate.issued"]);
    const id = await pendingDelivery(endpoint.id);
    // The same endpoint delivered by a production Worker: http is refused, nothing is sent.
    expect(await attempt(id, r, { ENVIRONMENT: "production" })).toEqual({ acked: true });
    expect(r.received).toHaveLength(0);
    expect(await deliveryRow(id)).toMatchObject({ status: "failed", lastError: "URL refused: it must be https" });
    // A row written before the rules (or by hand) pointing at a private address: refused in development too.
    await env.DB.prepare(`UPDATE webhook_endpoints SET url = 'https://10.0.0.1/hook' WHERE id = ?`).bind(endpoint.id).run();
    const second = await pendingDelivery(endpoint.id);
    expect(await attempt(second, r)).toEqual({ acked: true });
    expect(await deliveryRow(second)).toMatchObject({ status: "failed", lastError: expect.stringMatching(/private/) });
  });
});

describe("webhooks: redelivery and the sweep", () => {
  it("redelivers a failed delivery from its first attempt, with the same webhook-id, through the queue", async () => {
    const r = receiver(undefined, [500]);
    installReceiver(r);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const id = await pendingDelivery(endpoint.id);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await attempt(id, r);
      await makeDue(id);
    }
    expect((await deliveryRow(id)).status).toBe("failed");
    r.statuses.splice(0, r.statuses.length, 200);
    const again = await call("POST", `${BASE}/${endpoint.id}/deliveries/${id}/redeliver`, { token: await admin() });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ id, status: "pending", attempts: 0 });
    await eventually(async () => (await deliveryRow(id)).status === "succeeded");
    expect(r.received).toHaveLength(MAX_ATTEMPTS + 1);
    expect(r.received.at(-1)!.headers["webhook-id"]).toBe(id);
    // Another endpoint's id in the path finds nothing.
    const other = await createEndpoint(receiver().url);
    expect((await call("POST", `${BASE}/${other.id}/deliveries/${id}/redeliver`, { token: await admin() })).status).toBe(404);
    await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "disabled" } });
    const refused = await call("POST", `${BASE}/${endpoint.id}/deliveries/${id}/redeliver`, { token: await admin() });
    expect(refused.status).toBe(409);
  });

  it("re-queues deliveries stuck pending past their time, not fresh ones nor a disabled endpoint's", async () => {
    const live = await createEndpoint(receiver().url, ["certificate.issued"]);
    const off = await createEndpoint(receiver().url, ["certificate.issued"]);
    const stuck = await pendingDelivery(live.id);
    const fresh = await pendingDelivery(live.id);
    const disabled = await pendingDelivery(off.id);
    await call("PATCH", `${BASE}/${off.id}`, { token: await admin(), body: { status: "disabled" } });
    const hourAgo = Date.now() - 3600_000;
    for (const id of [stuck, disabled]) await env.DB.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`).bind(hourAgo, id).run();
    const { queue, sent } = recordingQueue();
    const count = await sweepStuckDeliveries({ WEBHOOKS: queue }, getDb(env.DB), new Date());
    const ids = sent.map((m) => m.deliveryId);
    expect(count).toBe(ids.length);
    expect(ids).toContain(stuck);
    expect(ids).not.toContain(fresh);
    expect(ids).not.toContain(disabled);
  });
});
