/**
 * Checkout holds (POST /holds): seats held in every session of a selection for a while, all or
 * nothing, confirmed later by a booking that names the hold. A hold that is never booked expires
 * by the sessions' alarms.
 */
import { ApiError, type ErrorCode } from "../errors";
import { newId } from "../lib/ids";
import { idFromSeed } from "../middleware/idempotency";
import { recordAttempt } from "./audit";
import { type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { assertBookable, assertMayBookFor, type Caller, enforceRateLimit, refuseWithoutTrainer, selectionIds, seatRequest } from "./bookings";
import { recordDemandSignal } from "./demand";
import { holdAll } from "./seat-coordinator";

export interface NewHold {
  selection: SessionSelection;
  guestCount: number;
  contact: Contact;
}

export async function createHold(caller: Caller, input: NewHold) {
  const started = Date.now();
  const email = input.contact.email.toLowerCase();
  let code: ErrorCode | undefined;
  let holdId: string | undefined;
  try {
    const result = await hold(caller, { ...input, contact: { ...input.contact, email } });
    holdId = result.holdId;
    return result;
  } catch (error) {
    code = error instanceof ApiError ? error.code : "INTERNAL_ERROR";
    throw error;
  } finally {
    await recordAttempt(caller.db, {
      kind: "hold",
      outcome: code ? "rejected" : "accepted",
      errorCode: code ?? null,
      bookingId: holdId ?? null,
      registrationType: input.selection.registrationType,
      sessionIds: selectionIds(input.selection),
      email,
      guestCount: input.guestCount,
      amountPence: null,
      expectedAmountPence: null,
      currency: null,
      promoCode: null,
      source: null,
      actorRole: caller.principal?.role ?? "guest",
      clientKey: caller.clientKey,
      idempotencyKey: caller.idempotency?.key ?? null,
      requestId: caller.requestId,
      durationMs: Date.now() - started,
    });
  }
}

async function hold(caller: Caller, input: NewHold) {
  const { db } = caller;
  const now = new Date();
  assertMayBookFor(caller.principal, input.contact.email, false);
  await enforceRateLimit(caller, input.contact.email);
  const context = await loadBookingContext(db, input.selection, input.contact);
  const { customerId } = context;
  assertBookable(context, now);
  await refuseWithoutTrainer(db, context, { customerId, email: input.contact.email, registrationType: input.selection.registrationType });

  const holdId = caller.idempotency ? idFromSeed("hld", caller.idempotency.seed) : newId("hold");
  const request = seatRequest(caller, input, holdId);
  const outcome = await holdAll(caller.env, context.sessions, request);
  if (!outcome.ok) {
    throw new ApiError(outcome.refusal.code, outcome.refusal.message, { sessionId: outcome.sessionId, ...outcome.refusal.details });
  }
  await recordDemandSignal(db, {
    courseId: context.class.id,
    cityId: context.cityId,
    userId: customerId,
    signalType: "CHECKOUT_STARTED",
    reason: null,
    metadata: { holdId, sessionIds: context.sessions.map((session) => session.id), guestCount: input.guestCount },
  });
  return {
    holdId,
    expiresAt: new Date(now.getTime() + request.holdTtlMs).toISOString(),
    registrationType: context.registrationType,
    guestCount: input.guestCount,
    email: input.contact.email,
    sessions: context.sessions.map((session) => ({ sessionId: session.id, startsAt: session.startsAt.toISOString() })),
  };
}
