/**
 * A checkout hold kept for an online payment (POST /bookings naming a hold, for a class paid
 * online): the hold is checked like a confirmation would check it (same seats, email and
 * coordinator), then tied to the booking and kept until the payment's end. A hold already tied to
 * another booking is refused, so a hold is stretched at most once. Runs inside the transaction.
 */
import type { Refusal } from "../../domain/seating";
import type { z } from "zod";
import type { HoldForPaymentInput } from "../session-contract";
import { refuseConfirm, reservationById } from "./ledger";

export function keepHoldForPayment(sql: SqlStorage, input: z.output<typeof HoldForPaymentInput>, now: number): { ok: true; expiresAt: number } | ({ ok: false } & Refusal) {
  const row = reservationById(sql, input.holdId);
  const refusal = refuseConfirm(row, input.holdId, input.bookingId, input);
  if (refusal) return { ok: false, ...refusal };
  if (row!.status === "confirmed") return { ok: true, expiresAt: input.until };
  // Expired but not yet let go by the alarm: it is not brought back.
  if (row!.expires_at !== null && row!.expires_at <= now) return { ok: false, code: "HOLD_EXPIRED", message: "The hold has expired", details: { holdId: input.holdId } };
  if (row!.booking_id !== null && row!.booking_id !== input.bookingId) {
    return { ok: false, code: "HOLD_EXPIRED", message: "This hold has already been used by another booking", details: { holdId: input.holdId, reason: "already_booked" } };
  }
  // Tied to this booking already: its end stays where the first request put it.
  if (row!.booking_id === input.bookingId) return { ok: true, expiresAt: row!.expires_at ?? input.until };
  const expiresAt = Math.max(row!.expires_at ?? 0, input.until);
  // No seat changes hands, so no version bump: live subscribers have nothing new to see.
  sql.exec(`UPDATE reservations SET booking_id = ?, expires_at = ? WHERE id = ? AND status = 'held'`, input.bookingId, expiresAt, input.holdId);
  return { ok: true, expiresAt };
}
