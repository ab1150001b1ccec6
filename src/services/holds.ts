/**
 * Checkout holds (POST /holds): seats held in every session of a selection for a while, all or
 * nothing, confirmed later by a booking that names the hold. A hold that is never booked expires
 * by the sessions' alarms.
 */
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { idFromSeed } from "../middleware/idempotency";
import { subjectOf } from "./attempt-events";
import { type AttemptFields, audited, type AttemptNote } from "./audit";
import { type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { assertBookable, assertMayBookFor, type Caller, enforceRateLimit, refuseWithoutTrainer, selectionIds, seatRequest, whoAttempts } from "./bookings";
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
  return audited(caller, fields, async (note) => {
    const result = await hold(caller, { ...input, contact: { ...input.contact, email } }, note);
    note({ bookingId: result.holdId });
    return result;
  });
}

async function hold(caller: Caller, input: NewHold, note: (more: AttemptNote) => void) {
  const { db } = caller;
  const now = new Date();
  assertMayBookFor(caller.principal, input.contact.email, false);
  await enforceRateLimit(caller, input.contact.email);
  const context = await loadBookingContext(db, input.selection, input.contact);
  note({ subject: subjectOf(context) });
  assertBookable(context, now);
  refuseWithoutTrainer(context);

  const holdId = caller.idempotency ? idFromSeed("hld", caller.idempotency.seed) : newId("hold");
  const request = seatRequest(caller, input, holdId);
  if (!request.exempt) note({ checkout: "hold" });
  const outcome = await holdAll(caller.env, context.sessions, request);
  if (!outcome.ok) {
    throw new ApiError(outcome.refusal.code, outcome.refusal.message, { sessionId: outcome.sessionId, ...outcome.refusal.details });
  }
  const expiresAt = new Date(now.getTime() + request.holdTtlMs).toISOString();
  note({ subject: subjectOf(context, { expiresAt }) });
  return {
    holdId,
    expiresAt,
    registrationType: context.registrationType,
    guestCount: input.guestCount,
    email: input.contact.email,
    sessions: context.sessions.map((session) => ({ sessionId: session.id, startsAt: session.startsAt.toISOString() })),
  };
}
