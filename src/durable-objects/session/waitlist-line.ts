/**
 * The waitlist line: order (priority, then order of joining), offers of freed seats (a hold in the
 * party's name), and how entries leave the line. Synchronous functions over the session's storage,
 * run inside the transaction of the change that frees or takes seats, so a freed seat is never
 * open to anyone else while someone waiting could take it.
 */
import { refuseClosed } from "../../domain/seating";
import { choosePartiesToOffer, offerTimes, PRIORITY_RANK, type WaitlistPriority } from "../../domain/waitlist";
import { domainEvent, type EventType } from "../../domain/events";
import { queueOut } from "../outbox";
import type { WaitlistEntryDetails, WaitlistEntryView } from "../session-contract";
import { insertReservation, ledgerOf, reservationById, setStatus } from "./ledger";
import { bumpVersion, count, readConfig, type WaitlistRow } from "./storage";

const PRIORITY_NAME = Object.fromEntries(Object.entries(PRIORITY_RANK).map(([name, rank]) => [rank, name])) as Record<number, WaitlistPriority>;

export function waitlistRow(sql: SqlStorage, id: string): WaitlistRow | undefined {
  return sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE id = ?`, id).toArray()[0];
}

export function activeEntryOf(sql: SqlStorage, email: string): WaitlistRow | undefined {
  return sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE email = ? AND status IN ('waiting', 'offered')`, email).toArray()[0];
}

/** People in line: confirmed and waiting, or holding an offer they have not answered yet. */
export function waitlistLength(sql: SqlStorage): number {
  return count(sql, `SELECT count(*) AS n FROM waitlist WHERE (status = 'waiting' AND confirmed_at IS NOT NULL) OR status = 'offered'`);
}

/**
 * Offers freed seats down the line: the first waiting parties that fit, each holding its seats
 * until the offer expires. Called inside every transaction that frees seats.
 */
export function offerFreedSeats(sql: SqlStorage, now: number): void {
  const ledger = ledgerOf(sql);
  if (refuseClosed(ledger, now)) return;
  if (ledger.capacity - ledger.bookedSeats - ledger.heldSeats <= 0) return;
  // Passed over: parties whose email already holds or booked seats here (one reservation per email),
  // those that have not proved their email yet (a throwaway address never ties up a seat), and those
  // whose client would pass its share of the session (a line of parties is no way round the cap).
  const waiting = sql
    .exec<WaitlistRow>(
      `SELECT * FROM waitlist w WHERE status = 'waiting' AND confirmed_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.email = w.email AND r.status IN ('held', 'confirmed'))
         AND (w.client_cap IS NULL OR w.guest_count +
              (SELECT coalesce(sum(seats), 0) FROM reservations r WHERE r.client_key = w.client_key AND r.status IN ('held', 'confirmed')) <= w.client_cap)
       ORDER BY priority, joined_seq`,
    )
    .toArray()
    .map((row) => ({ id: row.id, guestCount: row.guest_count, row }));
  for (const { row } of choosePartiesToOffer(waiting, ledger)) {
    const times = offerTimes(now, ledger.startsAt, row.offer_window_ms);
    if (times) makeOffer(sql, row, now, times);
  }
}

/** Holds the party's seats for the offer and tells them (OFFER_MADE carries the accept link). */
export function makeOffer(sql: SqlStorage, row: WaitlistRow, now: number, times: { expiresAt: number; remindAt: number | null }, context: { by: "line" | "staff" } = { by: "line" }): void {
  const holdId = `hld_${crypto.randomUUID().replaceAll("-", "")}`;
  insertReservation(
    sql,
    { id: holdId, status: "held", seats: row.guest_count, email: row.email, clientKey: row.client_key ?? "waitlist", expiresAt: times.expiresAt, bookingId: null, booking: null, origin: "offer", coordinator: null },
    now,
  );
  sql.exec(
    `UPDATE waitlist SET status = 'offered', offer_hold_id = ?, offer_expires_at = ?, reminder_at = ?, offers_made = offers_made + 1, updated_at = ?
     WHERE id = ?`,
    holdId,
    times.expiresAt,
    times.remindAt,
    now,
    row.id,
  );
  const offered = waitlistRow(sql, row.id)!;
  recordEntryChange(sql, offered, now, "OFFER_SENT", context);
  noticeFor(sql, offered, "OFFER_MADE", now);
}

/** Ends an entry's time in line; an open offer's hold is released and its seats offered on. */
export function closeEntry(sql: SqlStorage, row: WaitlistRow, status: "removed" | "declined" | "expired", now: number, event: EventType, context: Record<string, unknown> = {}): void {
  const hadOffer = row.status === "offered";
  if (hadOffer && row.offer_hold_id) {
    const hold = reservationById(sql, row.offer_hold_id);
    if (hold?.status === "held") setStatus(sql, hold, "released", now);
  }
  sql.exec(`UPDATE waitlist SET status = ?, reminder_at = NULL, updated_at = ? WHERE id = ?`, status, now, row.id);
  const closed = waitlistRow(sql, row.id)!;
  recordEntryChange(sql, closed, now, event, context);
  if (status === "expired" && hadOffer) noticeFor(sql, closed, "OFFER_EXPIRED", now);
  offerFreedSeats(sql, now);
}

/**
 * Ends the time in line of entries that can no longer be served: all of them when the session is
 * cancelled, parties larger than a lowered capacity, and those still waiting once the session is
 * too near for offers. Open offers end with their holds (never past the start).
 */
export function closeUnservableEntries(sql: SqlStorage, now: number): void {
  const config = readConfig(sql);
  if (!config) return;
  const active = sql.exec<{ id: string }>(`SELECT id FROM waitlist WHERE status IN ('waiting', 'offered') ORDER BY priority, joined_seq`).toArray();
  for (const { id } of active) {
    // Read each afresh: closing one can make offers to those after it.
    const row = waitlistRow(sql, id)!;
    if (row.status !== "waiting" && row.status !== "offered") continue;
    if (config.cancelled === 1) closeEntry(sql, row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "session_cancelled" });
    else if (row.status === "waiting" && row.guest_count > config.capacity) {
      closeEntry(sql, row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "party_larger_than_session" });
    } else if (row.status === "waiting" && !offerTimes(now, config.starts_at, row.offer_window_ms)) {
      closeEntry(sql, row, "expired", now, "WAITLIST_LEFT", { by: "system", reason: "session_starting" });
    } else if (row.status === "waiting" && row.confirmed_at === null && row.confirm_by !== null && row.confirm_by <= now) {
      closeEntry(sql, row, "expired", now, "WAITLIST_LEFT", { by: "system", reason: "unconfirmed" });
    }
  }
}

/**
 * A party that books seats here itself leaves the line: it has what it waited for (or chose less).
 * Only confirmed seats count: a hold proves nothing (anyone may take one in someone's name).
 */
export function leaveLineOnBooking(sql: SqlStorage, email: string, now: number): void {
  const row = activeEntryOf(sql, email);
  if (row?.status === "waiting") closeEntry(sql, row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "booked_directly" });
}

function openOfferOfHold(sql: SqlStorage, holdId: string): WaitlistRow | undefined {
  return sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE offer_hold_id = ? AND status = 'offered'`, holdId).toArray()[0];
}

/** A hold ended without a booking: if it was an offer, the offer expired and passes on; else its seats are offered. */
export function holdEnded(sql: SqlStorage, holdId: string, now: number): void {
  const row = openOfferOfHold(sql, holdId);
  if (row) closeEntry(sql, row, "expired", now, "OFFER_EXPIRED");
  else offerFreedSeats(sql, now);
}

/** A hold became a booking: if it was an offer, the entry is booked. */
export function holdBooked(sql: SqlStorage, holdId: string, bookingId: string, now: number): void {
  const row = openOfferOfHold(sql, holdId);
  if (!row) return;
  sql.exec(`UPDATE waitlist SET status = 'booked', booking_id = ?, reminder_at = NULL, updated_at = ? WHERE id = ?`, bookingId, now, row.id);
  recordEntryChange(sql, waitlistRow(sql, row.id)!, now, "OFFER_ACCEPTED");
}

/** Reminds customers whose offers are about to expire (once per offer). */
export function remindExpiringOffers(sql: SqlStorage, now: number): void {
  const due = sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE status = 'offered' AND reminder_at <= ?`, now).toArray();
  for (const row of due) {
    sql.exec(`UPDATE waitlist SET reminder_at = NULL WHERE id = ?`, row.id);
    noticeFor(sql, row, "OFFER_EXPIRING", now);
  }
}

export function entryDetails(row: WaitlistRow): WaitlistEntryDetails {
  return JSON.parse(row.details) as WaitlistEntryDetails;
}

/** What both the API view and the D1 projection of an entry say about it. */
function entryFields(row: WaitlistRow, details: WaitlistEntryDetails) {
  return {
    id: row.id,
    email: row.email,
    firstName: details.firstName,
    lastName: details.lastName,
    guestCount: row.guest_count,
    priority: PRIORITY_NAME[row.priority]!,
    status: row.status,
    offersMade: row.offers_made,
    bookingId: row.booking_id,
    preferredContact: details.preferredContact,
    alternativeDates: details.alternativeDates,
    notes: details.notes,
    addedBy: details.addedBy,
    joinedAt: row.created_at,
  };
}

/** Queues the entry's D1 projection and its event; the change counter moves (live subscribers see the line length). */
export function recordEntryChange(sql: SqlStorage, row: WaitlistRow, now: number, type: EventType, context: Record<string, unknown> = {}): void {
  const version = bumpVersion(sql);
  const details = entryDetails(row);
  const sessionId = readConfig(sql)!.session_id;
  queueOut(sql, {
    kind: "waitlist",
    change: { ...entryFields(row, details), sessionId, classId: details.classId, customerId: details.customerId, offerExpiresAt: row.offer_expires_at, version, at: now },
  });
  const event = domainEvent(type, {
    occurredAt: now,
    sessionId,
    classId: details.classId,
    studioId: details.studioId,
    cityId: details.cityId,
    customerId: details.customerId,
    email: row.email,
    seats: row.guest_count,
    bookingId: row.booking_id,
    source: "waitlist",
    data: { entryId: row.id, priority: PRIORITY_NAME[row.priority], offerNumber: row.offers_made, status: row.status, ...context },
  });
  queueOut(sql, { kind: "event", change: { at: now, event } });
}

/**
 * Queues a notification about an entry: the link to confirm its email, or its offer. The id makes a
 * redelivery send nothing twice; the links' tokens are signed at delivery (src/durable-objects/outbox.ts).
 */
export function noticeFor(sql: SqlStorage, row: WaitlistRow, kind: "WAITLIST_CONFIRM" | "OFFER_MADE" | "OFFER_EXPIRING" | "OFFER_EXPIRED", now: number): void {
  const details = entryDetails(row);
  const config = readConfig(sql)!;
  const about = { sessionId: config.session_id, entryId: row.id };
  queueOut(sql, {
    kind: "notice",
    change: {
      at: now,
      offer: kind === "OFFER_MADE" || kind === "OFFER_EXPIRING" ? { ...about, number: row.offers_made } : null,
      confirm: kind === "WAITLIST_CONFIRM" ? about : null,
      request: {
        id: `${kind.toLowerCase().replaceAll("_", "-")}:${row.id}:${row.offers_made}`,
        kind,
        recipient: { email: row.email, firstName: details.firstName, lastName: details.lastName },
        waitlistEntryId: row.id,
        sessionId: config.session_id,
        classId: details.classId,
        requestedAt: now,
        // The fields src/domain/notification-templates.ts wants; the links are added at delivery.
        data: {
          className: details.className,
          studioName: details.studioName,
          sessionStartsAt: new Date(config.starts_at).toISOString(),
          timeZone: details.timeZone,
          seats: row.guest_count,
          totalAmountPence: details.seatPricePence * row.guest_count,
          ...(row.offer_expires_at === null || kind === "WAITLIST_CONFIRM" ? {} : { offerExpiresAt: new Date(row.offer_expires_at).toISOString() }),
          ...(row.confirm_by === null || kind !== "WAITLIST_CONFIRM" ? {} : { confirmBy: new Date(row.confirm_by).toISOString() }),
        },
      },
    },
  });
}

export function entryView(sql: SqlStorage, row: WaitlistRow): WaitlistEntryView {
  const details = entryDetails(row);
  // Only confirmed parties are in line: an unconfirmed one has no place yet, and nobody waits behind it.
  const position =
    row.status === "waiting" && row.confirmed_at !== null
      ? count(
          sql,
          `SELECT count(*) AS n FROM waitlist WHERE status = 'waiting' AND confirmed_at IS NOT NULL AND (priority < ? OR (priority = ? AND joined_seq < ?))`,
          row.priority,
          row.priority,
          row.joined_seq,
        ) + 1
      : null;
  return {
    ...entryFields(row, details),
    sessionId: readConfig(sql)!.session_id,
    confirmed: row.confirmed_at !== null,
    confirmBy: row.confirmed_at === null ? row.confirm_by : null,
    position,
    offer: row.offer_hold_id && row.offer_expires_at !== null ? { number: row.offers_made, holdId: row.offer_hold_id, expiresAt: row.offer_expires_at } : null,
    updatedAt: row.updated_at,
  };
}

/** The whole list: those still in line in order (offers first), then everyone else, newest first. */
export function wholeWaitlist(sql: SqlStorage): WaitlistEntryView[] {
  return sql
    .exec<WaitlistRow>(
      `SELECT * FROM waitlist ORDER BY CASE status WHEN 'offered' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END,
         CASE WHEN status IN ('waiting', 'offered') THEN priority END, CASE WHEN status IN ('waiting', 'offered') THEN joined_seq END,
         updated_at DESC`,
    )
    .toArray()
    .map((row) => entryView(sql, row));
}

type NewEntry = {
  entryId: string;
  email: string;
  guestCount: number;
  priority: WaitlistPriority;
  offerWindowMs: number;
  details: WaitlistEntryDetails;
  confirmed: boolean;
  confirmWindowMs: number;
  clientKey: string;
  maxSeatsPerClient: number | null;
};

export function insertEntry(sql: SqlStorage, input: NewEntry, now: number): WaitlistRow {
  sql.exec(
    `INSERT INTO waitlist (id, email, guest_count, priority, joined_seq, status, offer_window_ms, details, confirmed_at, confirm_by, client_key, client_cap, created_at, updated_at)
     VALUES (?, ?, ?, ?, (SELECT coalesce(max(joined_seq), 0) + 1 FROM waitlist), 'waiting', ?, ?, ?, ?, ?, ?, ?, ?)`,
    input.entryId,
    input.email,
    input.guestCount,
    PRIORITY_RANK[input.priority],
    input.offerWindowMs,
    JSON.stringify(input.details),
    input.confirmed ? now : null,
    input.confirmed ? null : now + input.confirmWindowMs,
    input.clientKey,
    input.maxSeatsPerClient,
    now,
    now,
  );
  return waitlistRow(sql, input.entryId)!;
}
