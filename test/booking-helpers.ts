/** Helpers for booking-engine tests: request bodies, distinct client addresses, DO inspection. */
import { env } from "cloudflare:workers";
import { call, type CallOptions } from "./helpers";

let ipCounter = 0;
/** A distinct client address per call, so per-client limits never couple unrelated tests. */
export function nextClientIp(): string {
  ipCounter += 1;
  const n = ipCounter + Math.floor(Math.random() * 1_000_000);
  return `198.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
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
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? nextClientIp(), ...options.headers };
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  return call("POST", "/api/v1/bookings", { ...options, body, headers });
}

export function postHold(body: unknown, options: CallOptions & { ip?: string; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? nextClientIp(), ...options.headers };
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
