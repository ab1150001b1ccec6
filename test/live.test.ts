import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIVE_CLOSE, MAX_CLIENT_MESSAGE_BYTES } from "../src/domain/live";
import { expireHolds, holdBody, postBooking, postHold, sessionStub, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { ALLOWED_ORIGIN, LiveFeed, openLive, requestLive } from "./live-helpers";
import { acceptOffer, cancelBooking, currentOfferToken, fullSession, join, joinBody } from "./waitlist-helpers";

// vitest.config.ts sets MAX_LIVE_CONNECTIONS_PER_SESSION to 3 for the test run (wrangler.toml: 2000).
const TEST_CONNECTION_CAP = 3;

async function bookOne(sessionId: string, pricePence: number, guestCount = 1) {
  const response = await postBooking(singleBookingBody(sessionId, pricePence, { guestCount }));
  expect(response.status).toBe(201);
  return response.json as { booking: { id: string }; manageToken: string };
}

describe("GET /api/v1/sessions/{id}/live", () => {
  it("sends a snapshot on connect, then a capacity message after a booking and after a cancellation", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1200 });
    const { feed, snapshot } = await openLive(session.id, { Origin: ALLOWED_ORIGIN });
    expect(snapshot).toEqual({ type: "snapshot", sessionId: session.id, availableSpots: 5, status: "open", waitlistLength: 0, version: 0 });

    const { booking, manageToken } = await bookOne(session.id, 1200, 2);
    const booked = await feed.nextCapacity();
    expect(booked).toEqual({ type: "capacity", sessionId: session.id, availableSpots: 3, status: "open", waitlistLength: 0, version: 1 });

    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`);
    expect(cancelled.status).toBe(200);
    expect(await feed.nextCapacity()).toMatchObject({ type: "capacity", availableSpots: 5, status: "open", version: 2 });

    // The same figures the availability route answers with.
    const live = (await call("GET", `/api/v1/sessions/${session.id}/availability`)).json;
    expect(live).toMatchObject({ availableSpots: 5, version: 2 });
    feed.socket.close(1000, "done");
  });

  it("gives every subscriber every change, with strictly increasing versions, up to full and back", async () => {
    const { session } = await makeBookableSession({ capacity: 3, pricePence: 1000 });
    const first = await openLive(session.id);
    const second = await openLive(session.id, { Origin: ALLOWED_ORIGIN });
    expect(second.snapshot).toEqual(first.snapshot);

    const bookings = [];
    for (let i = 0; i < 3; i++) bookings.push(await bookOne(session.id, 1000));
    const { booking, manageToken } = bookings[0]!;
    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": manageToken } })).status).toBe(200);

    for (const { feed } of [first, second]) {
      const updates = [await feed.nextCapacity(), await feed.nextCapacity(), await feed.nextCapacity(), await feed.nextCapacity()];
      expect(updates.map((u) => [u.availableSpots, u.status])).toEqual([
        [2, "open"],
        [1, "open"],
        [0, "full"],
        [1, "open"],
      ]);
      const versions = [first.snapshot.version, ...updates.map((u) => u.version)];
      for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
      feed.socket.close(1000);
    }
  });

  it("broadcasts the waitlist's length as parties join, are offered a freed seat and book it", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const { feed, snapshot } = await openLive(session.id, { Origin: ALLOWED_ORIGIN });
    expect(snapshot).toMatchObject({ availableSpots: 0, status: "full", waitlistLength: 0 });

    const first = (await join(session.id, joinBody(1))).json.entry;
    expect(await feed.nextCapacity()).toMatchObject({ availableSpots: 0, waitlistLength: 1, version: snapshot.version + 1 });
    await join(session.id, joinBody(1));
    expect(await feed.nextCapacity()).toMatchObject({ waitlistLength: 2 });

    // The cancellation frees the seat and offers it to #1 in one transaction: one message, still full.
    await cancelBooking(bookings[0]!);
    expect(await feed.nextCapacity()).toMatchObject({ availableSpots: 0, status: "full", waitlistLength: 2 });
    const accepted = await acceptOffer(await currentOfferToken(session.id, first.id), pricePence);
    expect(accepted.status).toBe(201);
    expect(await feed.nextCapacity()).toMatchObject({ availableSpots: 0, waitlistLength: 1 });
    const versions = feed.history.map((message) => message.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    feed.socket.close(1000, "done");
  });

  it("broadcasts an admin capacity change", async () => {
    const { session } = await makeBookableSession({ capacity: 4 });
    const { feed, snapshot } = await openLive(session.id);
    expect(snapshot.availableSpots).toBe(4);
    const admin = await tokenFor("admin");
    const patched = await call("PATCH", `/api/v1/admin/sessions/${session.id}`, { token: admin, body: { capacity: 9 } });
    expect(patched.status).toBe(200);
    expect(await feed.nextCapacity()).toMatchObject({ type: "capacity", availableSpots: 9, status: "open", version: snapshot.version + 1 });
    feed.socket.close(1000);
  });

  it("broadcasts a checkout hold and its expiry by the alarm", async () => {
    const { session } = await makeBookableSession({ capacity: 2 });
    const { feed, snapshot } = await openLive(session.id);
    const hold = await postHold(holdBody(session.id, 2));
    expect(hold.status).toBe(201);
    const held = await feed.nextCapacity();
    expect(held).toMatchObject({ availableSpots: 0, status: "full" });

    expect(await expireHolds(session.id)).toBeGreaterThan(0);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    const released = await feed.nextCapacity();
    expect(released).toMatchObject({ type: "capacity", availableSpots: 2, status: "open" });
    expect(released.version).toBeGreaterThan(held.version);
    expect(held.version).toBeGreaterThan(snapshot.version);
    feed.socket.close(1000);
  });

  it("keeps subscribers across eviction of the session's object: they get the next change, and pings are still answered", async () => {
    const { session } = await makeBookableSession({ capacity: 6, pricePence: 900 });
    const { feed, snapshot } = await openLive(session.id);
    await evictDurableObject(sessionStub(session.id));

    feed.socket.send("ping");
    expect(await feed.next()).toBe("pong");

    await bookOne(session.id, 900);
    expect(await feed.nextCapacity()).toMatchObject({ type: "capacity", availableSpots: 5, version: snapshot.version + 1 });

    // A second eviction, and a subscriber that joined in between: both still hear the next change.
    const late = await openLive(session.id);
    expect(late.snapshot).toMatchObject({ type: "snapshot", availableSpots: 5, version: snapshot.version + 1 });
    await evictDurableObject(sessionStub(session.id));
    await bookOne(session.id, 900);
    for (const subscriber of [feed, late.feed]) {
      expect(await subscriber.nextCapacity()).toMatchObject({ availableSpots: 4, version: snapshot.version + 2 });
      subscriber.socket.close(1000);
    }
  });

  it("opens through the app's whole middleware chain (request id, log, body limit, auth, idempotency)", async () => {
    const { session } = await makeBookableSession({ capacity: 2 });
    const token = await tokenFor("customer");
    const response = await requestLive(session.id, { Authorization: `Bearer ${token}`, "X-Request-Id": "live-test-1", "Idempotency-Key": "ignored-on-get" });
    expect(response.status).toBe(101);
    const feed = new LiveFeed(response.webSocket!);
    expect(await feed.nextCapacity()).toMatchObject({ type: "snapshot", sessionId: session.id, availableSpots: 2 });
    feed.socket.close(1000);
    // A token that is present but invalid is refused here as everywhere (401), before any upgrade.
    const refused = await requestLive(session.id, { Authorization: "Bearer not-a-token" });
    expect(refused.status).toBe(401);
    expect(refused.webSocket).toBeNull();
  });

  it("answers ping with pong without sending anything else", async () => {
    const { session } = await makeBookableSession();
    const { feed } = await openLive(session.id);
    feed.socket.send("ping");
    expect(await feed.next()).toBe("pong");
    feed.socket.send("ping");
    expect(await feed.next()).toBe("pong");
    expect(feed.unread()).toEqual([]);
    feed.socket.close(1000);
  });

  it(`closes with ${LIVE_CLOSE.POLICY_VIOLATION} on any message but ping, and nothing changes`, async () => {
    const { session } = await makeBookableSession({ capacity: 3 });
    for (const message of ['{"type":"book","seats":3}', "PING", "ping ", new Uint8Array([1, 2, 3])]) {
      const { feed } = await openLive(session.id);
      feed.socket.send(message);
      const closed = await feed.closed();
      expect(closed.code).toBe(LIVE_CLOSE.POLICY_VIOLATION);
      expect(closed.reason).toMatch(/clients may only send "ping"/);
    }
    const { feed, snapshot } = await openLive(session.id);
    expect(snapshot).toMatchObject({ availableSpots: 3, version: 0 });
    feed.socket.close(1000);
  });

  it(`closes with ${LIVE_CLOSE.MESSAGE_TOO_BIG} on a message over ${MAX_CLIENT_MESSAGE_BYTES} bytes`, async () => {
    const { session } = await makeBookableSession();
    for (const message of ["p".repeat(MAX_CLIENT_MESSAGE_BYTES + 1), "x".repeat(64 * 1024), new Uint8Array(MAX_CLIENT_MESSAGE_BYTES + 1)]) {
      const { feed } = await openLive(session.id);
      feed.socket.send(message);
      const closed = await feed.closed();
      expect(closed.code).toBe(LIVE_CLOSE.MESSAGE_TOO_BIG);
      expect(closed.reason).toMatch(/too big/i);
    }
  });

  it("refuses a browser Origin that is not allowed with 403 ORIGIN_NOT_ALLOWED", async () => {
    const { session } = await makeBookableSession();
    for (const origin of ["https://evil.example", "null", "http://localhost:5173.evil.example", "http://localhost:5174"]) {
      const response = await requestLive(session.id, { Origin: origin });
      expect(response.status).toBe(403);
      expect(response.webSocket).toBeNull();
      const body = await response.json<{ error: { code: string; details: { origin: string }; requestId: string } }>();
      expect(body.error).toMatchObject({ code: "ORIGIN_NOT_ALLOWED", details: { origin }, requestId: expect.any(String) });
    }
    // Allowed origins compare case-insensitively; no Origin at all (not a browser) is allowed.
    for (const headers of [{ Origin: "HTTP://LOCALHOST:5173" }, { Origin: "http://127.0.0.1:8787" }, {} as Record<string, string>]) {
      const { feed } = await openLive(session.id, headers);
      feed.socket.close(1000);
    }
  });

  it("answers a request that is not an upgrade with 426 UPGRADE_REQUIRED and Upgrade: websocket", async () => {
    const { session } = await makeBookableSession();
    for (const headers of [{}, { Upgrade: "h2c" }] as Record<string, string>[]) {
      const response = await requestLive(session.id, headers, false);
      expect(response.status).toBe(426);
      expect(response.headers.get("Upgrade")).toBe("websocket");
      expect(response.headers.get("X-Request-Id")).toEqual(expect.any(String));
      const body = await response.json<{ error: { code: string } }>();
      expect(body.error.code).toBe("UPGRADE_REQUIRED");
    }
  });

  it("answers 404 SESSION_NOT_FOUND for an unknown session, and 400 for a malformed id", async () => {
    const response = await requestLive("ses_does_not_exist");
    expect(response.status).toBe(404);
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe("SESSION_NOT_FOUND");
    const tooLong = await requestLive("s".repeat(65));
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json<{ error: { code: string } }>()).error.code).toBe("VALIDATION_FAILED");
  });

  it(`caps subscribers per session (MAX_LIVE_CONNECTIONS_PER_SESSION) with 503 LIVE_CONNECTION_LIMIT`, async () => {
    expect(env.MAX_LIVE_CONNECTIONS_PER_SESSION).toBe(String(TEST_CONNECTION_CAP));
    const { session } = await makeBookableSession();
    const feeds: LiveFeed[] = [];
    for (let i = 0; i < TEST_CONNECTION_CAP; i++) feeds.push((await openLive(session.id)).feed);

    const refused = await requestLive(session.id);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("30");
    const body = await refused.json<{ error: { code: string; details: Record<string, unknown> } }>();
    expect(body.error).toMatchObject({ code: "LIVE_CONNECTION_LIMIT", details: { sessionId: session.id, maxConnections: TEST_CONNECTION_CAP } });

    // Another session is not affected.
    const other = await makeBookableSession();
    const elsewhere = await openLive(other.session.id);
    elsewhere.feed.socket.close(1000);

    // Subscribers leaving (with a close code or without) free their places, at once.
    feeds[0]!.socket.close(1000, "bye");
    feeds[1]!.socket.close();
    expect((await feeds[0]!.closed()).code).toBe(1000);
    expect((await feeds[1]!.closed()).code).toBe(1005);
    const again = [await openLive(session.id), await openLive(session.id)];
    expect((await requestLive(session.id)).status).toBe(503);
    for (const { feed } of [...again, { feed: feeds[2]! }]) feed.socket.close(1000);
  });

  it("caps one client address's subscribers per session (MAX_LIVE_CONNECTIONS_PER_CLIENT) with 429, leaving room for others", async () => {
    expect(env.MAX_LIVE_CONNECTIONS_PER_CLIENT).toBe("2");
    const { session } = await makeBookableSession();
    const ip = "203.0.113.7";
    const mine = [await openLive(session.id, { "CF-Connecting-IP": ip }), await openLive(session.id, { "CF-Connecting-IP": ip })];
    const refused = await requestLive(session.id, { "CF-Connecting-IP": ip });
    expect(refused.status).toBe(429);
    const body = await refused.json<{ error: { code: string; details: Record<string, unknown> } }>();
    expect(body.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "live_connections_per_client", maxConnections: 2 } });
    // Someone else still gets in, and this client does once one of its feeds closes.
    const other = await openLive(session.id);
    mine[0]!.feed.socket.close(1000);
    await mine[0]!.feed.closed();
    const back = await openLive(session.id, { "CF-Connecting-IP": ip });
    for (const { feed } of [mine[1]!, other, back]) feed.socket.close(1000);
  });

  it("is documented in the OpenAPI document with its 101, 403, 404, 426 and 503 answers", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const op = doc.paths["/api/v1/sessions/{id}/live"]?.get;
    expect(op).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["101", "403", "404", "426", "503"]));
    expect(op.security ?? []).toEqual([]);
    expect(op.description).toContain('"type": "snapshot" | "capacity"');
  });
});
