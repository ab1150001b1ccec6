/**
 * A studio cancels a session (POST /api/v1/admin/sessions/{id}/cancel). The session's object is
 * the only writer of its seats (DESIGN invariant 1), so it cancels everything in one transaction:
 * the lines (each to D1 through its outbox), the holds, the waitlist with its open offers, and it
 * queues every message with the change. Before that this service reads the lines and decides each
 * booking's refund from D1's payments (the object refuses the plan when a line changed meanwhile,
 * and it is made again); after it, the refunds are made, each idempotent by an id derived from
 * session, booking and payment, and D1's session row is marked cancelled. The object keeps the
 * first run's record, so a repeat answers the same report, refunds nothing twice (and finishes a
 * refund a failure left undone) and tells nobody twice.
 */
import { and, asc, eq, gt, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookingSessions, classSessions, payments } from "../db/schema";
import { cancellationTermsAt } from "../domain/booking-terms";
import { sessionRefundPence, splitRefund } from "../domain/session-refunds";
import type { LinePlan, PlannableLine, RefundMode, SessionCancellationRecord } from "../durable-objects/session-cancellation-contract";
import type { Env, Principal } from "../env";
import { ApiError, notFound } from "../errors";
import { inIdList } from "../lib/references";
import { sha256Hex } from "../lib/tokens";
import { classPlace, type ClassPlace, classRequirements, sessionSnapshot } from "./booking-context";
import { fullSessions } from "./edge-cache";
import type { TypedNotificationRequest } from "./notifications";
import { closeOpenCheckouts } from "./payment-outcomes";
import { refundPayment } from "./payments/refunds";
import { sessionObject } from "./session-client";

export interface SessionCancellationReport {
  sessionId: string;
  status: "cancelled";
  reason: string;
  refund: RefundMode;
  cancelledAt: string;
  bookings: { bookingId: string; seats: number; refundDuePence: number; refundedPence: number; refundAtDeskPence: number; bookingStillActive: boolean }[];
  waitlistClosed: number;
  holdsReleased: number;
  notified: number;
}

/** A plan can go stale only by a line changing between the read and the write: a few tries suffice. */
const PLAN_ATTEMPTS = 4;

/** `by`: who asks (its subject is recorded with the refunds; the event names only its role, as webhooks may pass it on). */
export async function cancelSessionByStudio(
  env: Env,
  db: Db,
  sessionId: string,
  request: { reason: string; refund: RefundMode },
  by: Pick<Principal, "subject" | "role"> | null,
): Promise<SessionCancellationReport> {
  const [session] = await db.select().from(classSessions).where(eq(classSessions.id, sessionId));
  if (!session) throw notFound("Session", sessionId);
  const stub = sessionObject(env, sessionId);
  let record: SessionCancellationRecord | null = null;
  for (let attempt = 0; attempt < PLAN_ATTEMPTS && !record; attempt++) {
    const state = await stub.cancellationState();
    if (state.record) {
      record = state.record;
      break;
    }
    const now = Date.now();
    // Over is over: its lines are attendance history, not seats to give back.
    if (session.endsAt.getTime() <= now) {
      throw new ApiError("SESSION_NOT_BOOKABLE", "The session has ended; it can no longer be cancelled", { reason: "ended", sessionId, endedAt: session.endsAt.toISOString() });
    }
    const place = await classPlace(db, session.classId);
    if (!place) throw notFound("Session", sessionId);
    const feePercent = request.refund === "policy" ? cancellationTermsAt(place.cancellationPolicy, session.startsAt.getTime(), now).feePercent : 0;
    const sessionTag = (await sha256Hex(sessionId)).slice(0, 8);
    const plan = await planLines(db, state.lines, { sessionId, sessionTag, startsAt: session.startsAt.getTime(), place, feePercent, ...request });
    const snapshot = sessionSnapshot({ ...session, status: "cancelled", updatedAt: new Date(now) }, await classRequirements(db, session.classId));
    const result = await stub.cancelSession({
      reason: request.reason,
      refund: request.refund,
      snapshot,
      plan,
      event: { classId: session.classId, studioId: place.studioId, cityId: place.cityId, by: by?.role ?? null },
    });
    if (result.ok) record = result.record;
  }
  if (!record) throw new ApiError("SEATS_CHANGED", "The session's bookings kept changing while it was being cancelled; try again", { sessionId });
  fullSessions.delete(sessionId);
  // D1 follows the object (which already refuses everything); a repeat makes this good if it failed.
  await db.update(classSessions).set({ status: "cancelled", updatedAt: new Date() }).where(and(eq(classSessions.id, sessionId), ne(classSessions.status, "cancelled")));
  // A booking still paying online had only a hold here, now let go: its checkout closes, so nobody
  // pays for a cancelled session (money that gets through anyway is refunded in full). Safe to repeat.
  for (const bookingId of record.paymentHolds ?? []) await closeOpenCheckouts(env, bookingId);
  return reportOf(record, await makeRefunds(env, record, by?.subject ?? "system"));
}

interface PlanContext {
  sessionId: string;
  /**
   * Tells this session's message from the booking's other sessions' in its id. Short, because the
   * id must leave room in the NOTIFICATION_SENT event's (evt_ntfsent_<request id>, 100 at most),
   * and session and booking ids of 36 and 57 would not.
   */
  sessionTag: string;
  startsAt: number;
  place: ClassPlace;
  feePercent: number;
  reason: string;
  refund: RefundMode;
}

/** Each confirmed line's refund (from its booking's payments) and its message. */
async function planLines(db: Db, lines: PlannableLine[], context: PlanContext): Promise<LinePlan[]> {
  const ids = lines.map((line) => line.bookingId);
  if (ids.length === 0) return [];
  // Two reads for all the lines: their bookings' money, and their other lines D1 already has cancelled
  // (with none left the booking ends here).
  const [paid, cancelledElsewhere] = await Promise.all([
    db
      .select({ id: payments.id, bookingId: payments.bookingId, provider: payments.provider, paidPence: payments.paidPence, refundedPence: payments.refundedPence })
      .from(payments)
      .where(and(inIdList(payments.bookingId, ids), gt(payments.paidPence, 0)))
      .orderBy(asc(payments.createdAt), asc(payments.id)),
    db
      .select({ bookingId: bookingSessions.bookingId, sessionId: bookingSessions.sessionId })
      .from(bookingSessions)
      .where(and(inIdList(bookingSessions.bookingId, ids), ne(bookingSessions.sessionId, context.sessionId), eq(bookingSessions.status, "cancelled"))),
  ]);
  return lines.map((line) => {
    const mine = paid.filter((payment) => payment.bookingId === line.bookingId);
    const paidPence = mine.reduce((sum, payment) => sum + payment.paidPence, 0);
    // Online money first: what was paid at the desk is handed back there by staff, who record it.
    const left = mine
      .map((payment) => ({ paymentId: payment.id, desk: payment.provider === "desk", leftPence: Math.max(0, payment.paidPence - payment.refundedPence) }))
      .sort((a, b) => Number(a.desk) - Number(b.desk));
    const leftPence = left.reduce((sum, payment) => sum + payment.leftPence, 0);
    const refundDuePence = sessionRefundPence(
      context.refund,
      { linePricePence: line.booking.linePricePence, totalAmountPence: line.booking.totalAmountPence, paidPence, leftPence },
      context.feePercent,
    );
    const parts = splitRefund(refundDuePence, left);
    const online = parts.filter((part) => !left.find((payment) => payment.paymentId === part.paymentId)!.desk);
    const deskDuePence = refundDuePence - online.reduce((sum, part) => sum + part.amountPence, 0);
    const others = (line.booking.sessions ?? []).filter((other) => other.sessionId !== context.sessionId);
    const bookingStillActive = others.some((other) => !cancelledElsewhere.some((row) => row.bookingId === line.bookingId && row.sessionId === other.sessionId));
    return {
      bookingId: line.bookingId,
      version: line.version,
      refundDuePence,
      payments: online,
      deskDuePence,
      bookingStillActive,
      notification: bookerNotice(line, context, { online: refundDuePence - deskDuePence, desk: deskDuePence }, bookingStillActive),
    };
  });
}

function bookerNotice(line: PlannableLine, context: PlanContext, refund: { online: number; desk: number }, bookingStillActive: boolean): TypedNotificationRequest<"SESSION_CANCELLED"> {
  const contact = line.booking.customer;
  return {
    id: `session-cancelled:${line.bookingId}:${context.sessionTag}`,
    kind: "SESSION_CANCELLED",
    recipient: { email: contact?.email ?? line.email, firstName: contact?.firstName ?? null, lastName: contact?.lastName ?? null },
    channel: "email",
    bookingId: line.bookingId,
    sessionId: context.sessionId,
    classId: line.booking.classId,
    data: {
      className: context.place.className,
      studioName: context.place.studioName,
      timeZone: context.place.timeZone,
      sessionStartsAt: context.startsAt,
      reason: context.reason,
      audience: "booking",
      seats: line.seats,
      refundPence: refund.online,
      deskRefundPence: refund.desk,
      bookingStillActive,
    },
    requestedAt: Date.now(),
  };
}

/** The refund of one payment for one booking's line here: the same id on every repeat. */
export async function sessionRefundId(sessionId: string, bookingId: string, paymentId: string): Promise<string> {
  return `rfd_sc${(await sha256Hex(`${sessionId}\n${bookingId}\n${paymentId}`)).slice(0, 30)}`;
}

/**
 * Makes the record's refunds (each once, whatever the number of repeats) and answers what each
 * booking got back. A refund the provider could not be asked for yet fails the request after the
 * others ran (the cancellation itself stands): the repeat finishes it.
 */
async function makeRefunds(env: Env, record: SessionCancellationRecord, requestedBy: string): Promise<Map<string, number>> {
  const refunded = new Map<string, number>();
  let unavailable: unknown = null;
  for (const line of record.bookings) {
    let total = 0;
    for (const part of line.payments) {
      try {
        const { refund } = await refundPayment(env, {
          paymentId: part.paymentId,
          amountPence: part.amountPence,
          reason: `Session cancelled by the studio: ${record.reason}`,
          requestedBy,
          refundId: await sessionRefundId(record.sessionId, line.bookingId, part.paymentId),
        });
        if (refund.status === "succeeded") total += refund.amountPence;
      } catch (error) {
        // Refused by the provider, or already given back another way: nothing more to do for this
        // part. Anything else (the provider not answering, the payment busy, D1) is finished by a repeat.
        const settled = error instanceof ApiError && (error.code === "REFUND_REFUSED" || error.code === "REFUND_EXCEEDS_PAID");
        if (!settled) {
          console.error(JSON.stringify({ level: "error", msg: "session cancellation refund not made yet", sessionId: record.sessionId, bookingId: line.bookingId, error: String(error) }));
          unavailable = error;
        } else console.warn(JSON.stringify({ level: "warn", msg: "session cancellation refund not made", sessionId: record.sessionId, bookingId: line.bookingId, code: error.code }));
      }
    }
    refunded.set(line.bookingId, total);
  }
  if (unavailable) throw new ApiError("PAYMENT_UNAVAILABLE", "The session is cancelled, but a refund could not be made yet; repeat the request to finish it", { sessionId: record.sessionId });
  return refunded;
}

function reportOf(record: SessionCancellationRecord, refunded: Map<string, number>): SessionCancellationReport {
  return {
    sessionId: record.sessionId,
    status: "cancelled",
    reason: record.reason,
    refund: record.refund,
    cancelledAt: new Date(record.cancelledAt).toISOString(),
    bookings: record.bookings.map((line) => ({
      bookingId: line.bookingId,
      seats: line.seats,
      refundDuePence: line.refundDuePence,
      refundedPence: refunded.get(line.bookingId) ?? 0,
      refundAtDeskPence: line.deskDuePence ?? 0,
      bookingStillActive: line.bookingStillActive,
    })),
    waitlistClosed: record.waitlistClosed,
    holdsReleased: record.holdsReleased,
    notified: record.notified,
  };
}
