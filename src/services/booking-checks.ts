/**
 * The refusals a booking and a hold share before any seat is asked for: who may book for whom,
 * sessions that are cancelled, started or untaught, and sessions this Worker recently saw full
 * (plus remembering one the session's object just reported full).
 */
import { configOf } from "../config";
import type { Principal, Env } from "../env";
import { ApiError } from "../errors";
import type { Attempt } from "./audit";
import { type BookingContext, customerIdFor, type SessionSelection } from "./booking-context";
import type { Caller } from "./bookings";
import { isStaff } from "./disclosure";
import { fullSessions } from "./edge-cache";

/**
 * A one-session booking or hold of a session this Worker saw full less than FULL_SESSION_CACHE_MS
 * ago is refused here, with no D1 read and no call to the session's object (src/services/edge-cache.ts).
 */
export async function refuseIfSeenFull(caller: Caller, selection: SessionSelection, seats: number, email: string, attempt: Attempt, checkout: "booking" | "hold"): Promise<void> {
  if (selection.registrationType !== "SINGLE_SESSION") return;
  const seen = fullSessions.get(selection.sessionId);
  if (!seen) return;
  attempt.note({ subject: { ...seen.subject, customerId: await customerIdFor(email) } });
  if (!isStaff(caller.principal)) attempt.note({ checkout });
  throw new ApiError("SESSION_FULL", "This session is full", { sessionId: selection.sessionId, availableSpots: 0, requested: seats });
}

/**
 * Remembers a session its object just reported full (a booking that took the last seat, or a
 * refusal), and forgets it when a booking there left room.
 */
export function rememberIfFull(env: Env, context: BookingContext, answer: { ok: boolean; replayed?: unknown }): void {
  const session = context.sessions[0]!;
  const full =
    answer.replayed === undefined &&
    (answer.ok ? (answer as { availability?: { availableSpots: number } }).availability?.availableSpots === 0 : (answer as { code?: string }).code === "SESSION_FULL");
  if (full) fullSessions.set(session.id, { subject: { classId: context.class.id, studioId: context.studioId, cityId: context.cityId, sessionIds: [session.id] } }, configOf(env).fullSessionCacheMs);
  // The object just said there is room (a seat freed since): stop refusing from memory at once.
  else if (answer.ok && answer.replayed === undefined) fullSessions.delete(session.id);
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
 * to hire (src/domain/attempt-events.ts).
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
