/**
 * Session waitlists. The session's Durable Object orders the line and makes offers; this layer
 * checks who is asking and turns an accepted offer into a booking through the normal booking path
 * (price, payment check, promo, audit). Joining and confirming: src/services/waitlist-join.ts.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, classSessions, waitlistEntries } from "../db/schema";
import type { WaitlistEntryView } from "../durable-objects/session-contract";
import { OFFER_TOKEN_PURPOSE } from "../durable-objects/session-contract";
import { configOf } from "../config";
import { quoteBooking } from "../domain/pricing";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { readSignedToken, signedToken } from "../lib/tokens";
import { type Caller, createBooking } from "./bookings";
import { sessionObject } from "./session-client";

export const ENTRY_TOKEN_PURPOSE = "waitlist-entry";

/** An entry by its token, checked against the session it was issued for. */
export async function entryByToken(env: Env, sessionId: string, token: string): Promise<WaitlistEntryView> {
  const parts = await readSignedToken(configOf(env).keyring, ENTRY_TOKEN_PURPOSE, token, 1);
  const entry = parts ? await sessionObject(env, sessionId).waitlistEntry(parts[0]!) : null;
  if (!entry) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", "No waitlist entry matches this token for this session", { sessionId });
  return entry;
}

export async function leaveWaitlist(env: Env, sessionId: string, entryId: string, by: "customer" | "staff"): Promise<WaitlistEntryView> {
  const result = await sessionObject(env, sessionId).leaveWaitlist(entryId, by);
  if (!result.ok) throw refusal(result);
  return result.entry;
}

/** The session an entry belongs to: named in its id, else (older entries) from D1's projection. */
export async function entrySessionId(db: Db, entryId: string): Promise<string> {
  const located = /^wle_[0-9a-f]{16}-(ses_[A-Za-z0-9_]{1,40})$/.exec(entryId);
  if (located) return located[1]!;
  const [row] = await db.select({ sessionId: waitlistEntries.sessionId }).from(waitlistEntries).where(eq(waitlistEntries.id, entryId));
  if (!row) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", `Waitlist entry ${entryId} was not found`, { entryId });
  return row.sessionId;
}

export async function offerNow(env: Env, db: Db, entryId: string): Promise<WaitlistEntryView> {
  const result = await sessionObject(env, await entrySessionId(db, entryId)).offerNow(entryId);
  if (!result.ok) throw refusal(result);
  return result.entry;
}

/** A session's whole waitlist, from its DO (404 for a session D1 does not know, so no DO is made for it). */
export async function sessionWaitlist(env: Env, db: Db, sessionId: string): Promise<WaitlistEntryView[]> {
  const [session] = await db.select({ id: classSessions.id }).from(classSessions).where(eq(classSessions.id, sessionId));
  if (!session) throw new ApiError("SESSION_NOT_FOUND", `Session ${sessionId} was not found`, { sessionId });
  return sessionObject(env, sessionId).waitlist();
}

/** The entry and offer a token names (whatever its state now), straight from the session's DO. */
async function offerOf(env: Env, token: string) {
  const parts = await readSignedToken(configOf(env).keyring, OFFER_TOKEN_PURPOSE, token, 3);
  if (!parts) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", "No offer matches this token");
  const [sessionId, entryId, number] = [parts[0]!, parts[1]!, Number(parts[2])];
  const entry = await sessionObject(env, sessionId).waitlistEntry(entryId);
  if (!entry) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", "No offer matches this token");
  return { entry, number };
}

function offerClosed(entry: WaitlistEntryView): ApiError {
  return new ApiError("OFFER_NOT_AVAILABLE", entry.status === "booked" ? "This offer has been accepted already" : `This offer is no longer open (the entry is ${entry.status})`, {
    entryId: entry.id,
    status: entry.status,
    bookingId: entry.bookingId,
  });
}

/**
 * The offer a token names, while it is open: the entry and its offer (the hold on the seats).
 * Refused (OFFER_NOT_AVAILABLE) once it expired, was declined or replaced, or was booked.
 */
export async function openOffer(env: Env, token: string) {
  const { entry, number } = await offerOf(env, token);
  if (entry.status !== "offered" || entry.offer?.number !== number) throw offerClosed(entry);
  return { entry, offer: entry.offer, number };
}

/** The class, start and price of accepting an offer (what `totalAmountPence` must be without a promo). Reads only. */
export async function offerQuote(db: Db, entry: WaitlistEntryView) {
  const [row] = await db
    .select({ className: classes.name, pricePence: classes.pricePence, fullSchedulePricePence: classes.fullSchedulePricePence, startsAt: classSessions.startsAt })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .where(eq(classSessions.id, entry.sessionId));
  if (!row) throw new ApiError("SESSION_NOT_FOUND", `Session ${entry.sessionId} was not found`, { sessionId: entry.sessionId });
  const quote = quoteBooking({
    registrationType: "SINGLE_SESSION",
    classPricePence: row.pricePence,
    fullSchedulePricePence: row.fullSchedulePricePence,
    sessionCount: 1,
    seats: entry.guestCount,
  });
  // One session of a class always has a price: a refusal here would be a bug upstream.
  if (!quote.ok) throw new ApiError(quote.code, quote.message, quote.details);
  return { className: row.className, startsAt: row.startsAt, totalPence: quote.quote.totalPence };
}

export interface OfferAcceptance {
  totalAmountPence: number;
  currency: string;
  promoCode?: string | undefined;
  notes?: string | undefined;
}

/**
 * Accepting an offer is booking its held seats through the normal path, the offer's hold
 * confirmed. A retry with the same Idempotency-Key after the booking was made (a lost answer, a
 * 5xx after the commit) books the same hold again, which replays rather than refuses.
 */
export async function acceptOffer(caller: Caller, token: string, payment: OfferAcceptance) {
  const { entry, number } = await offerOf(caller.env, token);
  const offer = entry.offer;
  // A keyed retry of an acceptance that went through goes on: the session's object replays it.
  const retry = entry.status === "booked" && caller.idempotency !== undefined;
  if (!offer || offer.number !== number || (entry.status !== "offered" && !retry)) throw offerClosed(entry);
  return createBooking(caller, {
    selection: { registrationType: "SINGLE_SESSION", sessionId: entry.sessionId },
    guestCount: entry.guestCount,
    contact: { email: entry.email, firstName: entry.firstName ?? "", lastName: entry.lastName ?? "" },
    totalAmountPence: payment.totalAmountPence,
    currency: payment.currency,
    promoCode: payment.promoCode,
    notes: payment.notes,
    holdId: offer.holdId,
    source: "waitlist",
    fromWaitlistOffer: true,
  });
}

export async function declineOffer(env: Env, token: string): Promise<WaitlistEntryView> {
  const { entry, number } = await openOffer(env, token);
  const result = await sessionObject(env, entry.sessionId).declineOffer(entry.id, number);
  if (!result.ok) throw refusal(result);
  return result.entry;
}

export function entryToken(secret: string, entryId: string): Promise<string> {
  return signedToken(secret, ENTRY_TOKEN_PURPOSE, [entryId]);
}


/** A DO refusal as the API error (RPC result types do not narrow on `ok`). */
export function refusal(result: object): ApiError {
  const { code, message, details } = result as { code: ConstructorParameters<typeof ApiError>[0]; message: string; details: Record<string, unknown> };
  return new ApiError(code, message, details);
}
