/**
 * Joining a session's waitlist, and confirming the email that joined. Nobody floods a line
 * (README "Nobody takes a session hostage"): an anonymous party is in line — gets offers, has a
 * position — only once it follows the link in its join message, and leaves unconfirmed after
 * WAITLIST_CONFIRM_MINUTES; one client address may have only so many parties waiting per session
 * (the session's object counts them) and join only so many waitlists in the seat window
 * (SeatQuotaDO); a repeat join by someone who only knows the email learns nothing. Staff, and a
 * customer signed in as the email's owner, are in line at once.
 */
import { configOf } from "../config";
import { capsFor } from "../domain/seating";
import type { WaitlistPriority } from "../domain/waitlist";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { idFromSeed } from "../lib/idempotency-key";
import { readSignedToken } from "../lib/tokens";
import { CONFIRM_TOKEN_PURPOSE, type WaitlistEntryView } from "../durable-objects/session-contract";
import { loadBookingContext } from "./booking-context";
import { chargeWaitlistWindows, limitClientAttempts, limitEmailAttempts, seatLimits } from "./booking-limits";
import { assertMayBookFor, refuseWithoutTrainer } from "./booking-checks";
import type { Caller } from "./bookings";
import { concealingFromStrangers, duplicateForStrangers, isStaff, mayKnowAbout } from "./disclosure";
import { sessionObject } from "./session-client";
import { entryToken, refusal } from "./waitlist";

export interface JoinRequest {
  email: string;
  firstName: string;
  lastName: string;
  guestCount: number;
  priority: WaitlistPriority;
  preferredContact?: string | undefined;
  alternativeDates?: string[] | undefined;
  notes?: string | undefined;
}

/**
 * Puts a party on a session's waitlist. Staff and the signed-in owner get the entry's token (to
 * check the place or leave) in the answer, and the email's existing entry on a repeat; an
 * anonymous joiner gets the token with the confirmation (only the mailbox proves the email), and
 * on a repeat 409 DUPLICATE_BOOKING without details.
 */
export async function joinWaitlist(caller: Caller, sessionId: string, request: JoinRequest) {
  const email = request.email.toLowerCase();
  return concealingFromStrangers(caller.principal, email, () => join(caller, sessionId, { ...request, email }));
}

async function join(caller: Caller, sessionId: string, request: JoinRequest) {
  const { env, db, principal } = caller;
  const email = request.email;
  const staff = isStaff(principal);
  assertMayBookFor(principal, email, false);
  if (request.priority !== "normal" && !staff) throw new ApiError("FORBIDDEN", "Only staff may set a waitlist priority");
  await limitClientAttempts(caller);

  const context = await loadBookingContext(db, { registrationType: "SINGLE_SESSION", sessionId }, request);
  const session = context.sessions[0]!;
  refuseWithoutTrainer(context);
  // A party may wait for no more than it could book: its share of the session (one larger than the
  // whole session is the object's INSUFFICIENT_CAPACITY).
  const capacity = session.snapshot.capacity;
  const caps = capsFor(capacity, seatLimits(env));
  const limit = caps.perEmail;
  if (!staff && request.guestCount > limit && request.guestCount <= capacity) {
    throw new ApiError("SEAT_LIMIT_EXCEEDED", `One email may wait for at most ${limit} seat(s) in this session`, { limit, requested: request.guestCount, scope: "email" });
  }
  // Only a join that could be made draws on the email's allowance (junk cannot lock its owner out).
  await limitEmailAttempts(caller, email);

  const config = configOf(env);
  const owner = mayKnowAbout(principal, email) && !staff;
  // The id names the session (as a booking id does), so staff can act on it before D1 has it.
  const entryId = `${caller.idempotency ? idFromSeed("wle", caller.idempotency.seed.slice(0, 16)) : newId("waitlistEntry").slice(0, 20)}-${sessionId}`;
  const charge = await chargeWaitlistWindows(caller, email, `waitlist:${entryId}`);
  let result;
  try {
    result = await sessionObject(env, sessionId).joinWaitlist({
      entryId,
      email,
      guestCount: request.guestCount,
      priority: request.priority,
      offerWindowMs: config.waitlistOfferTtlMs,
      snapshot: session.snapshot,
      confirmed: staff || owner,
      confirmWindowMs: config.waitlistConfirmMs,
      clientKey: owner ? `customer:${principal!.subject}` : caller.clientKey,
      maxEntriesPerClient: staff ? null : config.waitlistPartiesPerClientPerSession,
      maxSeatsPerClient: staff ? null : caps.perClient,
      details: {
        firstName: request.firstName,
        lastName: request.lastName,
        customerId: context.customerId,
        preferredContact: request.preferredContact ?? null,
        alternativeDates: request.alternativeDates ?? null,
        notes: request.notes ?? null,
        addedBy: staff ? principal!.subject : null,
        classId: context.class.id,
        className: context.class.name,
        seatPricePence: context.class.pricePence,
        studioId: context.studioId,
        studioName: context.studioName,
        cityId: context.cityId,
        timeZone: context.timeZone,
      },
    });
  } catch (error) {
    await charge.refund();
    throw error;
  }
  // Only a new entry uses up the window: a refusal or a repeat took nothing.
  if (!result.ok || !result.created) await charge.refund();
  if (!result.ok) throw refusal(result);
  const known = mayKnowAbout(principal, email);
  // A retry of this very request (its key names the entry) is the joiner's own.
  if (!result.created && result.entry.id !== entryId && !known) throw duplicateForStrangers();
  return { created: result.created, entry: result.entry, token: known ? await entryToken(config.jwtSecret, result.entry.id) : undefined };
}

/** The entry a join message's confirmation link names (reads only: a link preview confirms nothing). */
export async function entryToConfirm(caller: Pick<Caller, "env">, token: string): Promise<WaitlistEntryView> {
  const parts = await readSignedToken(configOf(caller.env).keyring, CONFIRM_TOKEN_PURPOSE, token, 2);
  const entry = parts ? await sessionObject(caller.env, parts[0]!).waitlistEntry(parts[1]!) : null;
  if (!entry) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", "No waitlist entry matches this confirmation link");
  return entry;
}

/**
 * Confirms the email of the entry the link names: it takes its place in line (and may get an offer
 * at once). The answer holds the entry's token: the mailbox is where it goes.
 */
export async function confirmEntry(caller: Pick<Caller, "env">, token: string): Promise<{ entry: WaitlistEntryView; token: string }> {
  const entry = await entryToConfirm(caller, token);
  const result = await sessionObject(caller.env, entry.sessionId).confirmWaitlistEntry(entry.id);
  if (!result.ok) throw refusal(result);
  return { entry: result.entry, token: await entryToken(configOf(caller.env).jwtSecret, result.entry.id) };
}
