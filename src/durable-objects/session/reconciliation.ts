/**
 * What reconciliation and the drift checks read from a session's object, its one repair (sending
 * lines to D1 again) and retiring an unused session. Synchronous functions over `SqlStorage`; the
 * writes run inside the caller's transaction.
 */
import type { BookingProjection } from "../../domain/projection";
import { OUTBOX_DEADLINE_MS } from "../outbox";
import { lineOfBooking } from "./ledger";
import { queueLineChange } from "./seat-changes";
import { count, retireConfig } from "./storage";

export interface LedgerEntry {
  bookingId: string;
  seats: number;
  status: string;
  updatedAt: number;
  version: number | null;
}

/** The booking lines held here, with when each last changed and the version sent to D1. */
export function ledgerEntries(sql: SqlStorage): LedgerEntry[] {
  return sql
    .exec<{ booking_id: string; seats: number; status: string; updated_at: number; line_version: number | null }>(
      `SELECT booking_id, seats, status, updated_at, line_version FROM reservations WHERE booking_id IS NOT NULL AND status IN ('confirmed', 'cancelled') ORDER BY created_at`,
    )
    .toArray()
    .map((row) => ({ bookingId: row.booking_id, seats: row.seats, status: row.status, updatedAt: row.updated_at, version: row.line_version }));
}

/** Queues these bookings' lines for D1 again as they stand, under a new version; returns how many were queued. */
export function resendLines(sql: SqlStorage, bookingIds: string[], now: number): number {
  let queued = 0;
  for (const id of bookingIds) {
    const row = lineOfBooking(sql, id);
    if (!row?.booking) continue;
    queueLineChange(sql, row.id, JSON.parse(row.booking) as BookingProjection, row.seats, row.status === "cancelled" ? "cancelled" : "confirmed", now);
    queued += 1;
  }
  return queued;
}

/** Outbox entries not yet sent to their Queues. */
export const pendingOutbox = (sql: SqlStorage) => count(sql, `SELECT count(*) AS n FROM outbox`);

/** Outbox entries not sent for longer than OUTBOX_DEADLINE_MS. */
export const staleOutboxEntries = (sql: SqlStorage, now: number) => count(sql, `SELECT count(*) AS n FROM outbox WHERE json_extract(change, '$.at') < ?`, now - OUTBOX_DEADLINE_MS);

/** Holds still held `overdueMs` after they expired: the alarm should have settled them (drift). */
export const staleHolds = (sql: SqlStorage, now: number, overdueMs: number) =>
  count(sql, `SELECT count(*) AS n FROM reservations WHERE status = 'held' AND expires_at < ?`, now - overdueMs);

/** Closes the session for good, unless it has ever had reservations, a line, or undelivered changes. */
export function retireUnused(sql: SqlStorage): { ok: true } | { ok: false; reservations: number; pendingOutbox: number; waitlistEntries: number } {
  const reservations = count(sql, `SELECT count(*) AS n FROM reservations WHERE status IN ('held', 'confirmed', 'cancelled')`);
  const waitlistEntries = count(sql, `SELECT count(*) AS n FROM waitlist`);
  const queued = pendingOutbox(sql);
  if (reservations > 0 || queued > 0 || waitlistEntries > 0) return { ok: false, reservations, pendingOutbox: queued, waitlistEntries };
  retireConfig(sql);
  return { ok: true };
}
