/**
 * Idempotency-Key for POST requests (IETF httpapi Idempotency-Key draft, as Stripe runs it).
 *
 * Writes that a Durable Object records (bookings, holds, cancellations, waitlist acceptances: the
 * `recordedByObjects` routes) keep the key's record beside the write, in the object's transaction
 * (src/services/keyed-writes.ts): for them this middleware only checks the key and hashes the
 * request, and touches no D1. Every other route is backed by the D1 table idempotency_keys:
 *
 * The first request with a (caller, key) pair claims it with one conditional INSERT, so of two
 * concurrent requests only one executes; the other gets 409 IDEMPOTENCY_IN_PROGRESS, and once the
 * first has finished, the same request gets its stored response replayed (`Idempotent-Replayed:
 * true`). A different request under the same key is 422 IDEMPOTENCY_KEY_REUSED. 2xx and business 4xx
 * responses are stored (not 400, 401, 403, 429); after a 5xx or a thrown error the key keeps its
 * seed but its lease is let go, so a retry takes it over and executes again under the same ids.
 *
 * A claim carries a lease. A request that dies mid-flight leaves its claim behind; once the lease
 * runs out, a retry takes it over with a conditional UPDATE. The lease's end (`lease_until`) is
 * the owner's fencing token: a request finishes its record only while its own lease is the one
 * stored, so a slow original cannot overwrite the record of the request that took over. Handlers
 * that create rows derive their ids with `idFromSeed` (from a random seed kept with the key), so a
 * taken-over request writes the same rows, not new ones.
 */
import { z } from "@hono/zod-openapi";
import { and, eq, lt, lte } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { StatusCode } from "hono/utils/http-status";
import { type Db, getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import { idempotencyKeys } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

import { IDEMPOTENCY_HEADER, idFromSeed, REPLAYED_HEADER, withoutSecrets } from "../lib/idempotency-key";

export { IDEMPOTENCY_HEADER, REPLAYED_HEADER, idFromSeed };

const DEFAULT_LEASE_MS = 60_000;
/** Keys are kept 48 h: comfortably over the 24 h clients are told they may retry for. */
const DEFAULT_RETENTION_MS = 48 * 3600_000;
/** 1–255 visible ASCII characters (no spaces or control characters). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Documents the header on a route (`request: { headers: IdempotencyKeyHeader }`). The middleware
 * does the checking; Hono hands validators lower-cased header names, so this schema never sees
 * the value and only describes it.
 */
export const IdempotencyKeyHeader = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .optional()
    .openapi({
      description:
        "1–255 visible ASCII characters, unique per request you mean (a UUID). Repeating a request with the same key and body " +
        "replays the first response (header Idempotent-Replayed: true) for at least 24 h; the same key with a different body is " +
        "422 IDEMPOTENCY_KEY_REUSED; while the first is still running, 409 IDEMPOTENCY_IN_PROGRESS with Retry-After.",
      example: "5f0c3c1e-8a4b-4e59-9d0e-2b7f6a1c9e42",
    }),
});

export interface IdempotencyOptions {
  /** How long a claim is protected before another request may take it over. */
  leaseMs?: number;
  /** How long a key and its response are kept. */
  retentionMs?: number;
  /** Paths whose writes a Durable Object records with the key (no D1 record here). */
  recordedByObjects?: RegExp[];
  /**
   * Paths where a key is ignored: sign-in exchanges a one-time link for a secret, and a replay
   * must never hand that secret out again (nor may D1 keep it); the link's own single use guards it.
   */
  ignoredOn?: RegExp[];
}

type KeyRow = typeof idempotencyKeys.$inferSelect;
type Claim = { lease: number; seed: string } | { response: Response };

/**
 * Makes POST requests with an Idempotency-Key header execute at most once per caller and key, and
 * replays the first response to repeats. Register it after `authenticate()` (the key is scoped by
 * the caller) and the body limit. Sets `c.var.idempotency` to `{ scope, key }` when a key is given.
 */
export function idempotency(options: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const recordedByObjects = options.recordedByObjects ?? [];
  const ignoredOn = options.ignoredOn ?? [];
  if (!(leaseMs > 0) || !(retentionMs > leaseMs)) throw new Error("idempotency: need 0 < leaseMs < retentionMs");

  return createMiddleware<AppEnv>(async function idempotency(c, next) {
    c.set("idempotency", undefined);
    const key = c.req.method === "POST" ? c.req.header(IDEMPOTENCY_HEADER) : undefined;
    if (key === undefined || ignoredOn.some((pattern) => pattern.test(new URL(c.req.url).pathname))) return next();
    if (!KEY_PATTERN.test(key)) throw invalidKey();

    // A POST no route takes is a 404 with nothing to protect: it leaves no record behind.
    if (!matchedRoutes(c).some((route) => route.method === "POST")) return next();

    const principal = c.get("principal");
    // Hono caches the text, so the validators downstream parse the same body again. The query
    // string and a manage token are part of the request: a replay never goes to a request that
    // lacks the credential the first one carried.
    const body = await c.req.text();
    const scope = principal ? `sub:${principal.subject}` : await guestScope(body);
    const url = new URL(c.req.url);
    const requestHash = await sha256Hex(`${c.req.method} ${url.pathname}${url.search}\n${c.req.header("X-Manage-Token") ?? ""}\n${body}`);
    if (recordedByObjects.some((pattern) => pattern.test(url.pathname))) {
      c.set("idempotency", { scope, key, seed: "", requestHash });
      return next();
    }
    const db = getDb(c.env.DB);

    const claim = await claimKey(c, db, { scope, key, requestHash, leaseMs, retentionMs });
    if ("response" in claim) return claim.response;

    c.set("idempotency", { scope, key, seed: claim.seed, requestHash });
    const mine = and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), eq(idempotencyKeys.status, "in_progress"), eq(idempotencyKeys.leaseUntil, new Date(claim.lease)));
    // A failure on our side may have done part of the work: keep the key and its seed but let
    // the lease go, so a retry takes it over and finishes the same operation under the same ids.
    const releaseLease = () => db.update(idempotencyKeys).set({ leaseUntil: new Date(0) }).where(mine).catch(logFailure("release lease"));
    try {
      await next();
    } catch (err) {
      await releaseLease();
      throw err;
    }

    const status = c.res.status;
    if (status >= 500) {
      await releaseLease();
      return;
    }
    if (!isStorable(status)) {
      await db.delete(idempotencyKeys).where(mine).catch(logFailure("release"));
      return;
    }
    const text = await c.res.text();
    // Same status and headers (X-Request-Id among them), body from the text just read.
    c.res = new Response(text === "" ? null : text, { status, headers: c.res.headers });
    if (status === 409 && errorCodeOf(text) === "IDEMPOTENCY_IN_PROGRESS") {
      await db.delete(idempotencyKeys).where(mine).catch(logFailure("release"));
      return;
    }
    await db
      .update(idempotencyKeys)
      .set({ status: "completed", responseStatus: status, responseBody: text })
      .where(mine)
      .catch(logFailure("store response"));
  });
}

/**
 * Guests are told apart by the contact email their request names: one guest's key never answers,
 * nor blocks, another guest who happens to choose the same key. A body without an email shares
 * the anonymous scope.
 */
async function guestScope(body: string): Promise<string> {
  let email: unknown;
  try {
    const parsed = JSON.parse(body) as { contact?: { email?: unknown }; email?: unknown } | null;
    email = parsed?.contact?.email ?? parsed?.email;
  } catch {
    email = undefined;
  }
  return typeof email === "string" && email.trim() !== "" ? guestScopeOf(email) : "guest";
}

/** The Idempotency-Key scope of a guest naming this contact email. */
export async function guestScopeOf(email: string): Promise<string> {
  return `guest:${await sha256Hex(email.trim().toLowerCase())}`;
}

/** Claims the key for this request, or answers for it: a replay, 409 in progress or 422 reused. */
async function claimKey(
  c: Context<AppEnv>,
  db: Db,
  request: { scope: string; key: string; requestHash: string; leaseMs: number; retentionMs: number },
): Promise<Claim> {
  const { scope, key, requestHash, leaseMs, retentionMs } = request;
  const thisKey = and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key));
  // Each pass either decides or sees a row change under it (freed, expired, taken over); a few
  // passes settle any realistic interleaving.
  for (let attempt = 0; attempt < 4; attempt++) {
    const now = Date.now();
    const lease = now + leaseMs;
    const seed = crypto.randomUUID().replaceAll("-", "");
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ scope, key, requestHash, seed, status: "in_progress", origin: clientAddressOf(c), leaseUntil: new Date(lease), expiresAt: new Date(now + retentionMs) })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return { lease, seed };

    const row = await db.query.idempotencyKeys.findFirst({ where: thisKey });
    if (!row) continue; // freed (a 4xx that is not kept) in the meantime: claim again
    if (row.expiresAt.getTime() <= now) {
      await db.delete(idempotencyKeys).where(and(thisKey, lte(idempotencyKeys.expiresAt, new Date(now))));
      continue;
    }
    if (row.requestHash !== requestHash) {
      throw new ApiError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request", { idempotencyKey: key });
    }
    if (row.status === "completed") return { response: replay(c, row) };
    if (row.leaseUntil.getTime() > now) throw inProgress(c, row.leaseUntil.getTime() - now);

    // The request holding the key died without finishing: take its claim over.
    const takenOver = await db
      .update(idempotencyKeys)
      .set({ leaseUntil: new Date(lease) })
      .where(and(thisKey, eq(idempotencyKeys.status, "in_progress"), eq(idempotencyKeys.requestHash, requestHash), lt(idempotencyKeys.leaseUntil, new Date(now))))
      .returning({ key: idempotencyKeys.key });
    if (takenOver.length > 0) return { lease, seed: row.seed };
  }
  throw inProgress(c, leaseMs);
}

/**
 * The stored response, marked as a replay. Replayed to another client address than the one that
 * made it, a success comes without its secrets (an entry's token, a manage token), and says so:
 * whoever learnt a guest's key and body elsewhere learns that it happened, not how to act on it.
 */
function replay(c: Context<AppEnv>, row: KeyRow): Response {
  const status = (row.responseStatus ?? 200) as StatusCode;
  let body = row.responseBody || null;
  if (body && status < 300 && row.origin !== null && row.origin !== clientAddressOf(c)) {
    try {
      body = JSON.stringify(withoutSecrets(JSON.parse(body) as Record<string, unknown>));
    } catch {
      body = null; // not JSON: nothing of it is replayed elsewhere
    }
  }
  return c.newResponse(body, status, { "Content-Type": "application/json", [REPLAYED_HEADER]: "true" });
}

function clientAddressOf(c: Context<AppEnv>): string {
  return clientKeyOf(c.req.header("CF-Connecting-IP"));
}

function inProgress(c: Context<AppEnv>, remainingMs: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  c.header("Retry-After", String(retryAfterSeconds));
  return new ApiError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed; retry later", {
    retryAfterSeconds,
  });
}

function invalidKey(): ApiError {
  const message = "must be 1–255 visible ASCII characters";
  return new ApiError("VALIDATION_FAILED", `Invalid header. ${IDEMPOTENCY_HEADER}: ${message}`, {
    location: "header",
    issues: [{ path: IDEMPOTENCY_HEADER, message, code: "custom" }],
  });
}

/**
 * 2xx and business 4xx outcomes are final and replayed. Not kept: 5xx, 429, and what the client
 * can correct and retry with the same key (400 bad input, 401/403 credentials), as Stripe does.
 */
function isStorable(status: number): boolean {
  return (status >= 200 && status < 300) || (status >= 400 && status < 500 && ![400, 401, 403, 429].includes(status));
}

function errorCodeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } })?.error?.code;
  } catch {
    return undefined;
  }
}

function logFailure(what: string) {
  return (err: unknown) => console.error(JSON.stringify({ level: "error", msg: `idempotency: ${what} failed`, error: String(err) }));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Deletes keys past their retention; for a scheduled job. Returns how many went. */
export async function purgeExpiredIdempotencyKeys(db: Db, now = new Date()): Promise<number> {
  const deleted = await db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, now)).returning({ key: idempotencyKeys.key });
  return deleted.length;
}
