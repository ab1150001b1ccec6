import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { configOf } from "../src/config";
import { getDb } from "../src/db/client";
import { domainEvent } from "../src/domain/events";
import { MAX_ATTEMPTS } from "../src/domain/webhooks";
import { consumeWebhookDeliveries } from "../src/jobs/webhook-deliveries";
import { fanOutEvents } from "../src/services/webhooks";
import { call } from "./helpers";
import { admin, batchOf, cleanUp, createEndpoint, deliveryRow, receiver, recordingQueue } from "./webhooks-helpers";

afterEach(cleanUp);

const BASE = "/api/v1/admin/webhooks";
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Only the time rule: the count rule would need 1000 failed deliveries. */
const TIME_ONLY = { WEBHOOK_DISABLE_AFTER_FAILURES: "1000", WEBHOOK_DISABLE_AFTER_HOURS: "24" };

/** A certificate.issued delivery to `endpointId`, kept off the real queue (nothing in the background has that type). */
async function pendingDelivery(endpointId: string): Promise<string> {
  const { queue } = recordingQueue();
  const event = domainEvent("CERTIFICATE_ISSUED", { bookingId: `bkg_${crypto.randomUUID().slice(0, 8)}`, classId: "cls_d", data: { certificateId: "crt_d" } });
  await fanOutEvents({ WEBHOOKS: queue }, getDb(env.DB), [event]);
  const row = await env.DB.prepare(`SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND event_id = ?`).bind(endpointId, event.id).first<{ id: string }>();
  return row!.id;
}

/** One attempt of a fresh delivery at the clock time `at`, answered with the receiver's next status. */
async function attemptAt(endpointId: string, r: ReturnType<typeof receiver>, at: number, config: Record<string, unknown> = TIME_ONLY) {
  const id = await pendingDelivery(endpointId);
  const { batch } = batchOf("webhook-deliveries", [{ deliveryId: id }]);
  await consumeWebhookDeliveries(batch, { ...env, ...config }, { fetch: r.fetch, now: () => at });
  return id;
}

async function endpointState(id: string) {
  return (await call("GET", `${BASE}/${id}`, { token: await admin() })).json as { status: string; disabledReason: string | null; consecutiveFailures: number; failingSince: string | null };
}

describe("webhooks: disabled after failing for more than WEBHOOK_DISABLE_AFTER_HOURS", () => {
  it("starts the streak at the first failed attempt; 23 h 59 later it stays enabled, 24 h 01 later it is disabled", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const start = Date.now();
    expect((await endpointState(endpoint.id)).failingSince).toBeNull();

    await attemptAt(endpoint.id, r, start);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "enabled", failingSince: new Date(start).toISOString(), consecutiveFailures: 0 });
    // A later failure does not move the start of the streak.
    await attemptAt(endpoint.id, r, start + 23 * HOUR + 59 * MINUTE);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "enabled", failingSince: new Date(start).toISOString() });

    const last = await attemptAt(endpoint.id, r, start + 24 * HOUR + MINUTE);
    const disabled = await endpointState(endpoint.id);
    expect(disabled).toMatchObject({ status: "disabled", consecutiveFailures: 0 });
    expect(disabled.disabledReason).toMatch(/no successful delivery for more than 24 h/);
    expect(r.received).toHaveLength(3);
    // The attempt that tripped the rule is recorded like any other (pending, to be abandoned at its retry).
    expect(await deliveryRow(last)).toMatchObject({ status: "pending", attempts: 1, responseStatus: 500 });
  });

  it("a success in between ends the streak: the next failure starts a new one", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const start = Date.now();
    await attemptAt(endpoint.id, r, start);
    r.statuses.splice(0, r.statuses.length, 200);
    await attemptAt(endpoint.id, r, start + 12 * HOUR);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "enabled", failingSince: null });

    r.statuses.splice(0, r.statuses.length, 500);
    await attemptAt(endpoint.id, r, start + 20 * HOUR);
    // 24 h 01 after the first failure, but only 4 h 01 into the new streak.
    await attemptAt(endpoint.id, r, start + 24 * HOUR + MINUTE);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "enabled", failingSince: new Date(start + 20 * HOUR).toISOString() });
    await attemptAt(endpoint.id, r, start + 44 * HOUR + MINUTE);
    expect((await endpointState(endpoint.id)).status).toBe("disabled");
  });

  it("counts from the first failed attempt of a delivery still being retried, not from its final failure", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const start = Date.now();
    const id = await pendingDelivery(endpoint.id);
    const { batch, outcomes } = batchOf("webhook-deliveries", [{ deliveryId: id }]);
    await consumeWebhookDeliveries(batch, { ...env, ...TIME_ONLY }, { fetch: r.fetch, now: () => start });
    expect(outcomes[0]).toMatchObject({ retried: true });
    expect(await deliveryRow(id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await endpointState(endpoint.id)).failingSince).toBe(new Date(start).toISOString());
  });

  it("re-enabling clears the streak: the next failure starts it again instead of disabling at once", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const start = Date.now();
    await attemptAt(endpoint.id, r, start);
    await attemptAt(endpoint.id, r, start + 25 * HOUR);
    expect((await endpointState(endpoint.id)).status).toBe("disabled");

    const enabled = await call("PATCH", `${BASE}/${endpoint.id}`, { token: await admin(), body: { status: "enabled" } });
    expect(enabled.json).toMatchObject({ status: "enabled", disabledReason: null, consecutiveFailures: 0, failingSince: null });
    await attemptAt(endpoint.id, r, start + 26 * HOUR);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "enabled", failingSince: new Date(start + 26 * HOUR).toISOString() });
  });

  it("the hours are a setting", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const config = { ...TIME_ONLY, WEBHOOK_DISABLE_AFTER_HOURS: "2" };
    const start = Date.now();
    await attemptAt(endpoint.id, r, start, config);
    await attemptAt(endpoint.id, r, start + 2 * HOUR - MINUTE, config);
    expect((await endpointState(endpoint.id)).status).toBe("enabled");
    await attemptAt(endpoint.id, r, start + 2 * HOUR + MINUTE, config);
    expect(await endpointState(endpoint.id)).toMatchObject({ status: "disabled", disabledReason: expect.stringMatching(/more than 2 h/) });
    expect(configOf({ ...env, WEBHOOK_DISABLE_AFTER_HOURS: "2" }).webhookDisableAfterMs).toBe(2 * HOUR);
    expect(() => configOf({ ...env, WEBHOOK_DISABLE_AFTER_HOURS: "0" })).toThrow(/WEBHOOK_DISABLE_AFTER_HOURS/);
  });
});

describe("webhooks: whichever rule trips first disables, and the reason names it", () => {
  it("the count rule, when its failed deliveries come within the hours", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const config = { WEBHOOK_DISABLE_AFTER_FAILURES: "1", WEBHOOK_DISABLE_AFTER_HOURS: "24" };
    const id = await pendingDelivery(endpoint.id);
    const start = Date.now();
    // Six attempts, the last 9 h 32 after the first (the retry schedule), all under 24 h.
    let at = start;
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      const { batch, outcomes } = batchOf("webhook-deliveries", [{ deliveryId: id }]);
      await consumeWebhookDeliveries(batch, { ...env, ...config }, { fetch: r.fetch, now: () => at });
      const outcome = outcomes[0] as { delaySeconds?: number };
      at += (outcome.delaySeconds ?? 0) * 1000;
    }
    expect(await deliveryRow(id)).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    const state = await endpointState(endpoint.id);
    expect(state).toMatchObject({ status: "disabled", consecutiveFailures: 1 });
    expect(state.disabledReason).toMatch(/after 1 deliveries in a row failed every attempt/);
  });

  it("the time rule, when the failing deliveries are too few for the count", async () => {
    const r = receiver(undefined, [500]);
    const endpoint = await createEndpoint(r.url, ["certificate.issued"]);
    const config = { WEBHOOK_DISABLE_AFTER_FAILURES: "5", WEBHOOK_DISABLE_AFTER_HOURS: "24" };
    const start = Date.now();
    await attemptAt(endpoint.id, r, start, config);
    await attemptAt(endpoint.id, r, start + 24 * HOUR + MINUTE, config);
    const state = await endpointState(endpoint.id);
    expect(state).toMatchObject({ status: "disabled", consecutiveFailures: 0 });
    expect(state.disabledReason).toMatch(/more than 24 h/);
  });
});
