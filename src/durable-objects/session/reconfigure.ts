/**
 * An admin change of the session's capacity or state (its snapshot), inside the transaction:
 * refused below the seats already booked or held, ignored when older than the change already
 * adopted; a raise offers the new seats to the waitlist first.
 */
import type { Availability } from "../../domain/seating";
import type { SessionSnapshot } from "../session-contract";
import { availabilityNow } from "./ledger";
import { adoptSnapshot, bumpVersion, readConfig } from "./storage";
import { closeUnservableEntries, offerFreedSeats } from "./waitlist-line";

export function reconfigureSession(sql: SqlStorage, snapshot: SessionSnapshot, now: number): { ok: true; availability: Availability } | { ok: false; booked: number; held: number } {
  const current = readConfig(sql);
  // An older change arriving late must not undo a newer one.
  if (current && current.config_version > snapshot.configVersion) return { ok: true, availability: availabilityNow(sql) };
  if (current && snapshot.capacity < current.booked_seats + current.held_seats) return { ok: false, booked: current.booked_seats, held: current.held_seats };
  adoptSnapshot(sql, snapshot, { force: true });
  bumpVersion(sql);
  closeUnservableEntries(sql, now);
  // Raised capacity: the new seats go to the line first.
  offerFreedSeats(sql, now);
  return { ok: true, availability: availabilityNow(sql) };
}
