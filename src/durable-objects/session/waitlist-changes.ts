/**
 * What customers and staff do to the line: join it, leave it, decline an offer, and staff offers.
 * Each returns the entry as it is afterwards, or a refusal; runs inside the caller's transaction.
 * An offer's hold is confirmed in one transaction of this object (accepting it is a confirm), so a
 * withdrawal and an acceptance can never both win: whichever runs first decides.
 */
import { availabilityOf, refuseClosed, refuseSeats } from "../../domain/seating";
import { offerTimes, staffOfferTimes } from "../../domain/waitlist";
import type { JoinWaitlistInput, WaitlistRefusal, WaitlistResult } from "../session-contract";
import { duplicateOf, ledgerOf } from "./ledger";
import type { WaitlistRow } from "./storage";
import { activeEntryOf, closeEntry, entryView, insertEntry, makeOffer, noticeFor, offerFreedSeats, recordEntryChange, waitlistRow } from "./waitlist-line";

type ParsedJoin = Omit<JoinWaitlistInput, "priority"> & { priority: "high" | "normal" | "low" };

export function joinLine(sql: SqlStorage, input: ParsedJoin, now: number): WaitlistResult {
  const existing = activeEntryOf(sql, input.email) ?? waitlistRow(sql, input.entryId);
  if (existing) {
    // The email's owner (signed in) or staff joining again proves the email: an entry someone else
    // made in its name takes its place in line, on the owner's allowance.
    if (input.confirmed && existing.confirmed_at === null && existing.status === "waiting") {
      sql.exec(`UPDATE waitlist SET client_key = ?, client_cap = ?, updated_at = ? WHERE id = ?`, input.clientKey, input.maxSeatsPerClient, now, existing.id);
      return confirmEntry(sql, existing.id, now);
    }
    return { ok: true, created: false, entry: entryView(sql, existing) };
  }

  const ledger = ledgerOf(sql);
  const closed = refuseClosed(ledger, now);
  if (closed) return { ok: false, ...closed };
  if (!offerTimes(now, ledger.startsAt, input.offerWindowMs)) {
    return { ok: false, code: "SESSION_NOT_BOOKABLE", message: "The session starts too soon to offer seats from the waitlist", details: { reason: "waitlist_closed" } };
  }
  if (input.guestCount > ledger.capacity) {
    return { ok: false, code: "INSUFFICIENT_CAPACITY", message: `The session has ${ledger.capacity} seat(s) in all`, details: { capacity: ledger.capacity, requested: input.guestCount } };
  }
  const duplicate = duplicateOf(sql, input.email, "");
  if (duplicate) return { ok: false, ...duplicate };
  if (!refuseSeats(ledger, input.guestCount)) {
    return { ok: false, code: "WAITLIST_NOT_NEEDED", message: "There are seats for this party now: book them instead", details: { availableSpots: availabilityOf(ledger).availableSpots } };
  }
  const tooMany = refuseOverClientCap(sql, input.clientKey, input.maxEntriesPerClient);
  if (tooMany) return { ok: false, ...tooMany };
  const row = insertEntry(sql, input, now);
  recordEntryChange(sql, row, now, "WAITLIST_JOINED");
  if (input.confirmed) offerFreedSeats(sql, now);
  else noticeFor(sql, row, "WAITLIST_CONFIRM", now);
  return { ok: true, created: true, entry: entryView(sql, waitlistRow(sql, input.entryId)!) };
}

/** One address (or signed-in customer) may have only so many parties waiting in a session: a flood of throwaway emails is not a line. */
function refuseOverClientCap(sql: SqlStorage, clientKey: string, max: number | null): WaitlistRefusal | null {
  if (max === null) return null;
  const waiting = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM waitlist WHERE client_key = ? AND status IN ('waiting', 'offered')`, clientKey).one().n;
  if (waiting < max) return null;
  return {
    code: "WAITLIST_LIMIT_EXCEEDED",
    message: `One client may have at most ${max} part${max === 1 ? "y" : "ies"} waiting for a session`,
    details: { scope: "client", limit: max },
  };
}

/**
 * The party proved its email (the link in the join message): it takes its place in line, and may
 * get an offer at once. Confirming twice changes nothing; a closed entry stays closed.
 */
export function confirmEntry(sql: SqlStorage, entryId: string, now: number): WaitlistResult {
  return changeEntry(sql, entryId, (row) => {
    if (row.confirmed_at !== null) return null;
    if (row.status !== "waiting") {
      return { code: "WAITLIST_ENTRY_NOT_FOUND", message: `This entry is no longer on the waitlist (${row.status}): join again`, details: { entryId: row.id, status: row.status } };
    }
    sql.exec(`UPDATE waitlist SET confirmed_at = ?, confirm_by = NULL, updated_at = ? WHERE id = ?`, now, now, row.id);
    recordEntryChange(sql, waitlistRow(sql, row.id)!, now, "WAITLIST_CONFIRMED");
    offerFreedSeats(sql, now);
    return true;
  });
}

export function leaveLine(sql: SqlStorage, entryId: string, by: "customer" | "staff", now: number): WaitlistResult {
  return changeEntry(sql, entryId, (row) => {
    if (row.status !== "waiting" && row.status !== "offered") return null;
    closeEntry(sql, row, "removed", now, "WAITLIST_LEFT", { by });
    return true;
  });
}

/**
 * Staff: offer seats to this entry now, if its party fits: one still waiting, or one whose offer
 * expired or was declined (another chance). In the last minutes before the start, when no
 * automatic offer is made, a staff offer lasts until the start.
 */
export function offerNow(sql: SqlStorage, entryId: string, now: number): WaitlistResult {
  return changeEntry(sql, entryId, (row) => {
    if (row.status !== "waiting" && row.status !== "expired" && row.status !== "declined") return offerUnavailable(row);
    if (row.status !== "waiting" && activeEntryOf(sql, row.email)) {
      return { code: "DUPLICATE_BOOKING", message: "This email is on this waitlist again with another entry", details: { entryId: row.id } };
    }
    const ledger = ledgerOf(sql);
    const times = staffOfferTimes(now, ledger.startsAt, row.offer_window_ms);
    const refusal =
      refuseClosed(ledger, now) ??
      (times ? null : { code: "SESSION_NOT_BOOKABLE" as const, message: "The session starts too soon to make an offer", details: { reason: "waitlist_closed" } }) ??
      duplicateOf(sql, row.email, "") ??
      refuseSeats(ledger, row.guest_count);
    if (refusal) return refusal;
    makeOffer(sql, row, now, times!, { by: "staff" });
    return true;
  });
}

export function declineOffer(sql: SqlStorage, entryId: string, offerNumber: number, now: number): WaitlistResult {
  return changeEntry(sql, entryId, (row) => {
    if (row.status !== "offered" || row.offers_made !== offerNumber) return offerUnavailable(row);
    closeEntry(sql, row, "declined", now, "OFFER_DECLINED");
    return true;
  });
}

/** `change` returns true when it changed something, null when there was nothing to do, or a refusal. */
function changeEntry(sql: SqlStorage, entryId: string, change: (row: WaitlistRow) => true | null | WaitlistRefusal): WaitlistResult {
  const row = waitlistRow(sql, entryId);
  if (!row) return { ok: false, code: "WAITLIST_ENTRY_NOT_FOUND", message: "No such waitlist entry", details: { entryId } };
  const outcome = change(row);
  if (outcome !== null && outcome !== true) return { ok: false, ...outcome };
  return { ok: true, created: false, entry: entryView(sql, waitlistRow(sql, entryId)!) };
}

function offerUnavailable(row: WaitlistRow): WaitlistRefusal {
  return {
    code: "OFFER_NOT_AVAILABLE",
    message: row.status === "offered" ? "This entry's open offer is a newer one, or it has an open offer already" : `This entry has no open offer (it is ${row.status})`,
    details: { entryId: row.id, status: row.status, currentOffer: row.status === "offered" ? row.offers_made : null },
  };
}
