/**
 * Takes seats in one or more session Durable Objects, all or nothing (DESIGN invariant 3).
 *
 * One session, no earlier hold: a single `reserve("book")` in that DO, atomic by itself.
 * Otherwise a two-phase protocol:
 *   1. hold in every session (any refusal: release the others, report the refusal);
 *   2. record the decision `commit` in D1's commit log, unless an expiring hold recorded `abort`
 *      first (then release everything: HOLD_EXPIRED);
 *   3. confirm in every session (retried; a DO whose hold expired meanwhile confirms by itself,
 *      because its alarm reads the same commit log before letting a hold go).
 * So a coordinator that dies at any point leaves either a whole booking or nothing.
 */
import { decideReservation } from "../db/booking-projection";
import type { Db } from "../db/client";
import type { BookingProjection, ReserveInput } from "../durable-objects/session-contract";
import type { Refusal } from "../domain/seating";
import type { Env } from "../env";
import type { BookableSession } from "./booking-context";

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

function sessionStub(env: Env, sessionId: string) {
  return env.SESSION.getByName(sessionId);
}

/**
 * Holds seats in every session, or none: on any refusal the holds this call took are released.
 * Holds that existed before (a client's earlier hold being confirmed) are left alone, so a
 * request that does not match someone's hold cannot make them lose it.
 */
export async function holdAll(env: Env, sessions: BookableSession[], request: SeatRequest): Promise<SeatOutcome> {
  const results = await Promise.allSettled(
    sessions.map((session) =>
      sessionStub(env, session.id).reserve({ ...request, mode: "hold", snapshot: session.snapshot }),
    ),
  );
  const failureIndex = results.findIndex((result) => result.status === "rejected" || !result.value.ok);
  if (failureIndex === -1) return { ok: true };

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

/** Releases a reservation in every session; safe for sessions that never held it. */
export async function releaseAll(env: Env, sessions: BookableSession[], reservationId: string): Promise<void> {
  await Promise.allSettled(sessions.map((session) => sessionStub(env, session.id).release(reservationId)));
}

/**
 * Books seats for `booking` in every session. `lineBooking(sessionId)` gives the projection with
 * that session's line price. With `existingHold`, `request.reservationId` is a hold taken earlier
 * (POST /holds), which is confirmed rather than booked anew.
 */
export async function bookSeats(
  env: Env,
  db: Db,
  sessions: BookableSession[],
  request: SeatRequest,
  lineBooking: (sessionId: string) => BookingProjection,
  existingHold: boolean,
): Promise<SeatOutcome> {
  const [only] = sessions;
  if (sessions.length === 1 && only && !existingHold) {
    const result = await sessionStub(env, only.id).reserve({
      ...request,
      mode: "book",
      booking: lineBooking(only.id),
      snapshot: only.snapshot,
    });
    if (result.ok) return { ok: true };
    return { ok: false, sessionId: only.id, refusal: refusalOf(result) };
  }

  // With an earlier hold this replays it (and checks it matches); sessions it did not cover are
  // held now. Either way every session holds the seats before anything is committed.
  const held = await holdAll(env, sessions, request);
  if (!held.ok) return held;

  const booking = lineBooking(sessions[0]!.id);
  const linePrices = Object.fromEntries(sessions.map((session) => [session.id, lineBooking(session.id).linePricePence]));
  const decision = await decideReservation(db, request.reservationId, { decision: "commit", booking, linePrices });
  if (decision.decision === "abort") {
    await releaseAll(env, sessions, request.reservationId);
    return {
      ok: false,
      sessionId: sessions[0]!.id,
      refusal: { code: "HOLD_EXPIRED", message: "The hold expired before the booking was confirmed", details: { holdId: request.reservationId } },
    };
  }
  if (decision.booking.id !== booking.id) {
    // The hold was committed to another booking already: this one gets nothing.
    return {
      ok: false,
      sessionId: sessions[0]!.id,
      refusal: {
        code: "HOLD_EXPIRED",
        message: "This hold has already been used by another booking",
        details: { holdId: request.reservationId, reason: "already_booked", existingBookingId: decision.booking.id },
      },
    };
  }

  for (const session of sessions) {
    const result = await confirmWithRetry(env, session.id, request, lineBooking(session.id));
    // Every session held the seats before the commit and an expiring hold confirms itself once
    // committed, so this cannot refuse; if it ever does, undo the whole booking rather than keep part.
    if (!result.ok) {
      await cancelAll(env, sessions, lineBooking(session.id).id);
      await releaseAll(env, sessions, request.reservationId);
      return { ok: false, sessionId: session.id, refusal: refusalOf(result) };
    }
  }
  return { ok: true };
}

async function confirmWithRetry(env: Env, sessionId: string, request: SeatRequest, booking: BookingProjection) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sessionStub(env, sessionId).confirm(request.reservationId, booking, {
        seats: request.seats,
        email: request.email,
        acceptsOffer: request.acceptsOffer,
      });
    } catch (error) {
      if (attempt >= CONFIRM_ATTEMPTS) throw error;
    }
  }
}

/** The refusal part of a DO result that was not ok (RPC result types do not narrow on `ok`). */
function refusalOf(result: object): Refusal {
  const { code, message, details } = result as Refusal;
  return { code, message, details };
}

/** Cancels a booking's lines (and holds committed to it) in every session; idempotent. */
export async function cancelAll(env: Env, sessions: { id: string }[], bookingId: string, reservationId: string = bookingId) {
  return Promise.all(sessions.map((session) => sessionStub(env, session.id).cancel(bookingId, reservationId)));
}
