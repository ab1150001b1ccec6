/** Helpers for the booking-move tests: sessions of one class, bookings, the move request, reading the result. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { moveLedgerName } from "../src/services/session-client";
import { coordinatorStub, nextClientIp, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeRole } from "./fixtures";
import { call } from "./helpers";

export const PRICE = 1500;
export const HOUR = 3_600_000;

/** Two (or more) bookable sessions of one class, `capacities` seats each. */
export async function sessionsOfOneClass(
  capacities: number[],
  policy: { selfCancelCutoffHours?: number; freeCancellationHours?: number; lateCancellationFeePercent?: number } = {},
  startsInHours: number[] = [],
) {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id, pricePence: PRICE, ...policy });
  const sessions = [];
  for (const [index, capacity] of capacities.entries()) {
    sessions.push((await makeBookableSession({ classId: klass.id, capacity, startsInHours: startsInHours[index] ?? 24 * (7 + index) })).session);
  }
  return { klass, sessions };
}

/** A one-seat booking (or `guestCount`) in `sessionId`: its id, manage token and email. */
export async function book(sessionId: string, guestCount = 1, email = uniqueEmail("mover")) {
  const response = await postBooking(singleBookingBody(sessionId, PRICE, { guestCount, contact: { email, firstName: "Mo", lastName: "Ver" } }));
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return { id: response.json.booking.id as string, token: response.json.manageToken as string, email };
}

export function postMove(bookingId: string, body: unknown, options: { manageToken?: string; token?: string; idempotencyKey?: string; ip?: string } = {}) {
  // A client's retries come from one address (a replay elsewhere withholds the secrets).
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? nextClientIp() };
  if (options.manageToken) headers["X-Manage-Token"] = options.manageToken;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  return call("POST", `/api/v1/bookings/${bookingId}/move`, { body, headers, token: options.token });
}

export const getBooking = (bookingId: string, manageToken: string) => call("GET", `/api/v1/bookings/${bookingId}`, { headers: { "X-Manage-Token": manageToken } });

export const linesOf = (booking: { lines: { sessionId: string; status: string }[] }) =>
  Object.fromEntries(booking.lines.map((line) => [line.sessionId, line.status]));

export async function d1Header(bookingId: string) {
  return env.DB.prepare(`SELECT status, guest_count AS guestCount, total_amount_pence AS total FROM bookings WHERE id = ?`).bind(bookingId).first();
}

/** The booking's move ledger object (src/durable-objects/move-ledger.ts). */
export async function ledgerStub(bookingId: string) {
  return coordinatorStub(await moveLedgerName(bookingId));
}
