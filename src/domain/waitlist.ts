/**
 * Waitlist rules, pure: who is next, whose party fits, and how long an offer lasts. The session's
 * Durable Object feeds these its own rows and applies the answer in one transaction.
 */
import { refuseSeats, type SeatLedger } from "./seating";

export const PRIORITY_RANK = { high: 0, normal: 1, low: 2 } as const;
export type WaitlistPriority = keyof typeof PRIORITY_RANK;

export interface WaitingParty {
  id: string;
  guestCount: number;
}

/**
 * The parties to offer seats to now, in line order (the caller passes them ordered by priority,
 * then order of joining). A party that does not fit is skipped for the next that does, so one
 * large party cannot block the line; each offer holds its seats, so later parties see fewer.
 */
export function choosePartiesToOffer<T extends WaitingParty>(waiting: T[], ledger: SeatLedger): T[] {
  const chosen: T[] = [];
  let heldSeats = ledger.heldSeats;
  for (const party of waiting) {
    if (refuseSeats({ ...ledger, heldSeats }, party.guestCount)) continue;
    chosen.push(party);
    heldSeats += party.guestCount;
  }
  return chosen;
}

/** An offer shorter than this could not reasonably be answered, so none is made that close to the start. */
export const MIN_OFFER_MS = 15 * 60_000;

/**
 * When an offer made now expires, and when to remind the customer it is expiring, or null when
 * the session is too near (or past) to make one. The window is the configured one (default
 * 24 h), but never more than half the time left before the session starts (so a near session's
 * offer passes down the line quickly), never under MIN_OFFER_MS, and never past the start. The
 * reminder goes when three quarters of the window has passed, unless the window is under an hour.
 */
export function offerTimes(now: number, startsAt: number, windowMs: number): { expiresAt: number; remindAt: number | null } | null {
  const left = startsAt - now;
  if (left <= MIN_OFFER_MS) return null;
  const length = Math.min(windowMs, Math.max(MIN_OFFER_MS, Math.floor(left / 2)), left);
  const expiresAt = now + length;
  return { expiresAt, remindAt: length >= 60 * 60_000 ? now + Math.floor((length * 3) / 4) : null };
}

/**
 * A staff offer: like an automatic one, but in the last minutes before the start (when no
 * automatic offer is made) it lasts until the start, as long as a minute is left.
 */
export function staffOfferTimes(now: number, startsAt: number, windowMs: number): { expiresAt: number; remindAt: number | null } | null {
  return offerTimes(now, startsAt, windowMs) ?? (startsAt - now > 60_000 ? { expiresAt: startsAt, remindAt: null } : null);
}
