/**
 * Deciding a hold or a booking without one: a retry of the same reservation answers as the first
 * time; otherwise the session must be open, the email must have no other reservation here, the
 * caller must be within the per-session caps, and the seats must fit. Runs inside the transaction.
 */
import { availabilityOf, refuseClosed, refuseOverLimit, refuseSeats } from "../../domain/seating";
import type { z } from "zod";
import type { ReserveInput, ReserveResult } from "../session-contract";
import { duplicateOf, heldBy, insertReservation, ledgerOf, refuseOfferHold, replayOfReservation, reservationById, toReservation, availabilityNow } from "./ledger";
import { booked } from "./seat-changes";
import { bumpVersion } from "./storage";

type ParsedReserve = z.output<typeof ReserveInput>;

export function decideReservation(sql: SqlStorage, input: ParsedReserve, now: number): Exclude<ReserveResult, { replayed: true | "reused" }> {
  const existing = reservationById(sql, input.reservationId);
  if (existing) {
    const refusal = refuseOfferHold(existing, input.acceptsOffer) ?? replayOfReservation(existing, input);
    if (refusal) return { ok: false, ...refusal };
    return { ok: true, created: false, reservation: toReservation(existing), availability: availabilityNow(sql) };
  }

  const ledger = ledgerOf(sql);
  const refusal =
    refuseClosed(ledger, now) ??
    (input.overrideDuplicate ? null : duplicateOf(sql, input.email, input.reservationId)) ??
    (input.exempt ? null : refuseOverLimit(heldBy(sql, input.email, input.clientKey, input.limits.exactEmail), input.seats, ledger.capacity, input.limits)) ??
    refuseSeats(ledger, input.seats);
  if (refusal) return { ok: false, ...refusal };

  const hold = input.mode === "hold";
  insertReservation(
    sql,
    {
      id: input.reservationId,
      status: hold ? "held" : "confirmed",
      seats: input.seats,
      email: input.email,
      clientKey: input.clientKey,
      expiresAt: hold ? now + input.holdTtlMs : null,
      bookingId: input.booking?.id ?? null,
      booking: input.booking ? JSON.stringify(input.booking) : null,
      origin: "checkout",
      coordinator: input.coordinator ?? null,
    },
    now,
  );
  if (input.booking && !hold) booked(sql, input.reservationId, input.booking, input.seats, input.email, now);
  else bumpVersion(sql);
  const after = hold ? { ...ledger, heldSeats: ledger.heldSeats + input.seats } : { ...ledger, bookedSeats: ledger.bookedSeats + input.seats };
  const reservation = { id: input.reservationId, bookingId: input.booking?.id ?? null, status: hold ? ("held" as const) : ("confirmed" as const), seats: input.seats, email: input.email, expiresAt: hold ? now + input.holdTtlMs : null, coordinator: input.coordinator ?? null };
  return { ok: true, created: true, reservation, availability: availabilityOf(after) };
}
