import type { BookingProjection } from "../src/domain/projection";
/** Helpers for booking-engine tests: request bodies, distinct client addresses, DO inspection. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getDb } from "../src/db/client";
import { classRequirements, sessionSnapshot } from "../src/services/booking-context";
import { expect } from "vitest";
import { call, type CallOptions, eventuallyPasses } from "./helpers";

let ipCounter = 0;
/** A distinct client address per call, so per-client limits never couple unrelated tests. */
export function nextClientIp(): string {
  ipCounter += 1;
  const n = ipCounter + Math.floor(Math.random() * 1_000_000);
  return `198.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * The address a keyed request comes from when a test names none: the same for every request with
 * that key, as a client's retries are (a replay elsewhere withholds the secrets; test/hostage.test.ts).
 */
function clientIpOf(options: { ip?: string; idempotencyKey?: string }): string {
  if (options.ip) return options.ip;
  if (!options.idempotencyKey) return nextClientIp();
  let hash = 0;
  for (const char of options.idempotencyKey) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `10.${(hash >> 16) & 255}.${(hash >> 8) & 255}.${hash & 255}`;
}

export const uniqueEmail = (label = "guest") => `${label}-${crypto.randomUUID().slice(0, 12)}@example.test`;

export function singleBookingBody(sessionId: string, pricePence: number, overrides: Record<string, unknown> = {}) {
  const guestCount = (overrides.guestCount as number | undefined) ?? 1;
  return {
    registrationType: "SINGLE_SESSION",
    sessionId,
    guestCount,
    contact: { email: uniqueEmail(), firstName: "Ada", lastName: "Lovelace" },
    totalAmountPence: pricePence * guestCount,
    currency: "GBP",
    ...overrides,
  };
}

/** POST /api/v1/bookings from a fresh client address unless one is given. */
export function postBooking(body: unknown, options: CallOptions & { ip?: string; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": clientIpOf(options), ...options.headers };
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  return call("POST", "/api/v1/bookings", { ...options, body, headers });
}

export function postHold(body: unknown, options: CallOptions & { ip?: string; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": clientIpOf(options), ...options.headers };
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  return call("POST", "/api/v1/holds", { ...options, body, headers });
}

export async function availability(sessionId: string) {
  const response = await call("GET", `/api/v1/sessions/${sessionId}/availability`);
  return response.json;
}

/** Seats confirmed in D1's projection for a session. */
export async function d1BookedSeats(sessionId: string): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT coalesce(sum(seats), 0) AS seats FROM booking_sessions WHERE session_id = ? AND status = 'confirmed'`,
  )
    .bind(sessionId)
    .first<{ seats: number }>();
  return row?.seats ?? 0;
}

/** The session DO's own ledger. */
export function sessionStub(sessionId: string) {
  return env.SESSION.getByName(sessionId);
}

// ---- helpers for the race, hold, idempotency and fault tests ---------------------------------

/** A hold body (POST /api/v1/holds) for one session, or for several as DROP_IN. */
export function holdBody(sessionIds: string | string[], guestCount: number, email = uniqueEmail("hold")) {
  const selection = typeof sessionIds === "string" ? { registrationType: "SINGLE_SESSION", sessionId: sessionIds } : { registrationType: "DROP_IN", sessionIds };
  return { ...selection, guestCount, contact: { email, firstName: "Hol", lastName: "Der" } };
}

/** A DROP_IN booking body over `sessionIds` at `pricePence` a seat per session. */
export function dropInBookingBody(sessionIds: string[], pricePence: number, overrides: Record<string, unknown> = {}) {
  const guestCount = (overrides.guestCount as number | undefined) ?? 1;
  return {
    registrationType: "DROP_IN",
    sessionIds,
    guestCount,
    contact: { email: uniqueEmail("dropin"), firstName: "Drop", lastName: "In" },
    totalAmountPence: pricePence * sessionIds.length * guestCount,
    currency: "GBP",
    ...overrides,
  };
}

/** A FULL_SCHEDULE booking body for a pattern at `schedulePricePence` a seat. */
export function fullScheduleBookingBody(patternId: string, schedulePricePence: number, overrides: Record<string, unknown> = {}) {
  const guestCount = (overrides.guestCount as number | undefined) ?? 1;
  return {
    registrationType: "FULL_SCHEDULE",
    patternId,
    guestCount,
    contact: { email: uniqueEmail("course"), firstName: "Full", lastName: "Schedule" },
    totalAmountPence: schedulePricePence * guestCount,
    currency: "GBP",
    ...overrides,
  };
}

/** D1's booking_sessions rows for a session (confirmed and cancelled), sorted by booking id. */
export async function d1Lines(sessionId: string) {
  const { results } = await env.DB.prepare(
    `SELECT booking_id AS bookingId, seats, status FROM booking_sessions WHERE session_id = ? ORDER BY booking_id`,
  )
    .bind(sessionId)
    .all<{ bookingId: string; seats: number; status: string }>();
  return results;
}

/** The session DO's ledger (confirmed and cancelled lines), sorted by booking id like d1Lines. */
export async function doLedger(sessionId: string) {
  const entries = await sessionStub(sessionId).ledgerEntries();
  return [...entries].sort((a, b) => (a.bookingId < b.bookingId ? -1 : a.bookingId > b.bookingId ? 1 : 0));
}

/** The snapshot a session's DO is configured from, read from D1 the way the booking flow does. */
export async function snapshotOf(sessionId: string) {
  const db = getDb(env.DB);
  const row = await db.query.classSessions.findFirst({ where: (s, { eq }) => eq(s.id, sessionId) });
  if (!row) throw new Error(`no session ${sessionId}`);
  return sessionSnapshot(row, await classRequirements(db, row.classId));
}

/**
 * Makes every hold in a session's DO due now, as if its TTL had run out. The alarm is left as the
 * DO scheduled it: `runDurableObjectAlarm` runs it early, and returns false if the DO never set one.
 */
export async function expireHolds(sessionId: string): Promise<number> {
  return runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    return state.storage.sql.exec(`UPDATE reservations SET expires_at = ? WHERE status = 'held'`, Date.now() - 1).rowsWritten;
  });
}

/** Makes every outbox entry of a session's DO due now (skipping the retry backoff); the alarm is left as is. */
export async function makeOutboxDue(sessionId: string): Promise<void> {
  await runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    state.storage.sql.exec(`UPDATE outbox SET next_attempt_at = 0`);
  });
}

/** The alarm time a session's DO has scheduled, or null. */
export async function scheduledAlarm(sessionId: string): Promise<number | null> {
  return runInDurableObject(sessionStub(sessionId), (_instance, state) => state.storage.getAlarm());
}

// ---- the new design: projection through the Queue, coordinator decisions, DO-side records ------

/** The session DO's ledger as D1 sees it (no DO timestamps), sorted like d1Lines: compare the two with toEqual. */
export async function doLines(sessionId: string) {
  return (await doLedger(sessionId)).map(({ bookingId, seats, status }) => ({ bookingId, seats, status }));
}

/**
 * Waits until the projection has brought D1 level with a session's DO (its outbox all sent, the
 * queue consumer has written it): D1's lines equal the DO's. Returns the lines. D1 is written
 * asynchronously, so every D1 read after a booking's answer goes through a wait like this.
 */
export async function projectionCaughtUp(sessionId: string, timeoutMs = 15_000) {
  return eventuallyPasses(
    async () => {
      const lines = await doLines(sessionId);
      expect(await sessionStub(sessionId).pendingOutbox(), `session ${sessionId}: outbox entries not sent`).toBe(0);
      expect(await d1Lines(sessionId), `session ${sessionId}: D1 lines differ from the DO's`).toEqual(lines);
      return lines;
    },
    timeoutMs,
    100,
  );
}

/** A reservation row (hold or booking line) as the session's DO stores it, or null. */
export async function reservationIn(sessionId: string, reservationId: string) {
  return runInDurableObject(sessionStub(sessionId), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ id: string; booking_id: string | null; status: string; seats: number; email: string; coordinator: string | null }>(
        `SELECT id, booking_id, status, seats, email, coordinator FROM reservations WHERE id = ?`,
        reservationId,
      )
      .toArray()[0];
    return row ?? null;
  });
}

/** A booking attempt's coordinator object (named as in the reservation rows and booking ids). */
export function coordinatorStub(name: string) {
  return env.COORDINATOR.getByName(name);
}

/** The commit/abort decision a multi-session hold's coordinator holds (null: none yet), found through the hold's row. */
export async function decisionOfHold(sessionId: string, holdId: string) {
  const row = await reservationIn(sessionId, holdId);
  if (!row?.coordinator) throw new Error(`hold ${holdId} in ${sessionId} has no coordinator`);
  return coordinatorStub(row.coordinator).decision();
}

/** The Idempotency-Key records a session's DO keeps beside its writes. */
export async function idempotencyRecordsIn(sessionId: string) {
  return runInDurableObject(sessionStub(sessionId), (_instance, state) =>
    state.storage.sql
      .exec<{ scope: string; key: string; outcome: string; created_at: number }>(`SELECT scope, key, outcome, created_at FROM idempotency ORDER BY created_at`)
      .toArray(),
  );
}

/** D1 user tables (not SQLite's, D1's or Cloudflare's own). */
async function d1UserTables(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'`,
  ).all<{ name: string }>();
  return results.map((row) => row.name);
}

/**
 * A D1 write outage while `during` runs: a trigger on every table (or on `tables`) refuses INSERT,
 * UPDATE and DELETE; always lifted afterwards. Reads still work.
 */
export async function withD1WritesRefused<T>(during: () => Promise<T>, tables?: string[]): Promise<T> {
  const names = tables ?? (await d1UserTables());
  const triggers = names.flatMap((table) => ["INSERT", "UPDATE", "DELETE"].map((op) => ({ name: `refused_${table}_${op.toLowerCase()}`, table, op })));
  try {
    for (const { name, table, op } of triggers) {
      await env.DB.exec(`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'D1 refuses writes (test outage)'); END`);
    }
    return await during();
  } finally {
    for (const { name } of triggers) await env.DB.exec(`DROP TRIGGER IF EXISTS ${name}`);
  }
}

/**
 * A booking header as the booking flow commits it (src/domain/projection.ts), for tests that
 * project or confirm directly: one seat of a one-session booking at 1000 p unless told otherwise.
 */
export function testProjection(fields: Pick<BookingProjection, "id" | "customerId" | "classId"> & Partial<BookingProjection>): BookingProjection {
  return {
    customer: { email: uniqueEmail("projection"), firstName: "Ada", lastName: "Customer", phone: null },
    patternId: null,
    registrationType: "SINGLE_SESSION",
    guestCount: 1,
    subtotalPence: 1000,
    discountPence: 0,
    totalAmountPence: 1000,
    currency: "GBP",
    promoCodeId: null,
    source: null,
    referralSource: null,
    notes: null,
    manageTokenHash: "not-a-real-hash",
    bookedBy: null,
    duplicateOverride: false,
    holdId: null,
    confirmedAt: Date.now(),
    linePricePence: 1000,
    ...fields,
  };
}
