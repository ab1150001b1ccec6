/**
 * Issue 14, finding 8's token holes: bearer JWTs need exp (with a bounded lifetime), iat, iss and
 * aud; every token purpose has its own key derived from the secret; JWT_SECRET_PREVIOUS keeps
 * tokens of the previous secret working during a rotation; staff can revoke one booking's manage
 * tokens and get a new one.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decode, sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { claimsFor, signJwt } from "../src/lib/jwt-claims";
import { JWT_KEY_PURPOSE, keyId, MANAGE_TOKEN_PURPOSE, manageTokenFor, readSignedToken, signedToken } from "../src/lib/tokens";
import { postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, tokenFor } from "./helpers";

const NEW_SECRET = "the-next-secret-after-rotation-0001";

/** Calls the Worker with settings over the test env's (a rotated secret, say). */
async function callWith(settings: Record<string, string>, path: string, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://localhost${path}`, { headers }), { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** A guest booking, its email and manage token. */
async function aBooking() {
  const { session } = await makeBookableSession({ pricePence: 1000 });
  const email = uniqueEmail("token");
  const booked = await postBooking(singleBookingBody(session.id, 1000, { contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  expect(booked.status).toBe(201);
  return { id: booked.json.booking.id as string, email, manageToken: booked.json.manageToken as string, sessionId: session.id };
}

/** HMAC-SHA-256 under the plain secret, base64url: how tokens were made before keys were derived. */
async function rawHmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return btoa(String.fromCharCode(...mac)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

const now = () => Math.floor(Date.now() / 1000);

describe("bearer tokens need exp, a bounded lifetime, iat, iss and aud", () => {
  it("refuses each missing or wrong claim with 401 INVALID_TOKEN, and accepts the good token", async () => {
    const booking = await aBooking();
    const good = claimsFor({ sub: `customer:${booking.email}`, role: "customer", email: booking.email });
    const { exp: _exp, ...noExp } = good;
    const { iat: _iat, ...noIat } = good;
    const bad: Record<string, Record<string, unknown>> = {
      "no exp": noExp,
      "no iat": noIat,
      "a lifetime over 12 h": claimsFor({ sub: good.sub as string, role: "customer", email: booking.email, ttlSeconds: 12 * 3600 + 1 }),
      "a lifetime over 12 h, issued long ago": { ...good, iat: now() - 30 * 86_400, exp: now() + 600 },
      "the wrong iss": { ...good, iss: "someone-else" },
      "no iss": { ...good, iss: undefined },
      "the wrong aud": { ...good, aud: "another-api" },
      "no aud": { ...good, aud: undefined },
    };
    for (const [what, claims] of Object.entries(bad)) {
      const read = await call("GET", `/api/v1/bookings/${booking.id}`, { token: await signJwt(claims, env.JWT_SECRET) });
      expect(read.status, what).toBe(401);
      expect(read.json.error.code, what).toBe("INVALID_TOKEN");
    }
    // The control: the same token with every claim right (a 12 h lifetime is the maximum) opens the booking.
    const read = await call("GET", `/api/v1/bookings/${booking.id}`, { token: await signJwt(good, env.JWT_SECRET) });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(booking.id);
  });

  it("accepts an aud list that names this API", async () => {
    const claims = { ...claimsFor({ sub: "admin:x", role: "admin" }), aud: ["other", "class-booking-api"] };
    expect((await call("GET", "/api/v1/admin/cities", { token: await signJwt(claims, env.JWT_SECRET) })).status).toBe(200);
  });

  it("refuses a token signed with the plain secret instead of the JWT key derived from it", async () => {
    const token = await sign(claimsFor({ sub: "admin:x", role: "admin" }), env.JWT_SECRET, "HS256");
    expect((await call("GET", "/api/v1/admin/cities", { token })).json.error.code).toBe("INVALID_TOKEN");
  });
});

describe("key rotation with JWT_SECRET_PREVIOUS", () => {
  it("names the signing key in kid", async () => {
    const { header } = decode(await tokenFor("admin"));
    expect(header.kid).toMatch(/^[0-9a-f]{8}$/);
    expect(header.kid).toBe(await keyId(env.JWT_SECRET, JWT_KEY_PURPOSE));
    expect(header.kid).not.toBe(await keyId(NEW_SECRET, JWT_KEY_PURPOSE));
  });

  it("accepts a bearer token of the previous secret while JWT_SECRET_PREVIOUS names it, and refuses it once not", async () => {
    const old = await tokenFor("admin");
    const path = "/api/v1/admin/cities";
    const auth = { Authorization: `Bearer ${old}` };
    expect((await callWith({ JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: env.JWT_SECRET }, path, auth)).status).toBe(200);
    const after = await callWith({ JWT_SECRET: NEW_SECRET }, path, auth);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("INVALID_TOKEN");
    // A token of the new secret works during the rotation too, with or without its kid.
    const fresh = await signJwt(claimsFor({ sub: "admin:x", role: "admin" }), NEW_SECRET);
    expect((await callWith({ JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: env.JWT_SECRET }, path, { Authorization: `Bearer ${fresh}` })).status).toBe(200);
  });

  it("refuses a token whose kid names no key it has, even if the signature would match", async () => {
    const claims = claimsFor({ sub: "admin:x", role: "admin" });
    const token = await signJwt(claims, env.JWT_SECRET);
    const [, payload, signature] = token.split(".");
    const header = btoa(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "00000000" })).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
    expect((await call("GET", "/api/v1/admin/cities", { token: `${header}.${payload}.${signature}` })).json.error.code).toBe("INVALID_TOKEN");
  });

  it("keeps a manage token of the previous secret working during the rotation", async () => {
    const booking = await aBooking();
    const path = `/api/v1/bookings/${booking.id}?token=${encodeURIComponent(booking.manageToken)}`;
    expect((await callWith({ JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: env.JWT_SECRET }, path)).status).toBe(200);
    expect((await callWith({ JWT_SECRET: NEW_SECRET }, path)).status).toBe(403);
  });
});

describe("a key per purpose, derived from the secret", () => {
  it("gives manage, entry, offer and JWT keys of their own", async () => {
    const ids = await Promise.all([JWT_KEY_PURPOSE, MANAGE_TOKEN_PURPOSE, "waitlist-entry", "waitlist-offer"].map((purpose) => keyId(env.JWT_SECRET, purpose)));
    expect(new Set(ids).size).toBe(4);
  });

  it("refuses entry and offer tokens made the old way (HMAC under the plain secret)", async () => {
    const offerParts = ["ses_x", "wle_y", "1"];
    const oldOffer = [...offerParts, await rawHmac(env.JWT_SECRET, `waitlist-offer:${offerParts.join(":")}`)].join(".");
    const oldEntry = ["wle_y", await rawHmac(env.JWT_SECRET, "waitlist-entry:wle_y")].join(".");
    expect(await readSignedToken({ current: env.JWT_SECRET }, "waitlist-offer", oldOffer, 3)).toBeNull();
    expect(await readSignedToken({ current: env.JWT_SECRET }, "waitlist-entry", oldEntry, 1)).toBeNull();
    // The controls: made with the derived key they read, and an entry token is no offer token.
    const entry = await signedToken(env.JWT_SECRET, "waitlist-entry", ["wle_y"]);
    expect(await readSignedToken({ current: env.JWT_SECRET }, "waitlist-entry", entry, 1)).toEqual(["wle_y"]);
    expect(await readSignedToken({ current: env.JWT_SECRET }, "waitlist-offer", entry, 1)).toBeNull();
    expect(await readSignedToken({ current: NEW_SECRET, previous: env.JWT_SECRET }, "waitlist-entry", entry, 1)).toEqual(["wle_y"]);
  });

  it("refuses a manage token made the old way", async () => {
    const booking = await aBooking();
    expect(booking.manageToken).toBe(await manageTokenFor(env.JWT_SECRET, booking.id));
    const old = await rawHmac(env.JWT_SECRET, `manage-token:${booking.id}`);
    expect((await call("GET", `/api/v1/bookings/${booking.id}`, { headers: { "X-Manage-Token": old } })).status).toBe(403);
  });
});

describe("staff revoke one booking's manage token", () => {
  const revoke = async (id: string, token?: string) => call("POST", `/api/v1/admin/bookings/${id}/manage-token/revoke`, { token });
  const read = (id: string, manageToken: string) => call("GET", `/api/v1/bookings/${id}?token=${encodeURIComponent(manageToken)}`);

  it("refuses every earlier token from then on and hands staff a new one", async () => {
    const booking = await aBooking();
    const staff = await tokenFor("staff");
    expect((await read(booking.id, booking.manageToken)).status).toBe(200);

    const first = await revoke(booking.id, staff);
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    expect(first.json).toEqual({ bookingId: booking.id, manageToken: expect.any(String), revokedAt: expect.any(String) });
    expect(first.json.manageToken).not.toBe(booking.manageToken);
    const refused = await read(booking.id, booking.manageToken);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.manageToken } })).status).toBe(403);
    expect((await read(booking.id, first.json.manageToken)).status).toBe(200);

    // Again: the token of the first revocation goes too.
    const second = await revoke(booking.id, await tokenFor("admin"));
    expect((await read(booking.id, first.json.manageToken)).status).toBe(403);
    expect((await read(booking.id, second.json.manageToken)).status).toBe(200);

    // Once D1's projection has the booking (with the first token's hash), the old token stays refused.
    await projectionCaughtUp(booking.sessionId);
    expect((await read(booking.id, booking.manageToken)).status).toBe(403);
    const cancelled = await call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": second.json.manageToken } });
    expect(cancelled.status).toBe(200);
  });

  it("keeps a revoked booking's new token working during a rotation, and the old one refused", async () => {
    const booking = await aBooking();
    const { json } = await revoke(booking.id, await tokenFor("staff"));
    const rotating = { JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: env.JWT_SECRET };
    expect((await callWith(rotating, `/api/v1/bookings/${booking.id}?token=${encodeURIComponent(json.manageToken)}`)).status).toBe(200);
    expect((await callWith(rotating, `/api/v1/bookings/${booking.id}?token=${encodeURIComponent(booking.manageToken)}`)).status).toBe(403);
  });

  it("is for staff and admins only, and 404 for an unknown booking", async () => {
    const booking = await aBooking();
    const asCustomer = await revoke(booking.id, await tokenFor("customer", booking.email));
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    const anonymous = await revoke(booking.id);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe("UNAUTHENTICATED");
    expect((await read(booking.id, booking.manageToken)).status).toBe(200);
    const unknown = await revoke("bkg_does_not_exist", await tokenFor("staff"));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
  });
});
