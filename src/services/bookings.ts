/**
 * The booking flow (DESIGN "Flow of a booking"): rate limit, load the sessions (D1 reads only),
 * check each has a qualified instructor, price the booking, redeem the promo, take the seats in
 * every session's Durable Object all or nothing, and answer with the booking and its manage token.
 * The objects record the attempt, the Idempotency-Key and the confirmation message with the seats;
 * an attempt refused before any object was asked is recorded by `Attempt.refused`.
 */
import type { BookingProjection } from "../domain/projection";
import { checkPayment, quoteBooking, splitPence } from "../domain/pricing";
import type { Env, Principal } from "../env";
import { ApiError } from "../errors";
import { manageTokenFor, sha256Hex } from "../lib/tokens";
import { Attempt } from "./audit";
import { subjectOf } from "./attempt-subject";
import { configOf } from "../config";
import { type BookingContext, type ClassPlace, type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { assertBookable, assertMayBookFor, refuseIfSeenFull, refuseWithoutTrainer, rememberIfFull } from "./booking-checks";
import { bookingNotificationFor } from "./booking-notifications";
import { type BookingView, viewOfProjection } from "./booking-views";
import type { Db } from "../db/client";
import type { NotificationRequest } from "./notifications";
import { checkPromo, findPromo, limitPromoAttempts, type PromoCode, promoRefusalFor, redeemPromo, releaseRedemption } from "./promos";
import { type Claimed, claimAttempt, keyOf, settle } from "./keyed-writes";
import { commitAll, holdTogether, type SeatRequest } from "./seat-coordinator";
import { bookingIdOfHold, newBookingId, sessionObject } from "./session-client";
import { assertPaymentsAvailable, holdForOnlinePayment, type PendingCheckout, paysOnline, withCheckout } from "./online-bookings";
import { concealingFromStrangers, isStaff, mayKnowAbout } from "./disclosure";
import { chargeSeatWindows, limitClientAttempts, limitEmailAttempts, seatLimits } from "./booking-limits";
import { assertMayRecordSource, bookingSourceOf } from "./booking-source";
import type { BookingSource } from "../db/schema";

/** Who is asking and from where: the request's side of every booking operation. */
export interface Caller {
  env: Env;
  db: Db;
  principal: Principal | undefined;
  /** The client's address (CF-Connecting-IP), for per-client limits. */
  clientKey: string;
  /** The request's Idempotency-Key, its scope and a hash of the request (src/middleware/idempotency.ts). */
  idempotency: { scope: string; key: string; seed: string; requestHash: string } | undefined;
  requestId: string;
}

export interface NewBooking {
  selection: SessionSelection;
  guestCount: number;
  contact: Contact;
  totalAmountPence: number;
  currency: string;
  promoCode?: string | undefined;
  holdId?: string | undefined;
  /** Absent: `staff` for staff, `website` for everyone else (src/services/booking-source.ts). */
  source?: BookingSource | undefined;
  referralSource?: string | undefined;
  notes?: string | undefined;
  overrideDuplicate?: boolean | undefined;
  /** Set by the waitlist when an offer's token was checked: `holdId` is the offer's hold. */
  fromWaitlistOffer?: boolean | undefined;
  /**
   * The messages to send once the seats are taken, instead of BOOKING_CONFIRMED to the contact
   * (a group booking sends its own); they go out with the seats, through the objects' outbox.
   */
  notificationsFor?: ((booking: BookingView) => NotificationRequest[]) | undefined;
}

export interface BookingResult {
  booking: BookingView;
  /** Absent when `secretsWithheld`: a replay to another client address than the original's. */
  manageToken?: string;
  secretsWithheld?: true;
  /** True when this answers a repeat of a keyed request: the first answer, again. */
  replayed?: boolean;
  /** A booking paid online: the checkout the customer pays at (src/services/online-bookings.ts). */
  payment?: { id: string; status: string; checkoutUrl: string; expiresAt: string };
  /** Internal, kept in the keyed answer: what opening the checkout again needs. Never sent to the client. */
  checkout?: PendingCheckout;
}

/** The audit fields that say who made an attempt, from where, under which key and request. */
export function whoAttempts(caller: Caller, anonymousRole: string) {
  return {
    actorRole: caller.principal?.role ?? anonymousRole,
    clientKey: caller.clientKey,
    idempotencyKey: caller.idempotency?.key ?? null,
    requestId: caller.requestId,
  };
}

export { isStaff };

/** Books, or throws the ApiError that says why not; either way the attempt is recorded. */
export async function createBooking(caller: Caller, input: NewBooking): Promise<BookingResult> {
  const email = input.contact.email.toLowerCase();
  const source = bookingSourceOf(caller.principal, input.source, input.fromWaitlistOffer === true);
  const attempt = new Attempt({
    kind: "booking",
    bookingId: null,
    registrationType: input.selection.registrationType,
    sessionIds: selectionIds(input.selection),
    email,
    guestCount: input.guestCount,
    amountPence: input.totalAmountPence,
    expectedAmountPence: null,
    currency: input.currency,
    promoCode: input.promoCode ?? null,
    source,
    ...whoAttempts(caller, "guest"),
  });
  const result = await concealingFromStrangers(caller.principal, email, () => attempt.run(caller.env, () => book(caller, { ...input, source, contact: { ...input.contact, email } }, attempt)));
  // A repeat of an online booking's request: its checkout again (the same one, by the booking's key).
  return result.checkout && !result.payment ? withCheckout(caller.env, result) : result;
}

async function book(caller: Caller, input: NewBooking, attempt: Attempt): Promise<BookingResult> {
  const { env, db, principal } = caller;
  const now = new Date();
  const email = input.contact.email;
  assertMayBookFor(principal, email, input.overrideDuplicate === true);
  assertMayRecordSource(principal, input.source ?? "website", input.fromWaitlistOffer === true);
  await limitClientAttempts(caller);
  if (input.holdId === undefined) await refuseIfSeenFull(caller, input.selection, input.guestCount, email, attempt, "booking");

  const context = await loadBookingContext(db, input.selection, input.contact, configOf(env).catalogCacheMs);
  attempt.note({ subject: subjectOf(context) });
  assertBookable(context, now);
  refuseWithoutTrainer(context);

  let promo: PromoCode | undefined;
  if (input.promoCode) {
    await limitPromoAttempts(caller);
    promo = await findPromo(db, input.promoCode);
    const problem = checkPromo(promo, now);
    if (problem) throw promoRefusalFor(problem, isStaff(principal));
  }
  const quoted = quoteBooking({
    registrationType: context.registrationType,
    classPricePence: context.class.pricePence,
    fullSchedulePricePence: context.class.fullSchedulePricePence,
    sessionCount: context.sessions.length,
    seats: input.guestCount,
    promo: promo ? { kind: promo.kind, value: promo.value } : undefined,
  });
  if (!quoted.ok) throw new ApiError(quoted.code, quoted.message, quoted.details);
  const quote = quoted.quote;
  attempt.note({ expectedAmountPence: quote.totalPence });
  const paymentProblem = checkPayment({
    quote,
    totalAmountPence: input.totalAmountPence,
    currency: input.currency,
    promoApplied: promo !== undefined,
    revealPromoPrice: isStaff(principal),
  });
  if (paymentProblem) throw new ApiError(paymentProblem.code, paymentProblem.message, paymentProblem.details);
  const online = paysOnline({ paymentMode: context.class.paymentMode, totalPence: quote.totalPence, staff: isStaff(principal), fromWaitlistOffer: input.fromWaitlistOffer === true });
  if (online) assertPaymentsAvailable(env);
  // Only a request that could book draws on the email's allowance: junk naming someone's address
  // (a wrong amount, a made-up code) cannot lock its owner out. An offer's acceptance is limited
  // per client only: others could use up the email's allowance.
  if (!input.fromWaitlistOffer) await limitEmailAttempts(caller, email);

  const single = context.sessions.length === 1;
  // Several sessions: a coordinator decides; a keyed request claims its key there first.
  const claimed: Claimed | null = single ? null : await claimAttempt(env, keyOf(caller), newBookingId);
  if (claimed && "replay" in claimed) return claimed.replay as BookingResult;
  // An online booking of one session's hold is named by the hold: a retry finds the same booking and checkout.
  const bookingId = claimed ? claimed.reservationId : online && input.holdId ? await bookingIdOfHold(input.holdId, context.sessions[0]!.id) : newBookingId(context.sessions[0]!.id);
  const coordinator = claimed ? claimed.coordinator : null;
  const manageToken = await manageTokenFor(configOf(env).jwtSecret, bookingId);
  const linePrices = splitPence(quote.totalPence, context.sessions.length);
  const header: BookingProjection = {
    id: bookingId,
    customerId: context.customerId,
    customer: { email, firstName: input.contact.firstName, lastName: input.contact.lastName, phone: input.contact.phone ?? null },
    classId: context.class.id,
    patternId: context.patternId,
    registrationType: context.registrationType,
    guestCount: input.guestCount,
    subtotalPence: quote.subtotalPence,
    discountPence: quote.discountPence,
    totalAmountPence: quote.totalPence,
    currency: "GBP",
    promoCodeId: promo?.id ?? null,
    source: input.source ?? "website",
    referralSource: input.referralSource ?? null,
    notes: input.notes ?? null,
    manageTokenHash: await sha256Hex(manageToken),
    bookedBy: isStaff(principal) ? principal!.subject : null,
    duplicateOverride: input.overrideDuplicate === true,
    holdId: input.holdId ?? null,
    confirmedAt: now.getTime(),
    linePricePence: linePrices[0] ?? 0,
    coordinator,
    sessions: context.sessions.map((session, index) => ({
      sessionId: session.id,
      startsAt: session.startsAt.getTime(),
      endsAt: session.endsAt.getTime(),
      pricePence: linePrices[index] ?? 0,
    })),
  };
  const lineBooking = (sessionId: string): BookingProjection => ({
    ...header,
    linePricePence: linePrices[context.sessions.findIndex((session) => session.id === sessionId)] ?? 0,
  });
  const result: BookingResult = { booking: viewOfProjection(header), manageToken };
  const notifications = input.notificationsFor?.(result.booking) ?? [bookingNotificationFor("BOOKING_CONFIRMED", result.booking, placeOf(context), manageToken)];

  if (promo && single && caller.idempotency) {
    // A repeat of a keyed promo booking replays before redeeming again (the key is the object's).
    const earlier = await sessionObject(env, context.sessions[0]!.id).recordedOutcome(keyOf(caller)!);
    if (earlier) return settle(earlier, result, { sessionId: context.sessions[0]!.id }, keyOf(caller));
  }
  if (promo) await redeemPromoOrDefer(env, { promo, bookingId, email, now }, isStaff(principal));
  // A customer's booking without a hold is a checkout of its own (a hold was one already; staff
  // bookings and waitlist acceptances, which confirm an offer's hold, are none).
  if (input.holdId === undefined && !input.fromWaitlistOffer && !isStaff(principal)) attempt.note({ checkout: "booking" });
  attempt.note({
    bookingId,
    subject: subjectOf(context, {
      subtotalPence: quote.subtotalPence,
      discountPence: quote.discountPence,
      promoCodeId: promo?.id ?? null,
      holdId: input.holdId ?? null,
      linePricesPence: linePrices,
      firstStartsAt: context.sessions[0]!.startsAt.getTime(),
    }),
  });
  const request = seatRequest(caller, input, input.holdId ?? bookingId);
  const onSuccess = { response: JSON.stringify(result), notifications };
  // A hold's seats were counted when they were held; an offer's seats are counted when it is accepted.
  const charged = input.holdId === undefined || input.fromWaitlistOffer === true;
  const charge = charged ? await chargeSeatWindows(caller, email, await chargeIdOf(caller, bookingId), input.guestCount, context.sessions.length) : null;
  try {
    if (online) {
      const description = `${context.class.name}, ${input.guestCount} ${input.guestCount === 1 ? "seat" : "seats"}`;
      const booking = { context, header, request, existingHold: input.holdId !== undefined, claimed, attempt, result, description };
      return await holdForOnlinePayment(caller, booking);
    }
    if (single) {
      const session = context.sessions[0]!;
      const object = sessionObject(env, session.id);
      const answer =
        input.holdId === undefined
          ? await object.reserve({ ...request, mode: "book", booking: header, snapshot: session.snapshot, idempotency: keyOf(caller), audit: attempt.toObject(), onSuccess })
          : await object.confirm({ holdId: input.holdId, booking: header, seats: request.seats, email, acceptsOffer: request.acceptsOffer, idempotency: keyOf(caller), audit: attempt.toObject(), onSuccess });
      rememberIfFull(env, context, answer);
      // A concurrent repeat redeemed the promo again under its own booking id: give that use back.
      if (promo && answer.replayed) await releaseRedemption(env, promo.id, bookingId);
      return settle(answer, result, { sessionId: session.id }, keyOf(caller));
    }
    return await bookSeveral(caller, context, request, lineBooking, attempt, claimed!, result, notifications, input.holdId !== undefined);
  } catch (error) {
    await charge?.refund();
    if (promo && error instanceof ApiError) await releaseRedemption(env, promo.id, bookingId);
    // A claim not finished (a refusal after it that the coordinator did not record, or a failure) is let go.
    if (claimed && !("replay" in claimed)) await claimed.abandon();
    throw error;
  }
}

/** Holds in every session, commits in the coordinator, confirms everywhere; the key's claim keeps the outcome. */
async function bookSeveral(
  caller: Caller,
  context: BookingContext,
  request: SeatRequest,
  lineBooking: (sessionId: string) => BookingProjection,
  attempt: Attempt,
  claimed: Exclude<Claimed, { replay: unknown }>,
  result: BookingResult,
  notifications: { id: string; kind: string }[],
  existingHold: boolean,
): Promise<BookingResult> {
  const { env } = caller;
  const held = await holdTogether(env, context.sessions, request, claimed.coordinator, existingHold);
  const coordinator = held.coordinator;
  const audit = attempt.toObject();
  const outcome = held.ok ? await commitAll(env, coordinator, context.sessions, request, lineBooking, audit, notifications) : held;
  if (!held.ok) await claimed.record(audit, held.refusal);
  if (!outcome.ok) {
    const error = new ApiError(outcome.refusal.code, outcome.refusal.message, { sessionId: outcome.sessionId, ...outcome.refusal.details });
    await claimed.finish({ ok: false, code: error.code, message: error.message, details: error.details ?? {} });
    throw error;
  }
  await claimed.finish({ ok: true, response: JSON.stringify(result) });
  return result;
}

/**
 * Promo limits span sessions, so a code's uses are decided by its own object (PromoRedemptionsDO),
 * not a session's. When that object cannot answer, the booking is told to retry (503 with
 * Retry-After) rather than failing with a 500, and takes no seat.
 */
async function redeemPromoOrDefer(env: Env, redemption: Parameters<typeof redeemPromo>[1], staff: boolean): Promise<void> {
  try {
    await redeemPromo(env, redemption);
  } catch (error) {
    if (error instanceof ApiError) throw promoRefusalFor(error, staff);
    console.error(JSON.stringify({ level: "error", msg: "promo redemption failed", promoCodeId: redemption.promo.id, error: String(error) }));
    const unavailable = new ApiError("SERVICE_UNAVAILABLE", "Promo codes cannot be redeemed just now; try again shortly, or book without one", { retryAfterSeconds: 30 });
    unavailable.headers["Retry-After"] = "30";
    throw unavailable;
  }
}

/**
 * Names the request to the seat windows: its key and request hash when it has a key (so a retry of
 * the same request is charged once, and the key used again for another request is charged anew),
 * else its reservation.
 */
export async function chargeIdOf(caller: Caller, reservationId: string): Promise<string> {
  const key = caller.idempotency;
  return key ? `key:${await sha256Hex(`${key.scope}\n${key.key}\n${key.requestHash}`)}` : reservationId;
}

function placeOf(context: BookingContext): ClassPlace {
  return { studioId: context.studioId, cityId: context.cityId, className: context.class.name, studioName: context.studioName, timeZone: context.timeZone, cancellationPolicy: context.class.cancellationPolicy };
}

/** The seats, limits and identity every session DO sees for this request. */
export function seatRequest(
  caller: Caller,
  input: { guestCount: number; contact: Contact; overrideDuplicate?: boolean | undefined; fromWaitlistOffer?: boolean | undefined },
  reservationId: string,
): SeatRequest {
  const { env, principal } = caller;
  return {
    reservationId,
    seats: input.guestCount,
    email: input.contact.email.toLowerCase(),
    clientKey: caller.clientKey,
    exempt: isStaff(principal),
    overrideDuplicate: isStaff(principal) && input.overrideDuplicate === true,
    // Staff are exempt anyway; a signed-in owner is counted by their exact address.
    limits: { ...seatLimits(env), exactEmail: mayKnowAbout(principal, input.contact.email) },
    holdTtlMs: configOf(env).holdTtlMs,
    acceptsOffer: input.fromWaitlistOffer === true,
  };
}

export function selectionIds(selection: SessionSelection): string[] {
  switch (selection.registrationType) {
    case "SINGLE_SESSION":
      return [selection.sessionId];
    case "DROP_IN":
      return selection.sessionIds;
    case "FULL_SCHEDULE":
      return [];
  }
}

