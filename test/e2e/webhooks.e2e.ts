/**
 * Outgoing webhooks end to end: a real receiver (a Node HTTP server on 127.0.0.1, which
 * development allows) subscribed through the admin API of the service `wrangler dev` runs, and
 * every request it gets checked with the `standardwebhooks` package, as a subscriber would. A
 * booking that fills a session arrives as booking.confirmed and session.full through the real
 * queues; a 500 is retried by the queue with the same webhook-id; a rotated secret signs the next one.
 * No browser needed.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, api, eventually } from "./api";
import { bookAsGuest, freshClass } from "./scene";

/** The parts of node:http this file uses (the project has no @types/node; see scripts/bench/node.ts). */
interface IncomingRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "end", listener: () => void): void;
}
interface ServerResponse {
  writeHead(status: number, headers?: Record<string, string>): void;
  end(body?: string): void;
}
interface HttpServer {
  listen(port: number, host: string, callback: () => void): void;
  address(): { port: number } | string | null;
  close(callback: () => void): void;
  closeAllConnections?(): void;
}
const http = process.getBuiltinModule("node:http") as { createServer(handler: (request: IncomingRequest, response: ServerResponse) => void): HttpServer };

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
}

interface Payload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Everything the receiver got, and how each path answers: a list of statuses per path (the last repeats), 200 by default. */
const received: Received[] = [];
const answers = new Map<string, number[]>();
let server: HttpServer;
let origin = "";
let hookCounter = 0;

function readBody(request: IncomingRequest): Promise<string> {
  const chunks: Uint8Array[] = [];
  return new Promise((resolve) => {
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const bytes = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
      let offset = 0;
      for (const chunk of chunks) (bytes.set(chunk, offset), (offset += chunk.length));
      resolve(new TextDecoder().decode(bytes));
    });
  });
}

beforeAll(async () => {
  server = http.createServer(async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? "/";
    const queue = answers.get(path) ?? [200];
    const status = queue.length > 1 ? queue.shift()! : queue[0]!;
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : (value ?? "")]));
    received.push({ path, headers, body, status });
    response.writeHead(status, { "content-type": "text/plain" });
    response.end(status < 300 ? "ok" : "receiver says no");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A path of its own on the receiver, subscribed to `events` through the admin API; answers with `statuses`. */
async function subscribe(events: string[], statuses: number[] = [200]) {
  hookCounter += 1;
  const path = `/hooks/${hookCounter}`;
  answers.set(path, [...statuses]);
  const created = await admin("POST", "/webhooks", { url: `${origin}${path}`, events, description: "e2e receiver" }, [201]);
  expect(created.json).toMatchObject({ id: expect.stringMatching(/^whe_/), url: `${origin}${path}`, events, status: "enabled", secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/) });
  return { id: created.json.id as string, secret: created.json.secret as string, path, at: (p: string) => received.filter((r) => r.path === p) };
}

/** Checks a request as a Standard Webhooks subscriber does (signature, and a timestamp within 5 minutes); returns its body. */
function verified(request: Received, secret: string): Payload {
  return new Webhook(secret).verify(request.body, request.headers) as Payload;
}

async function deliveryLog(endpointId: string) {
  return (await admin("GET", `/webhooks/${endpointId}/deliveries`)).json.data as { id: string; eventType: string; eventId: string; status: string; attempts: number; responseStatus: number | null; lastError: string | null }[];
}

describe("outgoing webhooks to a real receiver", () => {
  it("a booking that fills a session arrives as booking.confirmed and session.full, signed and in the documented shape", async () => {
    const endpoint = await subscribe(["booking.confirmed", "session.full"]);
    const scene = await freshClass({ capacity: 1, label: "webhooks" });
    const sessionId = scene.sessionIds[0]!;
    const booking = await bookAsGuest(sessionId, scene.pricePence);

    const bodies = () => endpoint.at(endpoint.path).map((request) => ({ request, payload: verified(request, endpoint.secret) }));
    const seen = () => JSON.stringify(bodies().map((b) => b.payload));
    const confirmed = await eventually(async () => bodies().find((b) => b.payload.type === "booking.confirmed" && b.payload.data.bookingId === booking.bookingId), 30_000, "booking.confirmed").catch((error) => {
      throw new Error(`${(error as Error).message}; received ${seen()}`);
    });
    const full = await eventually(async () => bodies().find((b) => b.payload.type === "session.full" && b.payload.data.sessionId === sessionId), 30_000, "session.full").catch((error) => {
      throw new Error(`${(error as Error).message}; received ${seen()}`);
    });

    for (const { request, payload } of [confirmed, full]) {
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["webhook-id"]).toMatch(/^msg_/);
      expect(Math.abs(Number(request.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);
      expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Object.keys(payload).sort()).toEqual(["data", "timestamp", "type"]);
      expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
      expect(payload.data).toMatchObject({ eventId: expect.any(String), occurredAt: payload.timestamp, sessionId });
      // Ids and facts only: the guest's address never leaves the studio.
      expect(request.body).not.toContain(booking.email);
      // Another secret does not verify it.
      expect(() => new Webhook(`whsec_${btoa("another secret of 32 bytes......")}`).verify(request.body, request.headers)).toThrow();
    }
    expect(confirmed.payload.data).toMatchObject({ bookingId: booking.bookingId, classId: scene.classId, seats: 1, studioId: expect.any(String) });
    expect(full.payload.data).toMatchObject({ capacity: 1, booked: 1, availableSpots: 0 });
    expect(confirmed.request.headers["webhook-id"]).not.toBe(full.request.headers["webhook-id"]);

    // The delivery log has both, delivered at the first attempt.
    const log = await eventually(async () => {
      const rows = await deliveryLog(endpoint.id);
      const mine = rows.filter((row) => [confirmed, full].some((b) => b.request.headers["webhook-id"] === row.id));
      return mine.length === 2 && mine.every((row) => row.status === "succeeded") ? mine : null;
    }, 30_000, "both deliveries succeeded in the log");
    for (const row of log) expect(row).toMatchObject({ attempts: 1, responseStatus: 200, lastError: null });
    expect(log.map((row) => row.eventType).sort()).toEqual(["booking.confirmed", "session.full"]);
  });

  it("a receiver answering 500 gets the retry from the queue, with the same webhook-id; redelivery sends it once more", async () => {
    const endpoint = await subscribe(["certificate.issued"], [500, 200]);
    const test = await admin("POST", `/webhooks/${endpoint.id}/test`, undefined, [202]);
    const deliveryId = test.json.id as string;

    // The first retry waits 30 s (src/domain/webhooks.ts RETRY_DELAYS_SECONDS), through the local queue's delayed retry.
    const both = await eventually(async () => (endpoint.at(endpoint.path).length >= 2 ? endpoint.at(endpoint.path) : null), 90_000, "the retry after a 500");
    expect(both.map((request) => request.status)).toEqual([500, 200]);
    expect(both.map((request) => request.headers["webhook-id"])).toEqual([deliveryId, deliveryId]);
    for (const request of both) expect(verified(request, endpoint.secret)).toMatchObject({ type: "webhook.test", data: { endpointId: endpoint.id } });
    // The body is the stored one on every attempt; only the timestamp and signature are new.
    expect(both[1]!.body).toBe(both[0]!.body);
    expect(Number(both[1]!.headers["webhook-timestamp"]) - Number(both[0]!.headers["webhook-timestamp"])).toBeGreaterThanOrEqual(29);

    const [row] = await eventually(async () => {
      const rows = (await deliveryLog(endpoint.id)).filter((r) => r.id === deliveryId);
      return rows[0]?.status === "succeeded" ? rows : null;
    }, 30_000, "the delivery succeeded in the log");
    expect(row).toMatchObject({ eventType: "webhook.test", status: "succeeded", attempts: 2, responseStatus: 200, lastError: null });
    const endpointNow = (await admin("GET", `/webhooks/${endpoint.id}`)).json;
    expect(endpointNow).toMatchObject({ status: "enabled", consecutiveFailures: 0, failingSince: null });

    // Redelivery from the admin route: the same message once more, from a fresh first attempt.
    const again = await admin("POST", `/webhooks/${endpoint.id}/deliveries/${deliveryId}/redeliver`, undefined, [202]);
    expect(again.json).toMatchObject({ id: deliveryId, status: "pending", attempts: 0 });
    const third = await eventually(async () => endpoint.at(endpoint.path)[2], 30_000, "the redelivery");
    expect(third.headers["webhook-id"]).toBe(deliveryId);
    expect(verified(third, endpoint.secret).type).toBe("webhook.test");
    await eventually(async () => (await deliveryLog(endpoint.id)).find((r) => r.id === deliveryId && r.status === "succeeded" && r.attempts === 1), 30_000, "the redelivery in the log");
  });

  it("after a secret rotation the next delivery is signed with the new secret only", async () => {
    const endpoint = await subscribe(["certificate.issued"]);
    const first = await admin("POST", `/webhooks/${endpoint.id}/test`, undefined, [202]);
    const before = await eventually(async () => endpoint.at(endpoint.path).find((r) => r.headers["webhook-id"] === first.json.id), 30_000, "the first test send");
    expect(verified(before, endpoint.secret).type).toBe("webhook.test");

    const rotated = await admin("POST", `/webhooks/${endpoint.id}/rotate-secret`, undefined, [200]);
    const secret = rotated.json.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(endpoint.secret);
    // Never shown again afterwards.
    expect(JSON.stringify((await admin("GET", `/webhooks/${endpoint.id}`)).json)).not.toContain(secret);

    const second = await admin("POST", `/webhooks/${endpoint.id}/test`, undefined, [202]);
    const after = await eventually(async () => endpoint.at(endpoint.path).find((r) => r.headers["webhook-id"] === second.json.id), 30_000, "the test send after rotation");
    expect(verified(after, secret)).toMatchObject({ type: "webhook.test", data: { endpointId: endpoint.id } });
    expect(() => verified(after, endpoint.secret)).toThrow();
  });

  it("the admin routes refuse anyone but an admin", async () => {
    const anonymous = await api("POST", "/api/v1/admin/webhooks", { body: { url: `${origin}/hooks/anon`, events: ["session.full"] }, expect: [401] });
    expect(anonymous.json.error.code).toBeTruthy();
  });
});
