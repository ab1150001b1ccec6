/**
 * Quotes (POST /quotes): what a booking would cost and whether its seats and resources fit now,
 * before anything is held. The same rules as a booking, from the same code: the catalog rows of
 * the selection (loadBookingContext), the bookable and NO_TRAINER checks, the promo check and
 * `quoteBooking` for the price, each session's Durable Object for the seats and resources left,
 * judged by `refuseSeats` and `refuseOverLimit` (one party's share) as the object would. Nothing
 * is written and no seat is taken, so a quote promises nothing: the booking prices again and
 * refuses a total that differs.
 */
import { configOf } from "../config";
import { quoteBooking, splitPence } from "../domain/pricing";
import { type CancellationTermsView, cancellationTermsView, type PaymentMode } from "../domain/booking-terms";
import { type Availability, refuseOverLimit, refuseSeats, type RefusalCode } from "../domain/seating";
import { ApiError } from "../errors";
import { loadBookingContext, type SessionSelection } from "./booking-context";
import { seatLimits } from "./booking-limits";
import { assertBookable, refuseWithoutTrainer } from "./booking-checks";
import { type Caller, isStaff } from "./bookings";
import { checkPromo, findPromo, limitPromoAttempts, promoRefusalFor } from "./promos";
import { sessionObject } from "./session-client";

export interface QuoteRequest {
  selection: SessionSelection;
  guestCount: number;
  promoCode?: string | undefined;
}

/** Why the seats asked for do not fit one session just now (the object would refuse with this code). */
export interface SeatProblem {
  code: Extract<RefusalCode, "SESSION_FULL" | "INSUFFICIENT_CAPACITY" | "RESOURCE_UNAVAILABLE" | "SEAT_LIMIT_EXCEEDED">;
  message: string;
  details: Record<string, unknown>;
}

export interface QuotedSession {
  sessionId: string;
  startsAt: string;
  endsAt: string;
  pricePence: number;
  availableSpots: number;
  status: Availability["status"];
  resources: { resourceId: string; name: string; needed: number; available: number }[];
  problem: SeatProblem | null;
}

export interface QuoteView {
  registrationType: SessionSelection["registrationType"];
  classId: string;
  patternId: string | null;
  guestCount: number;
  sessionCount: number;
  unitPence: number;
  subtotalPence: number;
  discountPence: number;
  totalPence: number;
  currency: "GBP";
  promoApplied: boolean;
  /** True when every session has the seats and resources for `guestCount` right now. */
  fits: boolean;
  sessions: QuotedSession[];
  /** How the class is paid for: online when booking, or at the studio. */
  paymentMode: PaymentMode;
  cancellationPolicy: CancellationTermsView;
}

/** Prices a selection and checks it fits, or throws the ApiError a booking of it would get first. */
export async function quoteSelection(caller: Caller, input: QuoteRequest): Promise<QuoteView> {
  const { env, db, principal } = caller;
  const now = new Date();
  const context = await loadBookingContext(db, input.selection, { email: principal?.email ?? "", firstName: "", lastName: "" }, configOf(env).catalogCacheMs);
  assertBookable(context, now);
  refuseWithoutTrainer(context);

  let promo: { kind: "percent" | "fixed"; value: number } | undefined;
  if (input.promoCode) {
    // A quote tells whether a code works: limited like a booking carrying one, refused with one message.
    await limitPromoAttempts(caller);
    const found = await findPromo(db, input.promoCode);
    const problem = checkPromo(found, now);
    if (problem) throw promoRefusalFor(problem, isStaff(principal));
    promo = { kind: found!.kind, value: found!.value };
  }
  const quoted = quoteBooking({
    registrationType: context.registrationType,
    classPricePence: context.class.pricePence,
    fullSchedulePricePence: context.class.fullSchedulePricePence,
    sessionCount: context.sessions.length,
    seats: input.guestCount,
    promo,
  });
  if (!quoted.ok) throw new ApiError(quoted.code, quoted.message, quoted.details);
  const { quote } = quoted;
  const linePrices = splitPence(quote.totalPence, context.sessions.length);

  const sessions = await Promise.all(
    context.sessions.map(async (session, index): Promise<QuotedSession> => {
      const live = await sessionObject(env, session.id).availability(session.snapshot);
      const seatsRefusal = refuseSeats(
        {
          capacity: live.capacity,
          bookedSeats: live.booked,
          heldSeats: live.held,
          cancelled: live.status === "cancelled",
          startsAt: session.snapshot.startsAt,
          resources: live.resources,
        },
        input.guestCount,
      );
      // The share of a session one party may take (staff are exempt), before anything else is held by them.
      const refusal = seatsRefusal ?? (isStaff(principal) ? null : refuseOverLimit({ byEmail: 0, byClient: 0 }, input.guestCount, live.capacity, seatLimits(env)));
      return {
        sessionId: session.id,
        startsAt: session.startsAt.toISOString(),
        endsAt: session.endsAt.toISOString(),
        pricePence: linePrices[index] ?? 0,
        availableSpots: live.availableSpots,
        status: live.status,
        resources: live.resources.map((resource) => ({
          resourceId: resource.resourceId,
          name: resource.name,
          needed: resource.perStudent * input.guestCount,
          available: resource.available,
        })),
        problem: refusal ? (refusal as SeatProblem) : null,
      };
    }),
  );
  return {
    registrationType: context.registrationType,
    classId: context.class.id,
    patternId: context.patternId,
    guestCount: input.guestCount,
    sessionCount: context.sessions.length,
    unitPence: quote.unitPence,
    subtotalPence: quote.subtotalPence,
    discountPence: quote.discountPence,
    totalPence: quote.totalPence,
    currency: quote.currency,
    promoApplied: promo !== undefined,
    fits: sessions.every((session) => session.problem === null),
    sessions,
    paymentMode: context.class.paymentMode,
    cancellationPolicy: cancellationTermsView(context.class.cancellationPolicy, context.sessions[0]!.startsAt.getTime()),
  };
}
