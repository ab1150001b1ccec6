/**
 * Takes seats in one or more session Durable Objects, all or nothing (DESIGN invariant 3).
 *
 * One session: a single `reserve` (or `confirm` of an earlier hold) in that object, atomic by
 * itself, its Idempotency-Key record and attempt in the same transaction. Several: a two-phase
 * protocol through the attempt's coordinator object:
 *   1. hold in every session, in parallel (any refusal: release the others, report the refusal);
 *   2. record `commit` in the coordinator, unless an expiring hold recorded `abort` first (then
 *      release everything: HOLD_EXPIRED);
 *   3. confirm in every session, in parallel (a session whose hold expired meanwhile confirms by
 *      itself: its alarm asks the same coordinator before letting a hold go).
 * So a caller that dies at any point leaves either a whole booking or nothing.
 */
import type { Decision } from "../durable-objects/coordinator-contract";
import type { AttemptAudit, BookingProjection, IdempotencyClaim, ReserveInput } from "../durable-objects/session-contract";
import type { Refusal } from "../domain/seating";
import type { Env } from "../env";
import type { BookableSession } from "./booking-context";
import { coordinatorObject, sessionObject } from "./session-client";

export interface SeatRequest {
  reservationId: string;
  seats: number;
  email: string;
  clientKey: string;
  exempt: boolean;
  overrideDuplicate: boolean;
  limits: ReserveInput["limits"];
  holdTtlMs: number;
  /** Accepting a waitlist offer (its token checked): the only way to book an offer's hold. */
  acceptsOffer?: boolean | undefined;
}

export type SeatOutcome = { ok: true } | { ok: false; sessionId: string; refusal: Refusal };

const CONFIRM_ATTEMPTS = 3;

/**
 * Holds seats in every session for `coordinator`, or none: on any refusal the holds this call
 * took are released. Holds that existed before (an earlier hold being confirmed) are replayed and
 * left alone, so a request that does not match someone's hold cannot make them lose it. Returns
 * the coordinator the existing holds name, when they name one.
 */
export async function holdAll(env: Env, sessions: BookableSession[], request: SeatRequest, coordinator: string): Promise<SeatOutcome & { coordinators?: (string | null)[] }> {
  const results = await Promise.allSettled(
    sessions.map((session) => sessionObject(env, session.id).reserve({ ...request, mode: "hold", snapshot: session.snapshot, coordinator })),
  );
  const failureIndex = results.findIndex((result) => result.status === "rejected" || !result.value.ok);
  if (failureIndex === -1) {
    const held = results as PromiseFulfilledResult<{ ok: true; reservation: { coordinator: string | null } }>[];
    return { ok: true, coordinators: held.map((result) => result.value.reservation.coordinator) };
  }
  const failed = results[failureIndex]!;
  const refusal = failed.status === "fulfilled" ? refusalOf(failed.value) : undefined;
  // A hold released or expired in one session means its whole group is dead: let it all go.
  const groupDead = refusal?.code === "HOLD_EXPIRED" && refusal.details.reason !== "mismatch";
  const taken = sessions.filter((_, index) => {
    const result = results[index]!;
    return result.status === "fulfilled" && result.value.ok && (result.value.created || groupDead);
  });
  await releaseAll(env, taken, request.reservationId);
  if (!refusal) throw (failed as PromiseRejectedResult).reason;
  return { ok: false, sessionId: sessions[failureIndex]!.id, refusal };
}

/**
 * Holds in every session for a booking spanning them, and says which coordinator decides it: this
 * attempt's, or, confirming an earlier hold (`existingHold`), the one that hold was taken for — only
 * if every session's hold is of that one hold (a hold of other sessions, or of one session, is not).
 */
export async function holdTogether(
  env: Env,
  sessions: BookableSession[],
  request: SeatRequest,
  ownCoordinator: string,
  existingHold: boolean,
): Promise<({ ok: true } | { ok: false; sessionId: string; refusal: Refusal }) & { coordinator: string }> {
  const held = await holdAll(env, sessions, request, ownCoordinator);
  if (!held.ok) return { ...held, coordinator: ownCoordinator };
  const coordinators = new Set(held.coordinators);
  const coordinator = existingHold && coordinators.size === 1 ? [...coordinators][0] : ownCoordinator;
  if (coordinators.size === 1 && coordinator) return { ok: true, coordinator };
  // Let go of the holds this call took for sessions the earlier hold did not cover; the earlier hold stays whole.
  const taken = held.coordinators!.map((name, index) => (name === ownCoordinator ? sessions[index]! : null)).filter((session) => session !== null);
  await releaseAll(env, taken, request.reservationId);
  const refusal: Refusal = { code: "HOLD_EXPIRED", message: "The hold does not cover exactly these sessions", details: { holdId: request.reservationId, reason: "mismatch" } };
  return { ok: false, sessionId: sessions[0]!.id, refusal, coordinator: ownCoordinator };
}

/** Releases a reservation in every session; safe for sessions that never held it. */
export async function releaseAll(env: Env, sessions: { id: string }[], reservationId: string): Promise<void> {
  await Promise.allSettled(sessions.map((session) => sessionObject(env, session.id).release(reservationId)));
}

/**
 * Commits a booking held in every session and confirms it everywhere. `lineBooking(sessionId)`
 * gives the projection with that session's line price. The attempt is recorded by the coordinator
 * with its commit; the notifications go out with the first session's confirmation.
 */
export async function commitAll(
  env: Env,
  coordinator: string,
  sessions: { id: string }[],
  request: Pick<SeatRequest, "reservationId" | "seats" | "email" | "acceptsOffer">,
  lineBooking: (sessionId: string) => BookingProjection,
  audit: AttemptAudit,
  notifications: { id: string; kind: string }[],
): Promise<SeatOutcome> {
  const booking = lineBooking(sessions[0]!.id);
  const linePrices = Object.fromEntries(sessions.map((session) => [session.id, lineBooking(session.id).linePricePence]));
  const decision: Decision = await coordinatorObject(env, coordinator).decide({ decision: "commit", booking, linePrices }, audit);
  if (decision.decision === "abort" || decision.booking.id !== booking.id) {
    // Only an abort lets the holds go: holds committed to another booking are that booking's.
    if (decision.decision === "abort") await releaseAll(env, sessions, request.reservationId);
    const refusal: Refusal =
      decision.decision === "abort"
        ? { code: "HOLD_EXPIRED", message: "The hold expired before the booking was confirmed", details: { holdId: request.reservationId } }
        : { code: "HOLD_EXPIRED", message: "This hold has already been used by another booking", details: { holdId: request.reservationId, reason: "already_booked" } };
    await coordinatorObject(env, coordinator).recordAttempt(audit, refusal);
    return { ok: false, sessionId: sessions[0]!.id, refusal };
  }
  const results = await Promise.all(
    sessions.map((session, index) => confirmWithRetry(env, session.id, request, lineBooking(session.id), coordinator, index === 0 ? notifications : [])),
  );
  const failed = results.findIndex((result) => !result.ok);
  // Every session held the seats before the commit and an expiring hold confirms itself once
  // committed, so this cannot refuse; if it ever does, undo the whole booking rather than keep part.
  if (failed !== -1) {
    await cancelAll(env, sessions, { bookingId: booking.id, reservationId: request.reservationId });
    return { ok: false, sessionId: sessions[failed]!.id, refusal: refusalOf(results[failed]!) };
  }
  return { ok: true };
}

async function confirmWithRetry(env: Env, sessionId: string, request: Pick<SeatRequest, "reservationId" | "seats" | "email" | "acceptsOffer">, booking: BookingProjection, coordinator: string, notifications: { id: string; kind: string }[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sessionObject(env, sessionId).confirm({
        holdId: request.reservationId,
        booking,
        seats: request.seats,
        email: request.email,
        acceptsOffer: request.acceptsOffer,
        coordinator,
        onSuccess: { notifications },
      });
    } catch (error) {
      if (attempt >= CONFIRM_ATTEMPTS) throw error;
    }
  }
}

/** The refusal part of a DO result that was not ok (RPC result types do not narrow on `ok`). */
export function refusalOf(result: object): Refusal {
  const { code, message, details } = result as Refusal;
  return { code, message, details };
}

/**
 * Cancels a booking's lines (and holds committed to it) in every session; idempotent. The first
 * session goes first: it keeps a keyed request's record, records the attempt and sends the
 * notifications (their ids make repeats harmless); a key that came with another request stops
 * there. Returns the first session's answer.
 */
export async function cancelAll(
  env: Env,
  sessions: { id: string }[],
  cancel: {
    bookingId: string;
    reservationId?: string | undefined;
    audit?: AttemptAudit;
    notifications?: { id: string; kind: string }[];
    idempotency?: IdempotencyClaim | undefined;
    response?: string;
  },
) {
  const [first, ...rest] = sessions;
  if (!first) return undefined;
  const line = { bookingId: cancel.bookingId, reservationId: cancel.reservationId };
  const answer = await sessionObject(env, first.id).cancel({
    ...line,
    audit: cancel.audit,
    notifications: cancel.notifications,
    idempotency: cancel.idempotency,
    onSuccess: cancel.response === undefined ? undefined : { response: cancel.response },
  });
  if (answer.replayed === "reused") return answer;
  await Promise.all(rest.map((session) => sessionObject(env, session.id).cancel(line)));
  return answer;
}

/** The sessions a coordinator committed a booking to (none when it did not). */
export async function committedSessionIds(env: Env, coordinator: string | null, bookingId: string): Promise<string[]> {
  if (!coordinator) return [];
  const decision = await coordinatorObject(env, coordinator).decision();
  return decision?.decision === "commit" && decision.booking.id === bookingId ? Object.keys(decision.linePrices) : [];
}
