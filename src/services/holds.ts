/**
 * Checkout holds (POST /holds): seats held in every session of a selection for a while, all or
 * nothing, confirmed later by a booking that names the hold. A hold that is never booked expires
 * by the sessions' alarms. One session: one `reserve` that records the key and the attempt with the
 * hold; several: held for a coordinator, which records the attempt and the key's outcome.
 */
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { Attempt } from "./audit";
import { subjectOf } from "./attempt-subject";
import { type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { configOf } from "../config";
import { concealingFromStrangers } from "./disclosure";
import { chargeSeatWindows, limitClientAttempts, limitEmailAttempts } from "./booking-limits";
import { assertBookable, assertMayBookFor, refuseIfSeenFull, refuseWithoutTrainer, rememberIfFull } from "./booking-checks";
import { type Caller, chargeIdOf, selectionIds, seatRequest, whoAttempts } from "./bookings";
import { claimAttempt, keyOf, settle } from "./keyed-writes";
import { holdAll } from "./seat-coordinator";
import { sessionObject } from "./session-client";

export interface NewHold {
  selection: SessionSelection;
  guestCount: number;
  contact: Contact;
}

export type HoldResult = Awaited<ReturnType<typeof hold>>;

export async function createHold(caller: Caller, input: NewHold) {
  const email = input.contact.email.toLowerCase();
  const attempt = new Attempt({
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
  });
  return concealingFromStrangers(caller.principal, email, () => attempt.run(caller.env, () => hold(caller, { ...input, contact: { ...input.contact, email } }, attempt)));
}

async function hold(caller: Caller, input: NewHold, attempt: Attempt) {
  const { db, env } = caller;
  const now = new Date();
  assertMayBookFor(caller.principal, input.contact.email, false);
  await limitClientAttempts(caller);
  await refuseIfSeenFull(caller, input.selection, input.guestCount, input.contact.email, attempt, "hold");
  const context = await loadBookingContext(db, input.selection, input.contact, configOf(env).catalogCacheMs);
  attempt.note({ subject: subjectOf(context) });
  assertBookable(context, now);
  refuseWithoutTrainer(context);
  await limitEmailAttempts(caller, input.contact.email);

  const single = context.sessions.length === 1;
  const key = keyOf(caller);
  const claimed = single ? null : await claimAttempt(env, key, () => newId("hold"));
  if (claimed && "replay" in claimed) return claimed.replay as typeof result;
  const holdId = claimed ? claimed.reservationId : newId("hold");
  const request = seatRequest(caller, input, holdId);
  if (!request.exempt) attempt.note({ checkout: "hold" });
  const expiresAt = new Date(now.getTime() + request.holdTtlMs).toISOString();
  attempt.note({ bookingId: holdId, subject: subjectOf(context, { expiresAt }) });
  const result = {
    holdId,
    expiresAt,
    registrationType: context.registrationType,
    guestCount: input.guestCount,
    email: input.contact.email,
    sessions: context.sessions.map((session) => ({ sessionId: session.id, startsAt: session.startsAt.toISOString() })),
    replayed: undefined as boolean | undefined,
  };

  const charge = await chargeSeatWindows(caller, input.contact.email, await chargeIdOf(caller, holdId), input.guestCount, context.sessions.length);
  try {
    if (!claimed) {
      const session = context.sessions[0]!;
      const answer = await sessionObject(env, session.id).reserve({
        ...request,
        mode: "hold",
        snapshot: session.snapshot,
        idempotency: key,
        audit: attempt.toObject(),
        onSuccess: { response: JSON.stringify(result) },
      });
      rememberIfFull(env, context, answer);
      return settle(answer, result, { sessionId: session.id }, key);
    }
    const outcome = await holdAll(env, context.sessions, request, claimed.coordinator);
    const audit = attempt.toObject();
    if (!outcome.ok) {
      await claimed.record(audit, outcome.refusal);
      const error = new ApiError(outcome.refusal.code, outcome.refusal.message, { sessionId: outcome.sessionId, ...outcome.refusal.details });
      await claimed.finish({ ok: false, code: error.code, message: error.message, details: error.details ?? {} });
      throw error;
    }
    await claimed.record(audit);
    await claimed.finish({ ok: true, response: JSON.stringify(result) });
    return result;
  } catch (error) {
    // Nothing was taken: the seats go back to the windows, and the key is let go.
    await charge.refund();
    await claimed?.abandon();
    throw error;
  }
}
