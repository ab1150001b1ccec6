/**
 * The booking flow (DESIGN "Flow of a booking"): load the sessions, check each has a qualified
 * instructor, price the booking, redeem the promo, take the seats in every session's Durable
 * Object all or nothing, and answer with the booking and its manage token. Every attempt,
 * accepted or refused, is written to the audit trail.
 */
import { asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookings, bookingSessions, classSessions, customers } from "../db/schema";
import { committedSessionIds } from "../db/booking-projection";
import type { BookingProjection } from "../durable-objects/session-contract";
import { checkPayment, quoteBooking, splitPence } from "../domain/pricing";
import type { Env, Principal } from "../env";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { manageTokenFor, sha256Hex } from "../lib/tokens";
import { idFromSeed } from "../middleware/idempotency";
import { raiseAlert } from "./alerts";
import { type CancellationData, subjectOf } from "./attempt-events";
import { type AttemptFields, type AttemptNote, audited } from "./audit";
import { type BookingContext, type ClassPlace, classPlace, type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { notifyBooking } from "./booking-notifications";
import type { WaitUntil } from "./events";
import { checkPromo, findPromo, type PromoCode, redeemPromo, releaseRedemption } from "./promos";
import { bookSeats, cancelAll, type SeatRequest } from "./seat-coordinator";

/** Who is asking and from where: the request's side of every booking operation. */
export interface Caller {
  env: Env;
  db: Db;
  principal: Principal | undefined;
  /** The client's address (CF-Connecting-IP), for per-client limits. */
  clientKey: string;
  idempotency: { scope: string; key: string; seed: string } | undefined;
  requestId: string;
  /** The request's waitUntil: events and notifications are sent after the response (awaited without it). */
  waitUntil?: WaitUntil | undefined;
}

export interface NewBooking {
  selection: SessionSelection;
  guestCount: number;
  contact: Contact;
  totalAmountPence: number;
  currency: string;
  promoCode?: string | undefined;
  holdId?: string | undefined;
  source?: string | undefined;
  referralSource?: string | undefined;
  notes?: string | undefined;
  overrideDuplicate?: boolean | undefined;
  /** Set by the waitlist when an offer's token was checked: `holdId` is the offer's hold. */
  fromWaitlistOffer?: boolean | undefined;
}

/** The audit fields that say who made an attempt, from where, under which key and request. */
export function whoAttempts(caller: Caller, anonymousRole: string): Pick<AttemptFields, "actorRole" | "clientKey" | "idempotencyKey" | "requestId"> {
  return {
    actorRole: caller.principal?.role ?? anonymousRole,
    clientKey: caller.clientKey,
    idempotencyKey: caller.idempotency?.key ?? null,
    requestId: caller.requestId,
  };
}

const isStaff = (principal: Principal | undefined) => principal?.role === "staff" || principal?.role === "admin";

/** Books, or throws the ApiError that says why not; either way the attempt is audited. */
export async function createBooking(caller: Caller, input: NewBooking) {
  const email = input.contact.email.toLowerCase();
  const fields: AttemptFields = {
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
    source: input.source ?? null,
    ...whoAttempts(caller, "guest"),
  };
  const result = await audited(caller, fields, async (note) => {
    const result = await book(caller, { ...input, contact: { ...input.contact, email } }, note);
    note({ bookingId: result.booking.id });
    return result;
  });
  await afterResponse(caller, notifyBooking(caller.env, caller.db, "BOOKING_CONFIRMED", result.booking, result.place));
  return result;
}

/** Hands work that must not delay the response to `waitUntil`, or awaits it when there is none. */
async function afterResponse(caller: Caller, work: Promise<unknown>): Promise<void> {
  if (caller.waitUntil) caller.waitUntil(work);
  else await work;
}

async function book(caller: Caller, input: NewBooking, note: (more: AttemptNote) => void) {
  const { env, db, principal } = caller;
  const now = new Date();
  const email = input.contact.email;
  assertMayBookFor(principal, email, input.overrideDuplicate === true);
  // An offer's acceptance is limited per client only: others could use up the email's allowance.
  await enforceRateLimit(caller, input.fromWaitlistOffer ? null : email);

  const context = await loadBookingContext(db, input.selection, input.contact);
  const { customerId } = context;
  note({ subject: subjectOf(context) });
  assertBookable(context, now);
  refuseWithoutTrainer(context);

  let promo: PromoCode | undefined;
  if (input.promoCode) {
    promo = await findPromo(db, input.promoCode);
    const problem = checkPromo(promo, now);
    if (problem) throw problem;
  }
  const quote = quoteBooking({
    registrationType: context.registrationType,
    classPricePence: context.class.pricePence,
    fullSchedulePricePence: context.class.fullSchedulePricePence,
    sessionCount: context.sessions.length,
    seats: input.guestCount,
    promo: promo ? { kind: promo.kind, value: promo.value } : undefined,
  });
  note({ expectedAmountPence: quote.totalPence });
  const paymentProblem = checkPayment({ quote, totalAmountPence: input.totalAmountPence, currency: input.currency, promoApplied: promo !== undefined });
  if (paymentProblem) throw paymentProblem;

  const bookingId = caller.idempotency
    ? idFromSeed("bkg", caller.idempotency.seed)
    : newId("booking");
  const manageToken = await manageTokenFor(env.JWT_SECRET, bookingId);
  const linePrices = splitPence(quote.totalPence, context.sessions.length);
  const header: Omit<BookingProjection, "linePricePence"> = {
    id: bookingId,
    customerId,
    classId: context.class.id,
    patternId: context.patternId,
    registrationType: context.registrationType,
    guestCount: input.guestCount,
    subtotalPence: quote.subtotalPence,
    discountPence: quote.discountPence,
    totalAmountPence: quote.totalPence,
    currency: "GBP",
    promoCodeId: promo?.id ?? null,
    source: input.source ?? null,
    referralSource: input.referralSource ?? null,
    notes: input.notes ?? null,
    manageTokenHash: await sha256Hex(manageToken),
    bookedBy: isStaff(principal) ? principal!.subject : null,
    duplicateOverride: input.overrideDuplicate === true,
    holdId: input.holdId ?? null,
    confirmedAt: now.getTime(),
  };
  const lineBooking = (sessionId: string): BookingProjection => ({
    ...header,
    linePricePence: linePrices[context.sessions.findIndex((session) => session.id === sessionId)] ?? 0,
  });

  if (promo) await redeemPromo(db, { promo, bookingId, email, now });
  // A customer's booking without a hold is a checkout of its own (a hold was one already; staff
  // bookings and waitlist acceptances, which confirm an offer's hold, are none).
  if (input.holdId === undefined && !input.fromWaitlistOffer && !isStaff(principal)) note({ checkout: "booking" });
  // If this throws, the seats may or may not have been committed: the promo use is kept (the
  // limit is never exceeded; a retry with the same Idempotency-Key reuses it as a replay).
  const outcome = await bookSeats(env, db, context.sessions, seatRequest(caller, input, input.holdId ?? bookingId), lineBooking, input.holdId !== undefined);
  if (!outcome.ok) {
    if (promo) await releaseRedemption(db, bookingId);
    if (outcome.refusal.code === "DUPLICATE_BOOKING") {
      await raiseAlert(db, {
        type: "DUPLICATE_BOOKING",
        severity: "warning",
        subjectKey: `${email}|${outcome.sessionId}`,
        title: `Repeated booking attempt by ${email}`,
        details: { email, sessionId: outcome.sessionId, ...outcome.refusal.details },
      });
    }
    throw new ApiError(outcome.refusal.code, outcome.refusal.message, { sessionId: outcome.sessionId, ...outcome.refusal.details });
  }

  note({
    subject: subjectOf(context, {
      subtotalPence: quote.subtotalPence,
      discountPence: quote.discountPence,
      promoCodeId: promo?.id ?? null,
      holdId: input.holdId ?? null,
      linePricesPence: linePrices,
      firstStartsAt: context.sessions[0]!.startsAt.getTime(),
    }),
  });
  // Built from what was committed, not read back from D1: the DOs have acknowledged the seats,
  // and their outboxes deliver the projection even if D1 is briefly unavailable right now.
  const { customerId: _customerId, confirmedAt: _confirmedAt, ...fields } = header;
  const booking: BookingView = {
    ...fields,
    status: "confirmed",
    customer: { id: customerId, email, firstName: input.contact.firstName, lastName: input.contact.lastName },
    lines: context.sessions.map((session, index) => ({
      sessionId: session.id,
      startsAt: session.startsAt.toISOString(),
      endsAt: session.endsAt.toISOString(),
      seats: input.guestCount,
      pricePence: linePrices[index] ?? 0,
      status: "confirmed" as const,
    })),
    confirmedAt: now.toISOString(),
    cancelledAt: null,
  };
  // The place goes to the confirmation message, so it need not read the class again.
  const place: ClassPlace = {
    studioId: context.studioId,
    cityId: context.cityId,
    className: context.class.name,
    studioName: context.studioName,
    timeZone: context.timeZone,
  };
  return { booking, manageToken, place };
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
    limits: seatLimits(env),
    holdTtlMs: positiveSetting(env.HOLD_TTL_SECONDS, 600) * 1000,
    acceptsOffer: input.fromWaitlistOffer === true,
  };
}

/** Per-session caps on the seats one email or one client address may hold or book. */
export function seatLimits(env: Env): SeatRequest["limits"] {
  return {
    perEmail: positiveSetting(env.MAX_SEATS_PER_EMAIL_PER_SESSION, 8),
    perClient: positiveSetting(env.MAX_SEATS_PER_CLIENT_PER_SESSION, 16),
  };
}

/** A whole, positive setting from wrangler vars; a missing or malformed one falls back to the default. */
function positiveSetting(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** A customer books for themselves; only staff book on behalf of others or override duplicates. */
export function assertMayBookFor(principal: Principal | undefined, email: string, overrideDuplicate: boolean): void {
  if (principal?.role === "customer" && principal.email !== email) {
    throw new ApiError("FORBIDDEN", "A customer token may only book for its own email", { email });
  }
  if (overrideDuplicate && !isStaff(principal)) {
    throw new ApiError("FORBIDDEN", "Only staff or admins may override the duplicate check");
  }
}

/** Attempts per client address and per email (unless null) per minute (Cloudflare's rate limiter); staff are exempt. */
export async function enforceRateLimit(caller: Caller, email: string | null): Promise<void> {
  if (isStaff(caller.principal)) return;
  const limiter = caller.env.BOOKING_RATE_LIMITER;
  const [byClient, byEmail] = await Promise.all([
    limiter.limit({ key: `client:${caller.clientKey}` }),
    email === null ? { success: true } : limiter.limit({ key: `email:${email}` }),
  ]);
  if (!byClient.success || !byEmail.success) {
    throw new ApiError("RATE_LIMITED", "Too many booking attempts; try again in a minute", {
      scope: byClient.success ? "email" : "client",
      retryAfterSeconds: 60,
    });
  }
}

/** Cancelled or started sessions take no bookings. */
export function assertBookable(context: BookingContext, now: Date): void {
  const cancelled = context.sessions.filter((session) => session.cancelled).map((session) => session.id);
  if (cancelled.length > 0) {
    throw new ApiError("SESSION_NOT_BOOKABLE", "The session has been cancelled", { reason: "cancelled", sessionIds: cancelled });
  }
  const started = context.sessions.filter((session) => session.startsAt.getTime() <= now.getTime()).map((session) => session.id);
  if (started.length > 0) {
    throw new ApiError("SESSION_NOT_BOOKABLE", "The session has already started", { reason: "started", sessionIds: started });
  }
}

/**
 * HARD rule: no session without a qualified instructor is sold. The refusal becomes a
 * PURCHASE_BLOCKED event, and so a demand signal (course, city, customer), so studios see where
 * to hire (src/services/attempt-events.ts).
 */
export function refuseWithoutTrainer(context: BookingContext): void {
  const untaught = context.sessions.filter((session) => !session.hasQualifiedInstructor).map((session) => session.id);
  if (untaught.length === 0) return;
  throw new ApiError("NO_TRAINER", "No qualified instructor is assigned yet, so this cannot be booked; you can ask to be notified", {
    sessionIds: untaught,
    courseId: context.class.id,
    cityId: context.cityId,
    canRegisterInterest: true,
  });
}

/** A booking from the D1 projection, with its customer and lines; undefined when unknown. */
export async function getBooking(db: Db, bookingId: string) {
  const [row] = await db
    .select({ booking: bookings, customer: customers })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .where(eq(bookings.id, bookingId));
  if (!row) return undefined;
  return toBookingView(row.booking, row.customer, await bookingLines(db, [bookingId]));
}

/** The session lines of some bookings, in session order. */
export function bookingLines(db: Db, bookingIds: string[]) {
  if (bookingIds.length === 0) return Promise.resolve([]);
  return db
    .select({ line: bookingSessions, startsAt: classSessions.startsAt, endsAt: classSessions.endsAt })
    .from(bookingSessions)
    .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
    .where(inArray(bookingSessions.bookingId, bookingIds))
    .orderBy(asc(classSessions.startsAt));
}

type LineRow = Awaited<ReturnType<typeof bookingLines>>[number];

/** A booking row, its customer and (any superset of) its lines, as the API shows it. */
export function toBookingView(booking: typeof bookings.$inferSelect, customer: typeof customers.$inferSelect, lines: LineRow[]) {
  return {
    id: booking.id,
    status: booking.status,
    registrationType: booking.registrationType,
    classId: booking.classId,
    patternId: booking.patternId,
    guestCount: booking.guestCount,
    customer: { id: customer.id, email: customer.email, firstName: customer.firstName, lastName: customer.lastName },
    lines: lines
      .filter(({ line }) => line.bookingId === booking.id)
      .map(({ line, startsAt, endsAt }) => ({
        sessionId: line.sessionId,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        seats: line.seats,
        pricePence: line.pricePence,
        status: line.status,
      })),
    subtotalPence: booking.subtotalPence,
    discountPence: booking.discountPence,
    totalAmountPence: booking.totalAmountPence,
    currency: booking.currency,
    promoCodeId: booking.promoCodeId,
    source: booking.source,
    referralSource: booking.referralSource,
    notes: booking.notes,
    holdId: booking.holdId,
    bookedBy: booking.bookedBy,
    duplicateOverride: booking.duplicateOverride,
    confirmedAt: booking.confirmedAt.toISOString(),
    cancelledAt: booking.cancelledAt?.toISOString() ?? null,
    manageTokenHash: booking.manageTokenHash,
  };
}

export type BookingView = ReturnType<typeof toBookingView>;

/**
 * Cancels every line of a booking, freeing the seats at once. Customers (and manage tokens) may
 * cancel until the first session starts; staff at any time. Idempotent.
 */
export async function cancelBooking(caller: Caller, booking: BookingView) {
  const fields: AttemptFields = {
    kind: "cancellation",
    bookingId: booking.id,
    registrationType: booking.registrationType,
    sessionIds: booking.lines.map((line) => line.sessionId),
    email: booking.customer.email,
    guestCount: booking.guestCount,
    amountPence: booking.totalAmountPence,
    expectedAmountPence: null,
    currency: booking.currency,
    promoCode: null,
    source: booking.source,
    ...whoAttempts(caller, "manage-token"),
  };
  let place: ClassPlace | undefined;
  const cancelled = await audited(caller, fields, async (note) => {
    if (booking.status === "cancelled") return booking;
    const firstStart = Math.min(...booking.lines.map((line) => Date.parse(line.startsAt)));
    if (!isStaff(caller.principal) && firstStart <= Date.now()) {
      throw new ApiError("SESSION_NOT_BOOKABLE", "The booking's first session has started; ask the studio to cancel", { reason: "started" });
    }
    // D1 may not have every line yet (a session still confirming from the commit log, or an
    // outbox still delivering): cancel in every session the commit covered as well.
    const reservationId = booking.holdId ?? booking.id;
    const [committed, loadedPlace] = await Promise.all([committedSessionIds(caller.db, reservationId, booking.id), classPlace(caller.db, booking.classId)]);
    place = loadedPlace; // also for the cancellation message, after the response
    const sessionIds = new Set([...booking.lines.map((line) => line.sessionId), ...committed]);
    await cancelAll(caller.env, [...sessionIds].map((id) => ({ id })), booking.id, reservationId);
    const now = Date.now();
    const confirmedAt = Date.parse(booking.confirmedAt);
    note({
      subject: {
        classId: booking.classId,
        studioId: place?.studioId ?? null,
        cityId: place?.cityId ?? null,
        customerId: booking.customer.id,
        sessionIds: [...sessionIds],
        data: {
          confirmedAt,
          minutesSinceConfirmation: Math.floor((now - confirmedAt) / 60_000),
          minutesBeforeStart: Math.floor((firstStart - now) / 60_000),
        } satisfies CancellationData,
      },
    });
    return (await getBooking(caller.db, booking.id)) ?? booking;
  });
  // Also for a repeat cancel: the request id makes it one message, and a lost first send is made good.
  await afterResponse(caller, notifyBooking(caller.env, caller.db, "BOOKING_CANCELLED", cancelled, place));
  return cancelled;
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
