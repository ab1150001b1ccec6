/** Helpers for waitlist tests: full sessions, joining, reading offers the way a notification would carry them. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { confirmToken, offerToken } from "../src/durable-objects/outbox";
import { makeBookableSession } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";
import { expireHolds, nextClientIp, postBooking, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";

/** A session whose seats are all booked, one booking per party size given. */
export async function fullSession(parties: number[], options: { pricePence?: number; startsInHours?: number } = {}) {
  const pricePence = options.pricePence ?? 2000;
  const capacity = parties.reduce((sum, seats) => sum + seats, 0);
  const made = await makeBookableSession({ capacity, pricePence, ...(options.startsInHours ? { startsInHours: options.startsInHours } : {}) });
  const bookings: { id: string; manageToken: string; seats: number }[] = [];
  for (const seats of parties) {
    const response = await postBooking(singleBookingBody(made.session.id, pricePence, { guestCount: seats }));
    if (response.status !== 201) throw new Error(`booking failed: ${response.status} ${response.text}`);
    bookings.push({ id: response.json.booking.id, manageToken: response.json.manageToken, seats });
  }
  return { ...made, pricePence, bookings };
}

export function joinBody(guestCount = 1, overrides: Record<string, unknown> = {}) {
  return { email: uniqueEmail("wait"), firstName: "Wai", lastName: "Ting", guestCount, ...overrides };
}

/**
 * Joins as the customer signed in with the body's email (in line at once), unless a token is given
 * or `anonymous` (then the entry waits for its email to be confirmed: `confirmByLink`).
 */
export async function join(sessionId: string, body: unknown, options: { token?: string; ip?: string; anonymous?: boolean } = {}) {
  const email = (body as { email?: unknown } | null)?.email;
  const token = options.token ?? (options.anonymous || typeof email !== "string" || !email.includes("@") ? undefined : await tokenFor("customer", email.toLowerCase()));
  return call("POST", `/api/v1/sessions/${sessionId}/waitlist`, {
    body,
    ...(token ? { token } : {}),
    headers: { "CF-Connecting-IP": options.ip ?? nextClientIp() },
  });
}

/** Follows the link in an entry's join message (its token signed as the outbox signs it). */
export async function confirmByLink(sessionId: string, entryId: string) {
  const token = await confirmToken(env.JWT_SECRET, { sessionId, entryId });
  return call("POST", `/api/v1/waitlist-confirmations/${token}`, { headers: { "CF-Connecting-IP": nextClientIp() } });
}

export function cancelBooking(booking: { id: string; manageToken: string }) {
  return call("POST", `/api/v1/bookings/${booking.id}/cancel`, { headers: { "X-Manage-Token": booking.manageToken } });
}

export async function entryOf(sessionId: string, entryId: string) {
  const entry = await sessionStub(sessionId).waitlistEntry(entryId);
  if (!entry) throw new Error(`no entry ${entryId}`);
  return entry;
}

/** The token an entry's current offer was sent with (the OFFER_MADE notification carries it). */
export async function currentOfferToken(sessionId: string, entryId: string): Promise<string> {
  const entry = await entryOf(sessionId, entryId);
  if (entry.status !== "offered" || !entry.offer) throw new Error(`entry ${entryId} has no open offer (${entry.status})`);
  return offerToken(env.JWT_SECRET, { sessionId, entryId, number: entry.offer.number });
}

/** Lets every open hold and offer of a session run out, and runs its alarm. */
export async function expireOffers(sessionId: string): Promise<void> {
  await expireHolds(sessionId);
  await runDurableObjectAlarm(sessionStub(sessionId));
}

export function acceptOffer(token: string, totalAmountPence: number, extra: Record<string, unknown> = {}) {
  return call("POST", `/api/v1/waitlist-offers/${token}/accept`, {
    body: { totalAmountPence, currency: "GBP", ...extra },
    headers: { "CF-Connecting-IP": nextClientIp() },
  });
}

/** D1's projection of a session's waitlist. */
export async function d1Waitlist(sessionId: string) {
  const { results } = await env.DB.prepare(`SELECT id, status, offers_made AS offersMade, booking_id AS bookingId FROM waitlist_entries WHERE session_id = ?`)
    .bind(sessionId)
    .all<{ id: string; status: string; offersMade: number; bookingId: string | null }>();
  return results;
}


/** Messages sent to an email, by type, once the notifications consumer has recorded them. */
export async function sentMessages(email: string) {
  const { results } = await env.DB.prepare(`SELECT id, type, status, subject, content FROM booking_communications WHERE recipient_email = ? ORDER BY requested_at, id`)
    .bind(email)
    .all<{ id: string; type: string; status: string; subject: string; content: string }>();
  return results;
}

/** Waits until `email` has been sent a message of `type`, and returns it. */
export async function messageTo(email: string, type: string) {
  return eventually(async () => (await sentMessages(email)).find((message) => message.type === type && message.status === "sent"), 10_000);
}
