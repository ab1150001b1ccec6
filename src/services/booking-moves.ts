/**
 * Moving a booking's line from one session to another session of the same class (issue 13). The
 * booking keeps its id, price and manage token; its line in the target is confirmed and the one in
 * the source cancelled, so D1 converges on a line per session as for any booking.
 *
 * Never in neither session, never in both (DESIGN invariant 3), with the booking's move ledger
 * (src/durable-objects/move-ledger.ts) and the move's own coordinator:
 *   1. the ledger records the move as pending (one move of a booking at a time);
 *   2. the target's object holds the seats for the move's coordinator (capacity, the per-email
 *      duplicate check); any refusal ends the move with the original untouched;
 *   3. the coordinator records `commit`, unless the expiring hold (or the ledger, for a caller out
 *      of time) recorded `abort` first: then the hold goes and the original stands;
 *   4. the ledger confirms the target line, and only then cancels the source line.
 * A caller that dies after 3 leaves the rest to the target's alarm (it confirms a committed hold)
 * and the ledger's alarm (it confirms and then cancels the source). Sessions of one class share a
 * price, so a move changes no money: moves to another class are refused.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, classSessions } from "../db/schema";
import { cancellationTermsAt, OPEN_POLICY } from "../domain/booking-terms";
import type { BookingProjection } from "../domain/projection";
import type { MoveIntent } from "../durable-objects/move-contract";
import { configOf } from "../config";
import type { TypedNotificationRequest } from "../domain/notifications";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/tokens";
import { BOOKABLE_SESSION_COLUMNS, type ClassPlace, classPlace, classRequirements, hasQualifiedInstructor, sessionSnapshot } from "./booking-context";
import { limitClientAttempts, seatLimits } from "./booking-limits";
import type { BookingView } from "./booking-views";
import { type Caller, isStaff } from "./bookings";
import { selfCancellationRefused } from "./cancellations";
import { fullSessions } from "./edge-cache";
import { claimAttempt, keyOf } from "./keyed-writes";
import { currentManageToken } from "./manage-tokens";
import { coordinatorObject, moveLedgerOf, refusalError, sessionObject } from "./session-client";

export interface MoveRequest {
  fromSessionId: string;
  toSessionId: string;
}

export type MovedBooking = BookingView & { replayed?: boolean };

type Claimed = Exclude<Awaited<ReturnType<typeof claimAttempt>>, { replay: unknown }>;

/**
 * Moves the booking's line in `fromSessionId` to `toSessionId`. Customers (and manage tokens) may
 * while the class's policy lets them cancel the source session themselves; staff at any time. A
 * keyed request's outcome is kept in the move's coordinator: its repeat answers the same.
 */
export async function moveBooking(caller: Caller, booking: BookingView, request: MoveRequest): Promise<MovedBooking> {
  if (request.fromSessionId === request.toSessionId) throw notMovable("same_session", "The booking is already in that session");
  // Attempts per client, as for bookings (staff exempt): every attempt wakes the booking's objects.
  await limitClientAttempts(caller);
  // Only a session the booking names is ever asked (a made-up id must not name an object).
  if (!booking.lines.some((line) => line.sessionId === request.fromSessionId)) {
    throw notMovable("not_in_booking", `The booking has no seats in session ${request.fromSessionId}`);
  }
  // The key's coordinator is the booking's own: guests share one key scope, bookings never share a move.
  const key = keyOf(caller);
  const claimed = await claimAttempt(caller.env, key && { ...key, scope: `${key.scope}\nmove:${booking.id}` }, (coordinator) => `mvh_${coordinator.slice(4)}`);
  if ("replay" in claimed) return claimed.replay as MovedBooking;
  try {
    const moved = await move(caller, booking, request, claimed);
    await claimed.finish({ ok: true, response: JSON.stringify(moved) });
    return moved;
  } catch (error) {
    // A refusal is the answer for repeats; a failure on our side lets a repeat take over under the same ids.
    if (error instanceof ApiError) await claimed.finish({ ok: false, code: error.code, message: error.message, details: error.details ?? {} });
    else await claimed.abandon();
    throw error;
  }
}

async function move(caller: Caller, booking: BookingView, request: MoveRequest, claimed: Claimed): Promise<MovedBooking> {
  const { env, db } = caller;
  const attempt = claimed.coordinator;
  const ledger = await moveLedgerOf(env, booking.id);
  const [target, place, sourceLine, ledgerView] = await Promise.all([
    loadTarget(db, request.toSessionId),
    classPlace(db, booking.classId),
    sessionObject(env, request.fromSessionId).bookingLine(booking.id),
    ledger.moveLedger(attempt),
  ]);
  if (!sourceLine) throw notMovable("not_in_booking", `The booking has no seats in session ${request.fromSessionId}`);
  const intent = intentOf(booking.id, attempt, claimed.reservationId, request, sourceLine, target);
  const moved = movedView(booking, request, intent);
  // A repeat of a keyed move that got this far before: finish it, whatever has changed since.
  if (ledgerView.attemptState === "done") return moved;
  if (ledgerView.attemptState === "aborted" || ledgerView.attemptState === "failed") throw moveLapsed(request.toSessionId);
  if (ledgerView.attemptState === null) {
    checkMovable(booking, request, sourceLine, target);
    if (!isStaff(caller.principal)) {
      const policy = place?.cancellationPolicy ?? OPEN_POLICY;
      const terms = cancellationTermsAt(policy, startsAtOf(booking, sourceLine.booking, request.fromSessionId), Date.now());
      if (!terms.selfCancellable) throw selfCancellationRefused(terms.window, policy);
      // A move after the free window would let a cancellation of the new date escape the late fee.
      if (terms.window !== "free") {
        throw notMovable("late_window", "Moving is free until the class's free cancellation window ends; after that, ask the studio", { feePercent: terms.feePercent });
      }
    }
    intent.notifications = place ? [await movedNotification(caller, moved, place, intent)] : [];
    const begun = await ledger.beginMove(intent, ledgerView.moves);
    if (begun.state === "busy") throw notMovable("in_progress", "Another move of this booking is under way; try again shortly");
    if (begun.state === "stale") throw notMovable("moved", "The booking was moved meanwhile; read it again");
    if (begun.state === "done") return moved;
    if (begun.state !== "go") throw moveLapsed(request.toSessionId);
  }

  const targetObject = sessionObject(env, request.toSessionId);
  const held = await targetObject.reserve({
    reservationId: intent.holdId,
    mode: "hold",
    seats: intent.seats,
    email: intent.email,
    clientKey: caller.clientKey,
    // The seats were sold to this booking already: a move is held to capacity and the duplicate check, not to the purchase caps.
    exempt: true,
    overrideDuplicate: false,
    limits: seatLimits(env),
    holdTtlMs: configOf(env).holdTtlMs,
    snapshot: target.snapshot,
    coordinator: attempt,
  });
  if (!held.ok) {
    await ledger.settleMove(attempt, "abort");
    // Not the other booking's id (the details a booking's refusal carries): only that there is one.
    if ((held as { code?: string }).code === "DUPLICATE_BOOKING") {
      throw new ApiError("DUPLICATE_BOOKING", "The customer already has a booking (or holds seats) in that session", { sessionId: request.toSessionId });
    }
    throw refusalError(held, { sessionId: request.toSessionId });
  }
  // Cancelled (or moved by someone else) while the seats were being held: give them back.
  const stillThere = await sessionObject(env, request.fromSessionId).bookingLine(booking.id);
  if (stillThere?.status !== "confirmed") {
    await ledger.settleMove(attempt, "abort");
    throw notMovable("line_cancelled", "The booking's line in that session was cancelled meanwhile");
  }
  const decision = await coordinatorObject(env, attempt).decide({ decision: "commit", booking: intent.booking, linePrices: { [request.toSessionId]: intent.booking.linePricePence } });
  if (decision.decision === "abort") {
    await ledger.settleMove(attempt, "abort");
    throw moveLapsed(request.toSessionId);
  }
  const state = await ledger.settleMove(attempt, "read");
  fullSessions.delete(request.fromSessionId);
  fullSessions.delete(request.toSessionId);
  if (state === "done") return moved;
  if (state === "aborted") throw notMovable("cancelled", "The booking was cancelled while it was being moved");
  // The target's seat was lost after the commit (the studio cancelled that session): the booking is unchanged.
  throw moveLapsed(request.toSessionId);
}

/** The move's intent: the booking as it stands once moved (the source line's copy is the newest: every move starts from it). */
function intentOf(
  bookingId: string,
  attempt: string,
  holdId: string,
  request: MoveRequest,
  sourceLine: { booking: BookingProjection; seats: number; email: string },
  target: Target,
): MoveIntent {
  const sessions = sourceLine.booking.sessions ?? [];
  const price = sessions.find((session) => session.sessionId === request.fromSessionId)?.pricePence ?? sourceLine.booking.linePricePence;
  const targetLine = { sessionId: target.id, startsAt: target.startsAt.getTime(), endsAt: target.endsAt.getTime(), pricePence: price };
  return {
    attempt,
    bookingId,
    fromSessionId: request.fromSessionId,
    toSessionId: request.toSessionId,
    holdId,
    seats: sourceLine.seats,
    email: sourceLine.email,
    booking: { ...sourceLine.booking, linePricePence: price, sessions: [...sessions.filter((session) => session.sessionId !== target.id), targetLine] },
  };
}

/** What a fresh move must satisfy: a confirmed line to move, a bookable session of the same class that the booking is not in. */
function checkMovable(booking: BookingView, request: MoveRequest, sourceLine: { status: string; booking: BookingProjection }, target: Target): void {
  if (booking.status === "cancelled") throw notMovable("cancelled", "A cancelled booking cannot be moved");
  if (booking.status !== "confirmed") throw notMovable("not_confirmed", "Only a confirmed booking can be moved");
  if (sourceLine.status !== "confirmed") throw notMovable("line_cancelled", `The booking's line in session ${request.fromSessionId} is cancelled`);
  const inBooking = new Set([...booking.lines.map((line) => line.sessionId), ...(sourceLine.booking.sessions ?? []).map((session) => session.sessionId)]);
  if (inBooking.has(request.toSessionId)) throw notMovable("already_in_booking", "The booking already has (or had) a line in that session");
  if (target.classId !== booking.classId) throw notMovable("other_class", "A booking moves only to another session of the same class", { classId: booking.classId });
  if (target.status === "cancelled") throw new ApiError("SESSION_NOT_BOOKABLE", "The session has been cancelled", { reason: "cancelled", sessionIds: [target.id] });
  if (target.startsAt.getTime() <= Date.now()) throw new ApiError("SESSION_NOT_BOOKABLE", "The session has already started", { reason: "started", sessionIds: [target.id] });
  if (!target.hasQualifiedInstructor) {
    throw new ApiError("NO_TRAINER", "No qualified instructor is assigned to that session yet, so it cannot be booked", { sessionIds: [target.id], courseId: booking.classId });
  }
}

type Target = Awaited<ReturnType<typeof loadTarget>>;

/** The target session from D1 (SESSION_NOT_FOUND otherwise), with the snapshot its object is configured from. */
async function loadTarget(db: Db, sessionId: string) {
  const [row] = await db
    .select({
      ...BOOKABLE_SESSION_COLUMNS,
      hasQualifiedInstructor: hasQualifiedInstructor().as("has_qualified_instructor"),
    })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .where(eq(classSessions.id, sessionId));
  if (!row) throw new ApiError("SESSION_NOT_FOUND", `No such session: ${sessionId}`, { sessionIds: [sessionId] });
  const snapshot = sessionSnapshot(row, await classRequirements(db, row.classId));
  return {
    ...row,
    hasQualifiedInstructor: Boolean(row.hasQualifiedInstructor),
    snapshot,
  };
}

/** When the source session starts (the policy's cutoff is counted from it), as the booking recorded it. */
function startsAtOf(booking: BookingView, projection: BookingProjection, sessionId: string): number {
  const recorded = projection.sessions?.find((session) => session.sessionId === sessionId)?.startsAt;
  return recorded ?? Date.parse(booking.lines.find((line) => line.sessionId === sessionId)?.startsAt ?? new Date().toISOString());
}

/** The booking as the move leaves it: the source line cancelled, the target's confirmed, in start order. */
function movedView(booking: BookingView, request: MoveRequest, intent: MoveIntent): MovedBooking {
  const target = intent.booking.sessions!.find((session) => session.sessionId === request.toSessionId)!;
  const lines = booking.lines
    .filter((line) => line.sessionId !== request.toSessionId)
    .map((line) => (line.sessionId === request.fromSessionId ? { ...line, status: "cancelled" as const } : line));
  lines.push({
    sessionId: target.sessionId,
    startsAt: new Date(target.startsAt).toISOString(),
    endsAt: new Date(target.endsAt).toISOString(),
    seats: intent.seats,
    pricePence: target.pricePence,
    status: "confirmed",
  });
  lines.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  return { ...booking, status: booking.status === "cancelled" ? "confirmed" : booking.status, cancelledAt: null, lines };
}

/** BOOKING_MOVED, sent with the source line's cancellation (once); its id is the move's. */
async function movedNotification(caller: Caller, moved: MovedBooking, place: ClassPlace, intent: MoveIntent): Promise<TypedNotificationRequest<"BOOKING_MOVED">> {
  const startsAt = (sessionId: string) => intent.booking.sessions?.find((session) => session.sessionId === sessionId)?.startsAt ?? Date.now();
  const manageToken = await currentManageToken(caller.env, caller.db, moved.id);
  return {
    id: `booking-moved:${moved.id}:${(await sha256Hex(intent.attempt)).slice(0, 8)}`,
    kind: "BOOKING_MOVED",
    recipient: { email: moved.customer.email, firstName: moved.customer.firstName, lastName: moved.customer.lastName },
    channel: "email",
    bookingId: moved.id,
    sessionId: intent.toSessionId,
    classId: moved.classId,
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      fromStartsAt: startsAt(intent.fromSessionId),
      toStartsAt: startsAt(intent.toSessionId),
      sessions: moved.lines.filter((line) => line.status === "confirmed").map((line) => ({ sessionId: line.sessionId, startsAt: line.startsAt })),
      seats: intent.seats,
      manageLinkPath: `/api/v1/bookings/${encodeURIComponent(moved.id)}?token=${manageToken}`,
    },
    requestedAt: Date.now(),
  };
}

function notMovable(reason: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError("MOVE_NOT_ALLOWED", message, { reason, ...details });
}

function moveLapsed(sessionId: string): ApiError {
  return new ApiError("HOLD_EXPIRED", "The seats in the target session could not be kept until the move was confirmed; the booking is unchanged", { sessionId });
}
