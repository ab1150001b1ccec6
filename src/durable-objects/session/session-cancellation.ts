/**
 * The studio cancels the session: in one transaction the session closes for good (no snapshot can
 * reopen it, so nothing can be booked, held or joined again), the waitlist is closed and its open
 * offers withdrawn, every hold is let go and every confirmed line cancelled (each to D1 through the
 * outbox), with the bookers' messages the Worker planned and the waiting parties' messages made
 * here. The first run's record is kept and answered to every repeat. Runs inside the caller's
 * transaction.
 */
import type { BookingProjection } from "../../domain/projection";
import { domainEvent } from "../../domain/events";
import { queueOut } from "../outbox";
import type { z } from "zod";
import type { CancelledLine, CancelSessionInput, CancelSessionResult, PlannableLine, SessionCancellationRecord, SessionCancellationState } from "../session-cancellation-contract";
import { cancelLine, endHold } from "./seat-changes";
import { adoptSnapshot, bumpVersion, readConfig, type ReservationRow, retireConfig, type WaitlistRow } from "./storage";
import { closeEntry, entryDetails, waitlistRow } from "./waitlist-line";

type Input = z.output<typeof CancelSessionInput>;

const TABLE = `CREATE TABLE IF NOT EXISTS session_cancellation (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL, created_at INTEGER NOT NULL)`;

function recordOf(sql: SqlStorage): SessionCancellationRecord | null {
  sql.exec(TABLE);
  const row = sql.exec<{ record: string }>(`SELECT record FROM session_cancellation WHERE id = 1`).toArray()[0];
  return row ? (JSON.parse(row.record) as SessionCancellationRecord) : null;
}

function confirmedLines(sql: SqlStorage): ReservationRow[] {
  return sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE status = 'confirmed' AND booking IS NOT NULL ORDER BY created_at, id`).toArray();
}

/** The record of an earlier cancellation, or the confirmed lines a plan must cover (a read). */
export function cancellationState(sql: SqlStorage): SessionCancellationState {
  const record = recordOf(sql);
  if (record) return { record, lines: [] };
  const lines: PlannableLine[] = confirmedLines(sql).map((row) => ({
    bookingId: row.booking_id!,
    seats: row.seats,
    email: row.email,
    version: row.line_version,
    booking: JSON.parse(row.booking!) as BookingProjection,
  }));
  return { record: null, lines };
}

export function cancelSession(sql: SqlStorage, input: Input, now: number): CancelSessionResult {
  const earlier = recordOf(sql);
  if (earlier) return { ok: true, created: false, record: earlier };
  const lines = confirmedLines(sql);
  const plans = new Map(input.plan.map((plan) => [plan.bookingId, plan]));
  const unplanned = lines.filter((row) => plans.get(row.booking_id!)?.version !== row.line_version).map((row) => row.booking_id);
  if (unplanned.length > 0) {
    return { ok: false, code: "SEATS_CHANGED", message: "The session's bookings changed while it was being cancelled; read them again", details: { bookingIds: unplanned } };
  }

  adoptSnapshot(sql, { ...input.snapshot, cancelled: true });
  // Cancelling is final: the highest config version means no later snapshot is ever adopted.
  retireConfig(sql);
  const sessionId = readConfig(sql)!.session_id;
  let notified = 0;

  // The line first, so no seat freed below is offered to anyone, and each open offer's hold goes with its entry.
  const active = sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE status IN ('waiting', 'offered') ORDER BY priority, joined_seq`).toArray();
  for (const entry of active) {
    closeEntry(sql, entry, "removed", now, "WAITLIST_LEFT", { by: "staff", reason: "session_cancelled" });
    // Unproven emails are not written to (anyone may join in someone's name); a party with an offer has proved its email.
    if (entry.confirmed_at === null && entry.status !== "offered") continue;
    queueWaitlistNotice(sql, waitlistRow(sql, entry.id)!, sessionId, input.reason, now);
    notified += 1;
  }

  const holds = sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE status = 'held'`).toArray();
  // A hold kept for a booking's payment is cancelled with it: money arriving later is refunded by the payment side.
  for (const hold of holds) endHold(sql, hold, hold.booking_id ? "cancelled" : "released", now);

  const bookings: CancelledLine[] = [];
  for (const row of lines) {
    const plan = plans.get(row.booking_id!)!;
    cancelLine(sql, row, now);
    if (plan.notification) {
      queueOut(sql, { kind: "notice", change: { at: now, offer: null, request: plan.notification as never } }, now);
      notified += 1;
    }
    bookings.push({
      bookingId: plan.bookingId,
      seats: row.seats,
      refundDuePence: plan.refundDuePence,
      payments: plan.payments,
      deskDuePence: plan.deskDuePence,
      bookingStillActive: plan.bookingStillActive,
    });
  }
  // Live subscribers see the cancelled status even when there was nothing to cancel.
  bumpVersion(sql);

  const record: SessionCancellationRecord = {
    sessionId,
    reason: input.reason,
    refund: input.refund,
    cancelledAt: now,
    bookings,
    waitlistClosed: active.length,
    holdsReleased: holds.length,
    paymentHolds: holds.flatMap((hold) => (hold.booking_id ? [hold.booking_id] : [])),
    notified,
  };
  sql.exec(`INSERT INTO session_cancellation (id, record, created_at) VALUES (1, ?, ?)`, JSON.stringify(record), now);
  const event = domainEvent("SESSION_CANCELLED", {
    occurredAt: now,
    sessionId,
    classId: input.event.classId,
    studioId: input.event.studioId,
    cityId: input.event.cityId,
    seats: lines.reduce((sum, row) => sum + row.seats, 0),
    amountPence: bookings.reduce((sum, line) => sum + line.refundDuePence, 0),
    code: input.refund,
    data: { reason: input.reason, by: input.event.by, bookings: bookings.length, waitlistClosed: active.length, holdsReleased: holds.length },
  });
  queueOut(sql, { kind: "event", change: { at: now, event: { ...event, id: `evt_session_cancelled_${sessionId}` } } }, now);
  return { ok: true, created: true, record };
}

/** SESSION_CANCELLED to a party that was waiting; the id (an entry is of one session) makes a redelivery send nothing twice. */
function queueWaitlistNotice(sql: SqlStorage, row: WaitlistRow, sessionId: string, reason: string, now: number): void {
  const details = entryDetails(row);
  queueOut(
    sql,
    {
      kind: "notice",
      change: {
        at: now,
        offer: null,
        request: {
          id: `session-cancelled:${row.id}`,
          kind: "SESSION_CANCELLED",
          recipient: { email: row.email, firstName: details.firstName, lastName: details.lastName },
          waitlistEntryId: row.id,
          sessionId,
          classId: details.classId,
          requestedAt: now,
          data: {
            className: details.className,
            studioName: details.studioName,
            timeZone: details.timeZone,
            sessionStartsAt: new Date(readConfig(sql)!.starts_at).toISOString(),
            reason,
            audience: "waitlist",
            seats: row.guest_count,
          },
        },
      },
    },
    now,
  );
}
