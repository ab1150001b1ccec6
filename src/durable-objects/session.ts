/**
 * SessionDO: one per class session, the only writer of that session's seats, holds and resource
 * allocations (DESIGN invariant 1).
 *
 * Every decision runs as one synchronous SQLite transaction in the object's own storage, so no
 * interleaving of requests can oversell. Each change that D1 must know about is written to an
 * outbox in the same transaction (invariant 2) and delivered to D1 right away; the alarm retries
 * what failed and lets expired holds go, asking the commit log first so that a multi-session
 * booking whose coordinator died is completed rather than torn (invariant 3).
 */
import { DurableObject } from "cloudflare:workers";
import { getDb } from "../db/client";
import { decideReservation, type LineChange } from "../db/booking-projection";
import {
  capacityMessage,
  clientTag,
  closeForClientMessage,
  LIVE_PING,
  LIVE_PONG,
  maxLiveConnections,
  maxLiveConnectionsPerClient,
  roomForSubscriber,
} from "../domain/live";
import { availabilityOf, refuseClosed, refuseOverLimit, refuseSeats, type Availability, type Refusal, type SeatLedger } from "../domain/seating";
import type { Env } from "../env";
import { deliverOutboxEntries, type OutboxEntry } from "./outbox";
import { domainEvent, type EventType } from "../services/events";
import { choosePartiesToOffer, MIN_OFFER_MS, offerTimes, PRIORITY_RANK, staffOfferTimes, type WaitlistPriority } from "../domain/waitlist";
import {
  type BookingProjection,
  JoinWaitlistInput,
  type WaitlistEntryDetails,
  type WaitlistEntryView,
  type WaitlistRefusal,
  type WaitlistResult,
  type WaitlistStatus,
  type CancelResult,
  type ConfirmResult,
  type Reservation,
  LIVE_CLIENT_HEADER,
  LIVE_SNAPSHOT_HEADER,
  ReserveInput,
  type ReserveResult,
  SessionSnapshot,
} from "./session-contract";

const OUTBOX_BATCH = 50;
/** How long the alarm leaves a new outbox entry to the inline delivery before retrying it. */
const OUTBOX_GRACE_MS = 10_000;
/** An outbox entry D1 has not acknowledged after this long is reported as drift. */
const OUTBOX_DEADLINE_MS = 5 * 60_000;
const MAX_RETRY_DELAY_MS = 60_000;
/** How soon to ask D1 again about an expired hold when it could not be reached. */
const DECISION_RETRY_MS = 5_000;

type ReservationRow = {
  id: string;
  booking_id: string | null;
  status: Reservation["status"];
  seats: number;
  email: string;
  client_key: string;
  expires_at: number | null;
  booking: string | null;
  /** 'checkout' (POST /holds, or a booking's own hold) or 'offer' (seats held for a waitlist offer). */
  origin: "checkout" | "offer";
};

export class SessionDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private delivery: Promise<void> | null = null;
  /** The last version live subscribers were sent; read back from storage after hibernation. */
  private broadcastVersion = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Answered by the runtime, so idle subscribers never wake a hibernating object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(LIVE_PING, LIVE_PONG));
    ctx.blockConcurrencyWhile(async () => {
      this.migrate();
      this.broadcastVersion = this.config()?.version ?? 0;
      await this.scheduleAlarm();
    });
  }

  private migrate(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS config (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      session_id TEXT NOT NULL, capacity INTEGER NOT NULL, starts_at INTEGER NOT NULL,
      cancelled INTEGER NOT NULL, config_version INTEGER NOT NULL, resources TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS reservations (
      id TEXT PRIMARY KEY, booking_id TEXT, status TEXT NOT NULL, seats INTEGER NOT NULL,
      email TEXT NOT NULL, client_key TEXT NOT NULL, expires_at INTEGER, booking TEXT,
      origin TEXT NOT NULL DEFAULT 'checkout', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS reservations_status ON reservations (status, expires_at)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS reservations_booking ON reservations (booking_id)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS reservations_email ON reservations (email, status)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS reservations_client ON reservations (client_key, status)`);
    // The waitlist: this object alone orders it (priority, then order of joining) and makes offers.
    // priority: 0 high, 1 normal, 2 low. joined_seq is a counter, not a clock.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS waitlist (
      id TEXT PRIMARY KEY, email TEXT NOT NULL, guest_count INTEGER NOT NULL, priority INTEGER NOT NULL,
      joined_seq INTEGER NOT NULL, status TEXT NOT NULL, offer_window_ms INTEGER NOT NULL,
      offer_hold_id TEXT, offer_expires_at INTEGER, reminder_at INTEGER, offers_made INTEGER NOT NULL DEFAULT 0,
      booking_id TEXT, details TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS waitlist_offer_hold ON waitlist (offer_hold_id)`);
    this.sql.exec(`CREATE UNIQUE INDEX IF NOT EXISTS waitlist_active_email ON waitlist (email) WHERE status IN ('waiting', 'offered')`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS waitlist_order ON waitlist (status, priority, joined_seq)`);
    // What D1 and the Queues must hear of: booking lines, waitlist entries, events, notifications.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, change TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`);
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /** Holds seats (with an expiry) or books them outright, or says why not. */
  async reserve(rawInput: ReserveInput): Promise<ReserveResult> {
    const input = ReserveInput.parse(rawInput);
    if (input.mode === "book" && !input.booking) throw new Error("reserve: a booking is required to book");
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): ReserveResult => {
      this.adopt(input.snapshot);
      const existing = this.reservation(input.reservationId);
      if (existing) return refuseOfferHold(existing, input.acceptsOffer) ?? this.replayReserve(existing, input);

      const ledger = this.ledger();
      const refusal =
        refuseClosed(ledger, now) ??
        (input.overrideDuplicate ? null : this.duplicateOf(input.email, input.reservationId)) ??
        (input.exempt ? null : refuseOverLimit(this.heldBy(input.email, input.clientKey), input.seats, input.limits)) ??
        refuseSeats(ledger, input.seats);
      if (refusal) return { ok: false, ...refusal };

      const expiresAt = input.mode === "hold" ? now + input.holdTtlMs : null;
      this.sql.exec(
        `INSERT INTO reservations (id, booking_id, status, seats, email, client_key, expires_at, booking, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        input.reservationId,
        input.booking?.id ?? null,
        input.mode === "hold" ? "held" : "confirmed",
        input.seats,
        input.email,
        input.clientKey,
        expiresAt,
        input.booking ? JSON.stringify(input.booking) : null,
        now,
        now,
      );
      if (input.booking) {
        this.enqueue(input.booking, input.seats, "confirmed", now);
        this.leaveLineOnBooking(input.email, now);
      } else this.bumpVersion();
      const reservation = this.reservation(input.reservationId)!;
      const after = input.mode === "hold" ? { ...ledger, heldSeats: ledger.heldSeats + input.seats } : { ...ledger, bookedSeats: ledger.bookedSeats + input.seats };
      return { ok: true, created: true, reservation: toReservation(reservation), availability: availabilityOf(after) };
    });
    if (result.ok) await this.afterChange();
    return result;
  }

  /** Turns a hold into a confirmed booking line. Idempotent for the same booking. */
  async confirm(
    reservationId: string,
    booking: BookingProjection,
    expected: { seats: number; email: string; acceptsOffer?: boolean | undefined },
  ): Promise<ConfirmResult> {
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): ConfirmResult => {
      const row = this.reservation(reservationId);
      if (!row || row.status === "released" || row.status === "cancelled") {
        return { ok: false, code: "HOLD_EXPIRED", message: "The hold has expired or was released", details: { holdId: reservationId } };
      }
      const offerRefusal = refuseOfferHold(row, expected.acceptsOffer);
      if (offerRefusal) return offerRefusal;
      if (row.seats !== expected.seats || row.email !== expected.email) {
        return {
          ok: false,
          code: "HOLD_EXPIRED",
          message: "The hold does not match this booking (seats or email differ)",
          details: { holdId: reservationId, heldSeats: row.seats, reason: "mismatch" },
        };
      }
      if (row.status === "confirmed") {
        if (row.booking_id === booking.id) return { ok: true, reservation: toReservation(row) };
        return {
          ok: false,
          code: "HOLD_EXPIRED",
          message: "This hold has already been used by another booking",
          details: { holdId: reservationId, reason: "already_booked", existingBookingId: row.booking_id },
        };
      }
      this.confirmRow(row, booking, now);
      return { ok: true, reservation: toReservation(this.reservation(reservationId)!) };
    });
    if (result.ok) await this.afterChange();
    return result;
  }

  /** Lets a hold go (a failed multi-session booking, an abandoned checkout). Idempotent. */
  async release(reservationId: string): Promise<void> {
    const released = this.ctx.storage.transactionSync(() => {
      const row = this.reservation(reservationId);
      if (row?.status !== "held") return false;
      const now = Date.now();
      this.sql.exec(`UPDATE reservations SET status = 'released', updated_at = ? WHERE id = ?`, now, reservationId);
      this.bumpVersion();
      this.holdEnded(reservationId, now);
      return true;
    });
    if (released) await this.afterChange();
  }

  /**
   * Cancels a booking's line in this session, freeing its seats at once. Idempotent. A hold that
   * was committed to this booking but not confirmed here yet (its coordinator died) is cancelled
   * too, so the alarm cannot confirm it after the booking was cancelled.
   */
  async cancel(bookingId: string, reservationId: string = bookingId): Promise<CancelResult> {
    const now = Date.now();
    const row = this.ctx.storage.transactionSync(() => {
      const found = this.sql
        .exec<ReservationRow>(`SELECT * FROM reservations WHERE booking_id = ? AND status IN ('confirmed', 'cancelled')`, bookingId)
        .toArray()[0];
      if (!found) {
        const held = this.reservation(reservationId);
        if (held?.status !== "held") return null;
        this.sql.exec(`UPDATE reservations SET status = 'cancelled', updated_at = ? WHERE id = ?`, now, held.id);
        this.bumpVersion();
        this.holdEnded(held.id, now);
        return this.reservation(held.id)!;
      }
      if (found.status !== "confirmed") return found;
      this.sql.exec(`UPDATE reservations SET status = 'cancelled', updated_at = ? WHERE id = ?`, now, found.id);
      const booking = JSON.parse(found.booking!) as BookingProjection;
      this.enqueue(booking, found.seats, "cancelled", now);
      this.offerFreedSeats(now);
      return this.reservation(found.id)!;
    });
    await this.afterChange();
    return { ok: true, reservation: row ? toReservation(row) : null, availability: this.availabilityNow() };
  }

  /** Seats and resources left; adopts the snapshot first when it is newer than what the DO has. */
  async availability(snapshot?: SessionSnapshot): Promise<Availability & { version: number; waitlistLength: number }> {
    if (snapshot) {
      const parsed = SessionSnapshot.parse(snapshot);
      this.ctx.storage.transactionSync(() => this.adopt(parsed));
    }
    return { ...this.availabilityNow(), version: this.config()?.version ?? 0, waitlistLength: this.waitlistLength() };
  }

  /**
   * Applies an admin change of capacity or cancellation, refusing a capacity below the seats
   * already booked or held. Returns the refusal or the new availability.
   */
  async reconfigure(snapshot: SessionSnapshot): Promise<{ ok: true; availability: Availability } | { ok: false; booked: number; held: number }> {
    const parsed = SessionSnapshot.parse(snapshot);
    const result = this.ctx.storage.transactionSync(() => {
      const current = this.config();
      // An older change arriving late must not undo a newer one.
      if (current && current.config_version > parsed.configVersion) return { ok: true as const, availability: this.availabilityNow() };
      const ledger = current ? this.ledger() : null;
      if (ledger && parsed.capacity < ledger.bookedSeats + ledger.heldSeats) {
        return { ok: false as const, booked: ledger.bookedSeats, held: ledger.heldSeats };
      }
      this.adopt(parsed, { force: true });
      this.bumpVersion();
      this.closeUnservableEntries(Date.now());
      this.offerFreedSeats(Date.now());
      return { ok: true as const, availability: this.availabilityNow() };
    });
    if (result.ok) await this.afterChange();
    return result;
  }

  /**
   * Closes the session for good before it is deleted, in one transaction: refused while it holds,
   * has ever booked or had a waitlist, or still has deliveries queued; otherwise it takes no
   * reservation again.
   */
  async retire(): Promise<{ ok: true } | { ok: false; reservations: number; pendingOutbox: number; waitlistEntries: number }> {
    return this.ctx.storage.transactionSync(() => {
      const reservations = this.sql
        .exec<{ n: number }>(`SELECT count(*) AS n FROM reservations WHERE status IN ('held', 'confirmed', 'cancelled')`)
        .one().n;
      const pendingOutbox = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM outbox`).one().n;
      const waitlistEntries = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM waitlist`).one().n;
      if (reservations > 0 || pendingOutbox > 0 || waitlistEntries > 0) return { ok: false as const, reservations, pendingOutbox, waitlistEntries };
      this.sql.exec(`UPDATE config SET cancelled = 1, config_version = ? WHERE id = 1`, Number.MAX_SAFE_INTEGER);
      return { ok: true as const };
    });
  }

  /** The confirmed lines this DO holds, for reconciliation with D1. */
  async ledgerEntries(): Promise<{ bookingId: string; seats: number; status: string }[]> {
    return this.sql
      .exec<{ booking_id: string; seats: number; status: string }>(
        `SELECT booking_id, seats, status FROM reservations WHERE booking_id IS NOT NULL AND status IN ('confirmed', 'cancelled') ORDER BY created_at`,
      )
      .toArray()
      .map((row) => ({ bookingId: row.booking_id, seats: row.seats, status: row.status }));
  }

  /** Outbox entries not yet acknowledged by D1 (for tests and reconciliation). */
  async pendingOutbox(): Promise<number> {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM outbox`).one().n;
  }

  /** Outbox entries that D1 has not acknowledged for longer than OUTBOX_DEADLINE_MS. */
  async staleOutboxEntries(now: number): Promise<number> {
    return this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE json_extract(change, '$.at') < ?`, now - OUTBOX_DEADLINE_MS)
      .one().n;
  }

  /** Holds still held `overdueMs` after they expired: the alarm should have settled them (drift). */
  async staleHolds(now: number, overdueMs: number): Promise<number> {
    return this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM reservations WHERE status = 'held' AND expires_at < ?`, now - overdueMs)
      .one().n;
  }

  // ---- waitlist ------------------------------------------------------------------------------

  /**
   * Puts a party in line (priority, then order of joining). One active entry per email: a repeat
   * returns the existing entry. Refused while the party fits right now (book instead), when it
   * could never fit, when the email already has seats here, or when it is too late for offers.
   */
  async joinWaitlist(rawInput: JoinWaitlistInput): Promise<WaitlistResult> {
    const input = JoinWaitlistInput.parse(rawInput);
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): WaitlistResult => {
      this.adopt(input.snapshot);
      const existing = this.activeEntryOf(input.email) ?? this.waitlistRow(input.entryId);
      if (existing) return { ok: true, created: false, entry: this.entryView(existing) };

      const ledger = this.ledger();
      const closed = refuseClosed(ledger, now);
      if (closed) return { ok: false, ...closed };
      if (!offerTimes(now, ledger.startsAt, input.offerWindowMs)) {
        return { ok: false, code: "SESSION_NOT_BOOKABLE", message: "The session starts too soon to offer seats from the waitlist", details: { reason: "waitlist_closed" } };
      }
      if (input.guestCount > ledger.capacity) {
        return { ok: false, code: "INSUFFICIENT_CAPACITY", message: `The session has ${ledger.capacity} seat(s) in all`, details: { capacity: ledger.capacity, requested: input.guestCount } };
      }
      const duplicate = this.duplicateOf(input.email, "");
      if (duplicate) return { ok: false, ...duplicate };
      if (!refuseSeats(ledger, input.guestCount)) {
        return { ok: false, code: "WAITLIST_NOT_NEEDED", message: "There are seats for this party now: book them instead", details: { availableSpots: availabilityOf(ledger).availableSpots } };
      }

      this.sql.exec(
        `INSERT INTO waitlist (id, email, guest_count, priority, joined_seq, status, offer_window_ms, details, created_at, updated_at)
         VALUES (?, ?, ?, ?, (SELECT coalesce(max(joined_seq), 0) + 1 FROM waitlist), 'waiting', ?, ?, ?, ?)`,
        input.entryId,
        input.email,
        input.guestCount,
        PRIORITY_RANK[input.priority],
        input.offerWindowMs,
        JSON.stringify(input.details),
        now,
        now,
      );
      const row = this.waitlistRow(input.entryId)!;
      this.recordEntryChange(row, now, "WAITLIST_JOINED");
      this.offerFreedSeats(now);
      return { ok: true, created: true, entry: this.entryView(this.waitlistRow(input.entryId)!) };
    });
    if (result.ok && result.created) await this.afterChange();
    return result;
  }

  /**
   * Takes an entry out of line (the customer left, or staff removed it); an open offer's seats go
   * to the next. Refused while the offer is being accepted (see `claimOfferForClosing`).
   */
  async leaveWaitlist(entryId: string, by: "customer" | "staff"): Promise<WaitlistResult> {
    const claim = await this.claimOfferForClosing(entryId);
    if (claim) return claim;
    return this.changeEntry(entryId, (row, now) => {
      if (row.status !== "waiting" && row.status !== "offered") return null;
      this.closeEntry(row, "removed", now, "WAITLIST_LEFT", { by });
      return true;
    });
  }

  /**
   * Staff: offer seats to this entry now, if its party fits: one still waiting, or one whose offer
   * expired or was declined (another chance). In the last minutes before the start, when no
   * automatic offer is made, a staff offer lasts until the start.
   */
  async offerNow(entryId: string): Promise<WaitlistResult> {
    return this.changeEntry(entryId, (row, now) => {
      if (row.status !== "waiting" && row.status !== "expired" && row.status !== "declined") return offerUnavailable(row);
      if (row.status !== "waiting" && this.activeEntryOf(row.email)) {
        return { code: "DUPLICATE_BOOKING", message: "This email is on this waitlist again with another entry", details: { entryId: row.id } };
      }
      const ledger = this.ledger();
      const times = staffOfferTimes(now, ledger.startsAt, row.offer_window_ms);
      const refusal =
        refuseClosed(ledger, now) ??
        (times ? null : { code: "SESSION_NOT_BOOKABLE" as const, message: "The session starts too soon to make an offer", details: { reason: "waitlist_closed" } }) ??
        this.duplicateOf(row.email, "") ??
        refuseSeats(ledger, row.guest_count);
      if (refusal) return refusal;
      this.makeOffer(row, now, times!, { by: "staff" });
      return true;
    });
  }

  /** The customer declines their offer (only the current one): its seats go to the next in line. */
  async declineOffer(entryId: string, offerNumber: number): Promise<WaitlistResult> {
    const claim = await this.claimOfferForClosing(entryId, offerNumber);
    if (claim) return claim;
    return this.changeEntry(entryId, (row, now) => {
      if (row.status !== "offered" || row.offers_made !== offerNumber) return offerUnavailable(row);
      this.closeEntry(row, "declined", now, "OFFER_DECLINED");
      return true;
    });
  }

  /**
   * Before an open offer is withdrawn (declined, left, removed), records `abort` for its hold in
   * the commit log, like an expiring hold's alarm: if an acceptance recorded `commit` first, the
   * offer is being booked and is not withdrawn (its confirm, or the alarm, completes it). Returns
   * the refusal, or null to go ahead.
   */
  private async claimOfferForClosing(entryId: string, offerNumber?: number): Promise<WaitlistResult | null> {
    const row = this.waitlistRow(entryId);
    if (row?.status !== "offered" || !row.offer_hold_id || (offerNumber !== undefined && row.offers_made !== offerNumber)) return null;
    let decision;
    try {
      decision = await decideReservation(getDb(this.env.DB), row.offer_hold_id, { decision: "abort" });
    } catch (error) {
      this.log("warn", "offer decision unavailable", { entryId, error: String(error) });
      return { ok: false, code: "SERVICE_UNAVAILABLE", message: "Could not withdraw the offer just now; try again", details: { entryId } };
    }
    if (decision.decision === "abort") return null;
    return {
      ok: false,
      code: "OFFER_NOT_AVAILABLE",
      message: "This offer is being accepted",
      details: { entryId, status: "accepting", bookingId: decision.booking.id },
    };
  }

  /** One entry with its position, or null. */
  async waitlistEntry(entryId: string): Promise<WaitlistEntryView | null> {
    const row = this.waitlistRow(entryId);
    return row ? this.entryView(row) : null;
  }

  /** The whole list: those still in line in order (offers first), then everyone else, newest first. */
  async waitlist(): Promise<WaitlistEntryView[]> {
    return this.sql
      .exec<WaitlistRow>(
        `SELECT * FROM waitlist ORDER BY CASE status WHEN 'offered' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END,
           CASE WHEN status IN ('waiting', 'offered') THEN priority END, CASE WHEN status IN ('waiting', 'offered') THEN joined_seq END,
           updated_at DESC`,
      )
      .toArray()
      .map((row) => this.entryView(row));
  }

  /**
   * Runs one change to an entry in a transaction: `change` returns true when it changed something,
   * null when there was nothing to do (the answer is the entry as it is), or a refusal.
   */
  private async changeEntry(
    entryId: string,
    change: (row: WaitlistRow, now: number) => true | null | WaitlistRefusal,
  ): Promise<WaitlistResult> {
    const now = Date.now();
    let changed = false;
    const result = this.ctx.storage.transactionSync((): WaitlistResult => {
      const row = this.waitlistRow(entryId);
      if (!row || !this.config()) return { ok: false, code: "WAITLIST_ENTRY_NOT_FOUND", message: "No such waitlist entry", details: { entryId } };
      const outcome = change(row, now);
      if (outcome !== null && outcome !== true) return { ok: false, ...outcome };
      changed = outcome === true;
      return { ok: true, created: false, entry: this.entryView(this.waitlistRow(entryId)!) };
    });
    if (changed) await this.afterChange();
    return result;
  }

  /**
   * Offers freed seats down the line: the first waiting parties that fit, each holding its seats
   * until the offer expires. Called inside every transaction that frees seats (a cancellation, a
   * released or expired hold, a declined or expired offer, more capacity), so a freed seat is
   * never open to anyone else while someone waiting could take it.
   */
  private offerFreedSeats(now: number): void {
    const ledger = this.ledger();
    if (refuseClosed(ledger, now)) return;
    // Parties whose email already holds or booked seats here are passed over (one reservation per email).
    const waiting = this.sql
      .exec<WaitlistRow>(
        `SELECT * FROM waitlist w WHERE status = 'waiting'
           AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.email = w.email AND r.status IN ('held', 'confirmed'))
         ORDER BY priority, joined_seq`,
      )
      .toArray()
      .map((row) => ({ id: row.id, guestCount: row.guest_count, row }));
    for (const { row } of choosePartiesToOffer(waiting, ledger)) {
      const times = offerTimes(now, ledger.startsAt, row.offer_window_ms);
      if (times) this.makeOffer(row, now, times);
    }
  }

  /** Holds the party's seats for the offer and tells them (OFFER_MADE carries the accept link). */
  private makeOffer(row: WaitlistRow, now: number, times: { expiresAt: number; remindAt: number | null }, context: { by: "line" | "staff" } = { by: "line" }): void {
    const holdId = `hld_${crypto.randomUUID().replaceAll("-", "")}`;
    this.sql.exec(
      `INSERT INTO reservations (id, booking_id, status, seats, email, client_key, expires_at, booking, origin, created_at, updated_at)
       VALUES (?, NULL, 'held', ?, ?, 'waitlist', ?, NULL, 'offer', ?, ?)`,
      holdId,
      row.guest_count,
      row.email,
      times.expiresAt,
      now,
      now,
    );
    this.sql.exec(
      `UPDATE waitlist SET status = 'offered', offer_hold_id = ?, offer_expires_at = ?, reminder_at = ?, offers_made = offers_made + 1, updated_at = ?
       WHERE id = ?`,
      holdId,
      times.expiresAt,
      times.remindAt,
      now,
      row.id,
    );
    const offered = this.waitlistRow(row.id)!;
    this.recordEntryChange(offered, now, "OFFER_SENT", context);
    this.noticeFor(offered, "OFFER_MADE", now);
  }

  /** Ends an entry's time in line; an open offer's hold is released and its seats offered on. */
  private closeEntry(
    row: WaitlistRow,
    status: "removed" | "declined" | "expired",
    now: number,
    event: EventType,
    context: Record<string, unknown> = {},
  ): void {
    const hadOffer = row.status === "offered";
    if (hadOffer && row.offer_hold_id) {
      this.sql.exec(`UPDATE reservations SET status = 'released', updated_at = ? WHERE id = ? AND status = 'held'`, now, row.offer_hold_id);
    }
    this.sql.exec(`UPDATE waitlist SET status = ?, reminder_at = NULL, updated_at = ? WHERE id = ?`, status, now, row.id);
    const closed = this.waitlistRow(row.id)!;
    this.recordEntryChange(closed, now, event, context);
    if (status === "expired" && hadOffer) this.noticeFor(closed, "OFFER_EXPIRED", now);
    this.offerFreedSeats(now);
  }

  /**
   * Ends the time in line of entries that can no longer be served: all of them when the session is
   * cancelled, parties larger than a lowered capacity, and those still waiting once the session is
   * too near for offers. Open offers end with their holds (never past the start).
   */
  private closeUnservableEntries(now: number): void {
    const config = this.config();
    if (!config) return;
    const active = this.sql.exec<{ id: string }>(`SELECT id FROM waitlist WHERE status IN ('waiting', 'offered') ORDER BY priority, joined_seq`).toArray();
    for (const { id } of active) {
      // Read each afresh: closing one can make offers to those after it.
      const row = this.waitlistRow(id)!;
      if (row.status !== "waiting" && row.status !== "offered") continue;
      if (config.cancelled === 1) this.closeEntry(row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "session_cancelled" });
      else if (row.status === "waiting" && row.guest_count > config.capacity) {
        this.closeEntry(row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "party_larger_than_session" });
      } else if (row.status === "waiting" && !offerTimes(now, config.starts_at, row.offer_window_ms)) {
        this.closeEntry(row, "expired", now, "WAITLIST_LEFT", { by: "system", reason: "session_starting" });
      }
    }
  }

  /**
   * A party that books seats here itself leaves the line: it has what it waited for (or chose less).
   * Only confirmed seats count: a hold proves nothing (anyone may take one in someone's name).
   */
  private leaveLineOnBooking(email: string, now: number): void {
    const row = this.activeEntryOf(email);
    if (row?.status === "waiting") this.closeEntry(row, "removed", now, "WAITLIST_LEFT", { by: "system", reason: "booked_directly" });
  }

  /** The entry whose open offer this hold is, if any. */
  private openOfferOfHold(holdId: string): WaitlistRow | undefined {
    return this.sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE offer_hold_id = ? AND status = 'offered'`, holdId).toArray()[0];
  }

  private activeEntryOf(email: string): WaitlistRow | undefined {
    return this.sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE email = ? AND status IN ('waiting', 'offered')`, email).toArray()[0];
  }

  /** A hold ended without a booking: if it was an offer, the offer expired and passes on. */
  private holdEnded(holdId: string, now: number): void {
    const row = this.openOfferOfHold(holdId);
    if (row) this.closeEntry(row, "expired", now, "OFFER_EXPIRED");
    else this.offerFreedSeats(now);
  }

  /** A hold became a booking: if it was an offer, the entry is booked. */
  private holdBooked(holdId: string, bookingId: string, now: number): void {
    const row = this.openOfferOfHold(holdId);
    if (!row) return;
    this.sql.exec(`UPDATE waitlist SET status = 'booked', booking_id = ?, reminder_at = NULL, updated_at = ? WHERE id = ?`, bookingId, now, row.id);
    this.recordEntryChange(this.waitlistRow(row.id)!, now, "OFFER_ACCEPTED");
  }

  /** Reminds customers whose offers are about to expire (once per offer). */
  private remindExpiringOffers(now: number): void {
    this.ctx.storage.transactionSync(() => {
      const due = this.sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE status = 'offered' AND reminder_at <= ?`, now).toArray();
      for (const row of due) {
        this.sql.exec(`UPDATE waitlist SET reminder_at = NULL WHERE id = ?`, row.id);
        this.noticeFor(row, "OFFER_EXPIRING", now);
      }
    });
  }

  /** Queues the entry's D1 projection and its event; the change counter moves (live subscribers see the line length). */
  private recordEntryChange(row: WaitlistRow, now: number, type: EventType, context: Record<string, unknown> = {}): void {
    const version = this.bumpVersion();
    const details = entryDetails(row);
    const sessionId = this.config()!.session_id;
    this.queueOut({
      kind: "waitlist",
      change: {
        ...entryFields(row, details),
        sessionId,
        classId: details.classId,
        customerId: details.customerId,
        offerExpiresAt: row.offer_expires_at,
        version,
        at: now,
      },
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
    this.queueOut({ kind: "event", change: { at: now, event } });
  }

  /** Queues a notification about an entry's offer; the id makes a redelivery send nothing twice. */
  private noticeFor(row: WaitlistRow, kind: "OFFER_MADE" | "OFFER_EXPIRING" | "OFFER_EXPIRED", now: number): void {
    const details = entryDetails(row);
    const config = this.config()!;
    this.queueOut({
      kind: "notice",
      change: {
        at: now,
        offer: kind === "OFFER_EXPIRED" ? null : { sessionId: config.session_id, entryId: row.id, number: row.offers_made },
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
            ...(row.offer_expires_at === null ? {} : { offerExpiresAt: new Date(row.offer_expires_at).toISOString() }),
          },
        },
      },
    });
  }

  private waitlistRow(id: string): WaitlistRow | undefined {
    return this.sql.exec<WaitlistRow>(`SELECT * FROM waitlist WHERE id = ?`, id).toArray()[0];
  }

  private entryView(row: WaitlistRow): WaitlistEntryView {
    const details = entryDetails(row);
    const position =
      row.status === "waiting"
        ? this.sql
            .exec<{ ahead: number }>(
              `SELECT count(*) AS ahead FROM waitlist WHERE status = 'waiting' AND (priority < ? OR (priority = ? AND joined_seq < ?))`,
              row.priority,
              row.priority,
              row.joined_seq,
            )
            .one().ahead + 1
        : null;
    return {
      ...entryFields(row, details),
      sessionId: this.config()!.session_id,
      position,
      offer: row.offer_hold_id && row.offer_expires_at !== null ? { number: row.offers_made, holdId: row.offer_hold_id, expiresAt: row.offer_expires_at } : null,
      updatedAt: row.updated_at,
    };
  }

  // ---- live capacity (WebSocket hibernation API) --------------------------------------------

  /**
   * Accepts a live capacity subscriber (GET /api/v1/sessions/{id}/live, after the route has checked
   * the upgrade, the Origin and that the session exists): adopts the caller's catalog snapshot so a
   * fresh object knows its capacity, refuses beyond MAX_LIVE_CONNECTIONS_PER_SESSION (503) or, for
   * one client address, MAX_LIVE_CONNECTIONS_PER_CLIENT (429, so one script cannot fill the room),
   * then sends the "snapshot" message. No await between reading the state and accepting the socket, so
   * no change can fall between the snapshot and the first broadcast.
   */
  override async fetch(request: Request): Promise<Response> {
    const snapshot = SessionSnapshot.parse(JSON.parse(request.headers.get(LIVE_SNAPSHOT_HEADER) ?? "null"));
    this.ctx.storage.transactionSync(() => this.adopt(snapshot));
    const open = this.ctx.getWebSockets().length;
    const max = maxLiveConnections(this.env.MAX_LIVE_CONNECTIONS_PER_SESSION);
    if (!roomForSubscriber(open, max)) return Response.json({ open, max }, { status: 503 });
    const tag = clientTag(request.headers.get(LIVE_CLIENT_HEADER) ?? "unknown");
    const openByClient = this.ctx.getWebSockets(tag).length;
    const maxPerClient = maxLiveConnectionsPerClient(this.env.MAX_LIVE_CONNECTIONS_PER_CLIENT);
    if (!roomForSubscriber(openByClient, maxPerClient)) return Response.json({ open: openByClient, max: maxPerClient }, { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [tag]);
    server.send(this.capacityMessage("snapshot"));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Subscribers only listen: any message but "ping" closes the socket (1008, or 1009 when too big). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const close = closeForClientMessage(message);
    if (close) ws.close(close.code, close.reason);
    else ws.send(LIVE_PONG);
  }

  /** Completes the closing handshake a subscriber started (a no-op where the runtime already replied). */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005 (the client sent no code) and 1006 (no close frame) may not be sent in a close frame.
      if (code === 1005 || code === 1006) ws.close();
      else ws.close(code, reason);
    } catch {
      // Closed already: nothing left to answer.
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    this.log("warn", "live subscriber socket failed", { error: String(error) });
  }

  /**
   * Sends the current state to every subscriber if it changed since the last message. Called after
   * each committed transaction (never inside one), so subscribers only ever see committed state.
   */
  private broadcast(): void {
    const version = this.config()?.version ?? 0;
    if (version <= this.broadcastVersion) return;
    this.broadcastVersion = version;
    const message = this.capacityMessage("capacity");
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(message);
      } catch {
        // Closing already: its close handshake is under way.
      }
    }
  }

  private capacityMessage(type: "snapshot" | "capacity"): string {
    const config = this.config();
    return capacityMessage(type, {
      sessionId: config?.session_id ?? "",
      availability: this.availabilityNow(),
      waitlistLength: this.waitlistLength(),
      version: config?.version ?? 0,
    });
  }

  // ---- alarm ---------------------------------------------------------------------------------

  /** Settles expired holds and retries outbox delivery. Safe to run twice. */
  override async alarm(): Promise<void> {
    await this.settleExpiredHolds();
    this.remindExpiringOffers(Date.now());
    this.ctx.storage.transactionSync(() => this.closeUnservableEntries(Date.now()));
    this.broadcast();
    await this.deliverOutbox();
    await this.scheduleAlarm();
  }

  private async settleExpiredHolds(): Promise<void> {
    const now = Date.now();
    const expired = this.sql
      .exec<ReservationRow>(`SELECT * FROM reservations WHERE status = 'held' AND expires_at <= ?`, now)
      .toArray();
    if (expired.length === 0) return;
    const db = getDb(this.env.DB);
    let changed = false;
    for (const hold of expired) {
      let decision;
      try {
        decision = await decideReservation(db, hold.id, { decision: "abort" });
      } catch (error) {
        // D1 is unreachable: keep the seats held (never oversell) and ask again soon.
        this.log("warn", "hold decision unavailable", { holdId: hold.id, error: String(error) });
        this.sql.exec(`UPDATE reservations SET expires_at = ? WHERE id = ? AND status = 'held'`, now + DECISION_RETRY_MS, hold.id);
        continue;
      }
      this.ctx.storage.transactionSync(() => {
        const row = this.reservation(hold.id);
        if (row?.status !== "held") return;
        const sessionId = this.config()!.session_id;
        if (decision.decision === "commit" && sessionId in decision.linePrices) {
          this.confirmRow(row, { ...decision.booking, linePricePence: decision.linePrices[sessionId]! }, Date.now());
        } else {
          const releasedAt = Date.now();
          this.sql.exec(`UPDATE reservations SET status = 'released', updated_at = ? WHERE id = ?`, releasedAt, hold.id);
          this.bumpVersion();
          this.holdEnded(hold.id, releasedAt);
        }
        changed = true;
      });
    }
    if (changed) this.log("info", "expired holds settled", { count: expired.length });
  }

  // ---- outbox ------------------------------------------------------------------------------

  /** Delivers what is due now; concurrent callers share one delivery loop. Never throws. */
  private deliverOutbox(): Promise<void> {
    if (!this.delivery) {
      this.delivery = this.deliveryLoop().finally(() => {
        this.delivery = null;
      });
    }
    return this.delivery;
  }

  private async deliveryLoop(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<OutboxRow>(
          `SELECT seq, kind, change, attempts FROM outbox WHERE attempts = 0 OR next_attempt_at <= ? ORDER BY seq LIMIT ?`,
          Date.now(),
          OUTBOX_BATCH,
        )
        .toArray();
      if (rows.length === 0) return;
      const delivered = await this.deliver(rows);
      if (delivered.length > 0) {
        this.sql.exec(`DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`, JSON.stringify(delivered));
      }
      if (delivered.length < rows.length) return;
    }
  }

  /**
   * Delivers a batch (one D1 transaction per table, one send per Queue); if that fails, entry by
   * entry, so one entry that keeps being refused cannot hold back the rest. Failed entries back
   * off exponentially. Returns what landed.
   */
  private async deliver(rows: OutboxRow[]): Promise<number[]> {
    try {
      await deliverOutboxEntries(this.env, rows.map(outboxEntry));
      return rows.map((row) => row.seq);
    } catch (error) {
      if (rows.length === 1) {
        this.backOff(rows[0]!, error);
        return [];
      }
    }
    const delivered: number[] = [];
    for (const row of rows) {
      try {
        await deliverOutboxEntries(this.env, [outboxEntry(row)]);
        delivered.push(row.seq);
      } catch (error) {
        this.backOff(row, error);
      }
    }
    return delivered;
  }

  private backOff(row: { seq: number; attempts: number }, error: unknown): void {
    const delay = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** row.attempts);
    this.sql.exec(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?`,
      Date.now() + delay,
      String(error).slice(0, 500),
      row.seq,
    );
    this.log("warn", "outbox delivery failed; the alarm will retry", { seq: row.seq, attempts: row.attempts + 1, error: String(error) });
  }

  /**
   * After a committed change: tell live subscribers, then set the alarm with no await in between,
   * so it is written together with the change (a DO that dies while delivering still retries);
   * then deliver to D1 now, and move the alarm to whatever is left.
   */
  private async afterChange(): Promise<void> {
    this.broadcast();
    await this.scheduleAlarm();
    await this.deliverOutbox();
    await this.scheduleAlarm();
  }

  /**
   * The alarm goes off at the next hold (or offer) expiry, offer reminder, outbox retry or the
   * moment the waitlist closes before the start, whichever is first. All live in SQL, so that minimum is always the right time: no need to
   * read the current alarm.
   */
  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (
           SELECT min(expires_at) AS at FROM reservations WHERE status = 'held'
           UNION ALL SELECT min(reminder_at) FROM waitlist WHERE status = 'offered'
           UNION ALL SELECT (SELECT starts_at FROM config) - ${MIN_OFFER_MS} WHERE EXISTS (SELECT 1 FROM waitlist WHERE status = 'waiting')
           UNION ALL SELECT min(next_attempt_at) FROM outbox)`,
      )
      .one().at;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  // ---- ledger helpers (synchronous; call inside transactionSync) ------------------------------

  private config() {
    return this.sql
      .exec<{ session_id: string; capacity: number; starts_at: number; cancelled: number; config_version: number; resources: string; version: number }>(
        `SELECT * FROM config WHERE id = 1`,
      )
      .toArray()[0];
  }

  /** Takes the caller's catalog snapshot when it is newer than ours (or we have none). */
  private adopt(snapshot: SessionSnapshot, options: { force: boolean } = { force: false }): void {
    const current = this.config();
    if (current && !options.force && current.config_version >= snapshot.configVersion) return;
    this.sql.exec(
      `INSERT INTO config (id, session_id, capacity, starts_at, cancelled, config_version, resources, version)
       VALUES (1, ?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity, starts_at = excluded.starts_at,
         cancelled = excluded.cancelled, config_version = max(config.config_version, excluded.config_version),
         resources = excluded.resources`,
      snapshot.sessionId,
      snapshot.capacity,
      snapshot.startsAt,
      snapshot.cancelled ? 1 : 0,
      snapshot.configVersion,
      JSON.stringify(snapshot.resources),
    );
  }

  private ledger(): SeatLedger {
    const config = this.config();
    if (!config) throw new Error("SessionDO has no configuration yet");
    const seats = this.sql
      .exec<{ booked: number; held: number }>(
        `SELECT coalesce(sum(CASE WHEN status = 'confirmed' THEN seats END), 0) AS booked,
                coalesce(sum(CASE WHEN status = 'held' THEN seats END), 0) AS held
         FROM reservations WHERE status IN ('confirmed', 'held')`,
      )
      .one();
    return {
      capacity: config.capacity,
      bookedSeats: seats.booked,
      heldSeats: seats.held,
      cancelled: config.cancelled === 1,
      startsAt: config.starts_at,
      resources: JSON.parse(config.resources),
    };
  }

  private availabilityNow(): Availability {
    return this.config() ? availabilityOf(this.ledger()) : availabilityOf({ capacity: 0, bookedSeats: 0, heldSeats: 0, cancelled: false, startsAt: 0, resources: [] });
  }

  private reservation(id: string): ReservationRow | undefined {
    return this.sql.exec<ReservationRow>(`SELECT * FROM reservations WHERE id = ?`, id).toArray()[0];
  }

  /** A retry of a reservation that exists: the same answer as the first time, if it still stands. */
  private replayReserve(row: ReservationRow, input: { seats: number; email: string }): ReserveResult {
    if (row.seats !== input.seats || row.email !== input.email) {
      return {
        ok: false,
        code: "HOLD_EXPIRED",
        message: "The hold does not match this request (seats or email differ)",
        details: { holdId: row.id, heldSeats: row.seats, reason: "mismatch" },
      };
    }
    if (row.status === "held" || row.status === "confirmed") {
      return { ok: true, created: false, reservation: toReservation(row), availability: this.availabilityNow() };
    }
    return { ok: false, code: "HOLD_EXPIRED", message: "This reservation was released or cancelled", details: { holdId: row.id, status: row.status } };
  }

  /** An active booking by the same email, the soft duplicate block. */
  /**
   * The soft duplicate block: another active reservation by the same email, a booking or a hold
   * still in checkout. Counting holds means a retry without an Idempotency-Key, after a failure
   * that left the first attempt's holds to be settled, cannot book the same person twice.
   */
  private duplicateOf(email: string, reservationId: string) {
    const row = this.sql
      .exec<{ booking_id: string | null; status: string }>(
        `SELECT booking_id, status FROM reservations WHERE email = ? AND status IN ('held', 'confirmed') AND id <> ? ORDER BY status = 'confirmed' DESC LIMIT 1`,
        email,
        reservationId,
      )
      .toArray()[0];
    if (!row) return null;
    return row.status === "confirmed"
      ? { code: "DUPLICATE_BOOKING" as const, message: "This email already has a booking for this session", details: { existingBookingId: row.booking_id } }
      : {
          // Not the hold's id: anyone who knows the email may ask, and the id books the hold.
          code: "DUPLICATE_BOOKING" as const,
          message: "This email already holds seats in this session (a checkout or a waitlist offer); complete that, or wait for it to expire",
          details: { existing: "hold" },
        };
  }


  /** Seats one email and one client address hold or have booked here (each an index lookup). */
  private heldBy(email: string, clientKey: string) {
    const byEmail = this.sql
      .exec<{ seats: number }>(`SELECT coalesce(sum(seats), 0) AS seats FROM reservations WHERE email = ? AND status IN ('held', 'confirmed')`, email)
      .one().seats;
    const byClient = this.sql
      .exec<{ seats: number }>(`SELECT coalesce(sum(seats), 0) AS seats FROM reservations WHERE client_key = ? AND status IN ('held', 'confirmed')`, clientKey)
      .one().seats;
    return { byEmail, byClient };
  }

  private confirmRow(row: ReservationRow, booking: BookingProjection, now: number): void {
    this.sql.exec(
      `UPDATE reservations SET status = 'confirmed', booking_id = ?, booking = ?, expires_at = NULL, updated_at = ? WHERE id = ?`,
      booking.id,
      JSON.stringify(booking),
      now,
      row.id,
    );
    this.enqueue(booking, row.seats, "confirmed", now);
    this.holdBooked(row.id, booking.id, now);
    this.leaveLineOnBooking(row.email, now);
  }

  /**
   * Records a change to this session's line of a booking and queues it for D1. Its version is
   * the session's change counter, so D1 orders one line's changes without trusting clocks.
   * Delivered at once by the caller; the alarm retries it after the grace.
   */
  private enqueue(booking: BookingProjection, seats: number, status: LineChange["status"], at: number): void {
    const version = this.bumpVersion();
    this.queueOut({ kind: "line", change: { booking, sessionId: this.config()!.session_id, seats, status, version, at } });
  }

  /** Writes an outbox entry; delivered at once by the caller, retried by the alarm after the grace. */
  private queueOut(entry: OutboxEntry): void {
    this.sql.exec(`INSERT INTO outbox (kind, change, next_attempt_at) VALUES (?, ?, ?)`, entry.kind, JSON.stringify(entry.change), Date.now() + OUTBOX_GRACE_MS);
  }

  /** The session's change counter: live subscribers see it as `version`. Returns the new value. */
  private bumpVersion(): number {
    return this.sql.exec<{ version: number }>(`UPDATE config SET version = version + 1 WHERE id = 1 RETURNING version`).one().version;
  }

  /** People still in line: waiting, or holding an offer they have not answered yet. */
  private waitlistLength(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM waitlist WHERE status IN ('waiting', 'offered')`).one().n;
  }

  private log(level: "info" | "warn", msg: string, fields: Record<string, unknown>): void {
    console.log(JSON.stringify({ level, msg, sessionId: this.config()?.session_id, ...fields }));
  }
}

type WaitlistRow = {
  id: string;
  email: string;
  guest_count: number;
  /** PRIORITY_RANK: 0 high, 1 normal, 2 low. */
  priority: number;
  joined_seq: number;
  status: WaitlistStatus;
  offer_window_ms: number;
  offer_hold_id: string | null;
  offer_expires_at: number | null;
  reminder_at: number | null;
  offers_made: number;
  booking_id: string | null;
  details: string;
  created_at: number;
  updated_at: number;
};

const PRIORITY_NAME = Object.fromEntries(Object.entries(PRIORITY_RANK).map(([name, rank]) => [rank, name])) as Record<number, WaitlistPriority>;

function entryDetails(row: WaitlistRow): WaitlistEntryDetails {
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

/**
 * Seats held for a waitlist offer are booked only by accepting the offer (its signed link), never
 * by naming the hold in POST /bookings: knowing someone's email must not be enough to take them.
 */
function refuseOfferHold(row: ReservationRow, acceptsOffer: boolean | undefined): ({ ok: false } & Refusal) | null {
  if (row.origin !== "offer" || acceptsOffer) return null;
  return { ok: false, code: "HOLD_EXPIRED", message: "These seats are held for a waitlist offer; only its link can accept it", details: { reason: "waitlist_offer" } };
}

function offerUnavailable(row: WaitlistRow): WaitlistRefusal {
  return {
    code: "OFFER_NOT_AVAILABLE",
    message: row.status === "offered" ? "This entry's open offer is a newer one, or it has an open offer already" : `This entry has no open offer (it is ${row.status})`,
    details: { entryId: row.id, status: row.status, currentOffer: row.status === "offered" ? row.offers_made : null },
  };
}

type OutboxRow = { seq: number; kind: OutboxEntry["kind"]; change: string; attempts: number };

function outboxEntry(row: OutboxRow): OutboxEntry {
  return { kind: row.kind, change: JSON.parse(row.change) } as OutboxEntry;
}

function toReservation(row: ReservationRow): Reservation {
  return { id: row.id, bookingId: row.booking_id, status: row.status, seats: row.seats, email: row.email, expiresAt: row.expires_at };
}
