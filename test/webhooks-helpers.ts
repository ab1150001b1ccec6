/** Helpers for the outgoing webhook tests: a recording receiver, message batches, endpoints. */
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { getDb } from "../src/db/client";
import { deliveriesByIds } from "../src/services/webhooks";
import { call, tokenFor } from "./helpers";

export interface Received {
  url: string;
  redirect: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A receiver on a made-up public host: records each request and answers with the next of
 * `statuses` (the last one repeats). Installed as the global `fetch` too, so the Worker's own
 * queue consumer, running in the background, delivers to it as well.
 */
export function receiver(host = `hooks-${crypto.randomUUID().slice(0, 8)}.example.com`, statuses: (number | "timeout" | "network")[] = [200]) {
  const received: Received[] = [];
  let answered = 0;
  const realFetch = globalThis.fetch;
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).hostname !== host) return realFetch(input, init);
    received.push({ url: request.url, redirect: request.redirect, headers: Object.fromEntries(request.headers), body: await request.text() });
    const status = statuses[Math.min(answered, statuses.length - 1)]!;
    answered += 1;
    if (status === "timeout") throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    if (status === "network") throw new TypeError("Network connection lost.");
    const redirect = status >= 300 && status < 400;
    return new Response(redirect || status === 204 ? null : "ok", { status, headers: redirect ? { location: "http://10.0.0.1/" } : {} });
  }) as typeof fetch;
  return { host, url: `https://${host}/hooks`, received, fetch: fetcher, statuses };
}

/** Routes global fetch for the receiver's host to it for the rest of the test file. */
export function installReceiver(r: ReturnType<typeof receiver>): void {
  const previous = globalThis.fetch;
  vi.stubGlobal("fetch", ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new Request(input, init).url;
    return new URL(url).hostname === r.host ? r.fetch(input, init) : previous(input, init);
  }) as typeof fetch);
}

/** A batch for a consumer, recording what each message was told (ack, or retry with its delay). */
export function batchOf(queue: string, bodies: unknown[]) {
  const outcomes: ({ acked: true } | { retried: true; delaySeconds: number | undefined } | null)[] = bodies.map(() => null);
  const messages = bodies.map((body, index) => ({
    id: `m_${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts: 1,
    body,
    ack: () => void (outcomes[index] = { acked: true }),
    retry: (options?: { delaySeconds?: number }) => void (outcomes[index] = { retried: true, delaySeconds: options?.delaySeconds }),
  }));
  const batch = { queue, messages, ackAll: () => messages.forEach((m) => m.ack()), retryAll: () => messages.forEach((m) => m.retry()) } as unknown as MessageBatch<unknown>;
  return { batch, outcomes };
}

/** A WEBHOOKS queue stand-in that keeps what was sent. */
export function recordingQueue() {
  const sent: { deliveryId: string }[] = [];
  const queue = {
    send: async (body: { deliveryId: string }) => void sent.push(body),
    sendBatch: async (messages: { body: { deliveryId: string } }[]) => void sent.push(...messages.map((m) => m.body)),
  } as unknown as Queue<{ deliveryId: string }>;
  return { queue, sent };
}

let adminToken: string | undefined;
export async function admin(): Promise<string> {
  adminToken ??= await tokenFor("admin");
  return adminToken;
}

const created: string[] = [];

/** Creates an endpoint through the API and returns its answer (with the secret). */
export async function createEndpoint(url: string, events: string[] = ["booking.confirmed"]) {
  const response = await call("POST", "/api/v1/admin/webhooks", { token: await admin(), body: { url, events } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  created.push(response.json.id);
  return response.json as { id: string; url: string; events: string[]; status: string; secret: string };
}

export async function deliveryRow(id: string) {
  const [row] = await deliveriesByIds(getDb(env.DB), [id]);
  return row!;
}

/** Makes a pending delivery due now (as if its retry delay had passed). */
export async function makeDue(id: string): Promise<void> {
  await env.DB.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`).bind(Date.now() - 1, id).run();
}

export async function deliveriesOf(endpointId: string) {
  const { results } = await env.DB.prepare(`SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at`).bind(endpointId).all<Record<string, unknown>>();
  return results;
}

/**
 * After each test: no global fetch stub, and the endpoints it made disabled, so events from later
 * tests (real bookings) create no deliveries for them that the Worker's queue would send over the network.
 */
export async function cleanUp(): Promise<void> {
  vi.unstubAllGlobals();
  const ids = created.splice(0);
  await env.DB.prepare(`UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = 'test over' WHERE id IN (SELECT value FROM json_each(?))`).bind(JSON.stringify(ids)).run();
}
