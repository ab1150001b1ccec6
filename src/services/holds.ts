/**
 * Checkout holds (POST /holds): seats held in every session of a selection for a while, all or
 * nothing, confirmed later by a booking that names the hold. A hold that is never booked expires
 * by the sessions' alarms.
 */
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { idFromSeed } from "../middleware/idempotency";
import { type AttemptFields, audited } from "./audit";
import { type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { assertBookable, assertMayBookFor, type Caller, enforceRateLimit, refuseWithoutTrainer, selectionIds, seatRequest, whoAttempts } from "./bookings";
import { recordDemandSignal } from "./demand";
import { holdAll } from "./seat-coordinator";

export interface NewHold {
  selection: SessionSelection;
  guestCount: number;
  contact: Contact;
}

export async function createHold(caller: Caller, input: NewHold) {
  const email = input.contact.email.toLowerCase();
  const fields: AttemptFields = {
    kind: "hold",
    bookingId: null,
    registrationType: input.selection.registrationType,
    sessionIds: selectionIds(input.selection),
    email,
    guestCount: input.guestCount,
    amountPence: null,
    expectedAmountPence: null,
    currency: null,
    promoCode: null,
    source: null,
    ...whoAttempts(caller, "guest"),
  };
  return audited(caller.db, fields, async (note) => {
    const result = await hold(caller, { ...input, contact: { ...input.contact, email } });
    note({ bookingId: result.holdId });
    return result;
  });
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
