/**
 * SessionDO: one per class session, the only writer of that session's seats, holds, waitlist and
 * resource use (DESIGN invariant 1). The class is the table of contents: each RPC method parses its
 * input, runs one synchronous SQLite transaction over the modules beside it (ledger, waitlist line,
 * idempotency records, outbox), then, after commit, tells live subscribers, sets the alarm and starts
 * the outbox pump. The caller is answered once the transaction is durable; nothing on that path
 * waits for D1 or for another request's delivery (invariant 2).
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { closeForClientMessage, LIVE_PING, LIVE_PONG } from "../../domain/live";
import type { Env } from "../../env";
import { recordAttempt } from "../attempts";
import { OutboxPump, queueOut } from "../outbox";
import {
  type BookingProjection,
  CancelInput,
  type CancelResult,
  ConfirmInput,
  type ConfirmResult,
  HoldForPaymentInput,
  type HoldForPaymentResult,
  IdempotencyClaim,
  JoinWaitlistInput,
  LIVE_CLIENT_HEADER,
  LIVE_SNAPSHOT_HEADER,
  type RecordedOutcome,
  ReduceSeatsInput,
  type ReduceSeatsResult,
  ReserveInput,
  type ReserveResult,
  SessionSnapshot,
  type WaitlistEntryView,
  type WaitlistResult,
} from "../session-contract";
import { nextAlarmAt, settleExpiredHolds } from "./alarm";
import { lookUpKey, purgeKeys, recordedOutcome, recordKey, type Replayed } from "./idempotency";
import { availabilityNow, lineOfBooking, refuseConfirm, reservationById, toReservation } from "./ledger";
import { fullnessNow, queueFullnessChange } from "./fullness";
import { answerClose, LiveFeed } from "./live-feed";
import { keepHoldForPayment } from "./payment-holds";
import { reconfigureSession } from "./reconfigure";
import { decideReservation } from "./reserve";
import { reduceLineSeats, reduceSeatsClaim, replayedReduction } from "./reduce-seats";
import { type LedgerEntry, ledgerEntries, pendingOutbox, resendLines, retireUnused, staleHolds, staleOutboxEntries } from "./reconciliation";
import { cancelLine, confirmHold, endHold } from "./seat-changes";
import { cancellationState, cancelSession } from "./session-cancellation";
import { CancelSessionInput, type CancelSessionResult, type SessionCancellationState } from "../session-cancellation-contract";
import { adoptSnapshot, migrateSessionStorage, readConfig, type ReservationRow, withConfigCopy } from "./storage";
import { closeUnservableEntries, entryView, remindExpiringOffers, waitlistLength, waitlistRow, wholeWaitlist } from "./waitlist-line";
import { confirmEntry, declineOffer, joinLine, leaveLine, offerNow } from "./waitlist-changes";

export class SessionDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly outbox: OutboxPump;
  private live!: LiveFeed;
  /** When the alarm is set for, as far as this instance knows (null: unknown or none). */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outbox = new OutboxPump(this.sql, env, (level, msg, fields) => this.log(level, msg, fields));
    // Answered by the runtime, so idle subscribers never wake a hibernating object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(LIVE_PING, LIVE_PONG));
    ctx.blockConcurrencyWhile(async () => {
      migrateSessionStorage(this.sql);
      this.live = new LiveFeed(ctx, env);
      this.alarmAt = await ctx.storage.getAlarm();
      this.scheduleAlarm();
    });
  }

  // ---- seats ---------------------------------------------------------------------------------

  /** Holds seats (with an expiry) or books them outright, or says why not; a keyed repeat replays. */
  async reserve(raw: ReserveInput): Promise<ReserveResult> {
    const input = ReserveInput.parse(raw);
    if (input.mode === "book" && !input.booking) throw new Error("reserve: a booking is required to book");
    return this.keyedWrite<ReserveResult>(input.idempotency, (now) => {
      adoptSnapshot(this.sql, input.snapshot);
      const outcome = decideReservation(this.sql, input, now);
      const fresh = !outcome.ok || outcome.created;
      if (fresh && input.audit) recordAttempt(this.sql, input.audit, outcome.ok ? undefined : outcome, now);
      if (outcome.ok && outcome.created) this.queueNotifications(input.onSuccess?.notifications, now);
      return { result: outcome, recorded: fresh ? recordedOutcome(outcome, input.onSuccess?.response) : null };
    });
  }

  /** Turns a hold into a confirmed booking line; idempotent for the same booking. */
  async confirm(raw: ConfirmInput): Promise<ConfirmResult> {
    const input = ConfirmInput.parse(raw);
    return this.keyedWrite<ConfirmResult>(input.idempotency, (now) => {
      const row = reservationById(this.sql, input.holdId);
      const refusal = refuseConfirm(row, input.holdId, input.booking.id, input);
      if (refusal) {
        if (input.audit) recordAttempt(this.sql, input.audit, refusal, now);
        return { result: { ok: false, ...refusal }, recorded: recordedOutcome({ ok: false, ...refusal }) };
      }
      const fresh = row!.status === "held";
      if (fresh) {
        confirmHold(this.sql, row!, input.booking, now);
        if (input.audit) recordAttempt(this.sql, input.audit, undefined, now);
        this.queueNotifications(input.onSuccess?.notifications, now);
      }
      const result: ConfirmResult = { ok: true, reservation: toReservation(reservationById(this.sql, input.holdId)!) };
      return { result, recorded: fresh ? recordedOutcome(result, input.onSuccess?.response) : null };
    });
  }

  /** Keeps a checkout hold for a booking's online payment (payment-holds.ts). Idempotent. */
  async holdForPayment(raw: HoldForPaymentInput): Promise<HoldForPaymentResult> {
    const input = HoldForPaymentInput.parse(raw);
    return this.keyedWrite<HoldForPaymentResult>(input.idempotency, (now) => {
      const kept = keepHoldForPayment(this.sql, input, now);
      if (input.audit) recordAttempt(this.sql, input.audit, kept.ok ? undefined : kept, now);
      return { result: kept, recorded: recordedOutcome(kept, input.onSuccess?.response) };
    });
  }

  /** Lets a hold go (a failed multi-session booking, an abandoned checkout). Idempotent. */
  async release(reservationId: string): Promise<void> {
    this.write((now) => {
      const row = reservationById(this.sql, reservationId);
      if (row?.status === "held") endHold(this.sql, row, "released", now);
    });
  }

  /**
   * Cancels a booking's line here, freeing its seats at once. Idempotent. A hold committed to this
   * booking but not confirmed here yet (its coordinator died) is cancelled too, so the alarm cannot
   * confirm it after the booking was cancelled.
   */
  async cancel(raw: CancelInput): Promise<CancelResult | Replayed> {
    const input = CancelInput.parse(raw);
    return this.keyedWrite<CancelResult>(input.idempotency, (now) => {
      const line = lineOfBooking(this.sql, input.bookingId);
      let row: ReservationRow | undefined = line;
      if (!line) {
        const held = reservationById(this.sql, input.reservationId ?? input.bookingId);
        if (held?.status === "held") endHold(this.sql, held, "cancelled", now);
        row = held?.status === "held" ? reservationById(this.sql, held.id) : undefined;
      } else if (line.status === "confirmed") {
        cancelLine(this.sql, line, now);
        this.queueNotifications(input.notifications, now);
        row = reservationById(this.sql, line.id);
      }
      if (input.audit) recordAttempt(this.sql, input.audit, undefined, now);
      const result: CancelResult = { ok: true, reservation: row ? toReservation(row) : null, availability: availabilityNow(this.sql) };
      return { result, recorded: input.onSuccess?.response === undefined ? null : { ok: true, response: input.onSuccess.response } };
    });
  }

  /** The studio cancels the whole session: lines, holds and waitlist, with the Worker's refund plan (session-cancellation.ts). Idempotent. */
  async cancelSession(raw: CancelSessionInput): Promise<CancelSessionResult> {
    const input = CancelSessionInput.parse(raw);
    return this.write((now) => cancelSession(this.sql, input, now));
  }

  /** The cancellation's record, or the confirmed lines a cancellation plan must cover (a read). */
  async cancellationState(): Promise<SessionCancellationState> {
    return cancellationState(this.sql);
  }

  /** Gives back some seats of a confirmed line before the session starts (a group participant removed). */
  async reduceSeats(raw: ReduceSeatsInput): Promise<ReduceSeatsResult> {
    const input = ReduceSeatsInput.parse(raw);
    const answer = this.keyedWrite<ReduceSeatsResult>(reduceSeatsClaim(input), (now) => {
      const result = reduceLineSeats(this.sql, input, now);
      return { result, recorded: result.ok ? { ok: true, response: "" } : null };
    });
    return "replayed" in answer && answer.replayed ? replayedReduction(this.sql, input, answer) : (answer as ReduceSeatsResult);
  }

  /** What a keyed write answered, if this object recorded one for the key (a read: nothing is written). */
  async recordedOutcome(claim: IdempotencyClaim): Promise<Replayed | null> {
    const found = lookUpKey(this.sql, IdempotencyClaim.parse(claim), Date.now());
    if (!found.found) return null;
    return found.reused ? { ok: false, replayed: "reused" } : { ok: false, replayed: true, outcome: found.outcome };
  }

  /** A booking's line here as the DO committed it (for reads before D1 has caught up), or null. */
  async bookingLine(bookingId: string): Promise<{ booking: BookingProjection; seats: number; status: string; email: string; updatedAt: number } | null> {
    const row = lineOfBooking(this.sql, bookingId);
    if (!row?.booking) return null;
    return { booking: JSON.parse(row.booking) as BookingProjection, seats: row.seats, status: row.status, email: row.email, updatedAt: row.updated_at };
  }

  /** Seats and resources left; adopts the snapshot first when it is newer than what the DO has. */
  async availability(snapshot?: SessionSnapshot) {
    if (snapshot) {
      const parsed = SessionSnapshot.parse(snapshot);
      this.ctx.storage.transactionSync(() => adoptSnapshot(this.sql, parsed));
    }
    return { ...availabilityNow(this.sql), version: readConfig(this.sql)?.version ?? 0, waitlistLength: waitlistLength(this.sql) };
  }

  /** An admin change of capacity or cancellation, refused below the seats already booked or held. */
  async reconfigure(snapshot: SessionSnapshot) {
    const parsed = SessionSnapshot.parse(snapshot);
    return this.write((now) => reconfigureSession(this.sql, parsed, now));
  }

  /** Closes the session for good before it is deleted: refused while it has ever had reservations, a line, or undelivered changes. */
  async retire(): Promise<{ ok: true } | { ok: false; reservations: number; pendingOutbox: number; waitlistEntries: number }> {
    return this.ctx.storage.transactionSync(() => retireUnused(this.sql));
  }

  // ---- reconciliation and tests ----------------------------------------------------------------

  /** The booking lines this DO holds, with when each last changed and the version sent to D1, for reconciliation. */
  async ledgerEntries(): Promise<LedgerEntry[]> {
    return ledgerEntries(this.sql);
  }

  /**
   * Sends these bookings' lines to D1 again as they stand here, under a new version (so they
   * overwrite whatever D1 has): reconciliation's repair for drift outliving every delivery retry.
   * Returns how many lines were queued.
   */
  async resendLines(bookingIds: string[]): Promise<number> {
    const ids = z.array(z.string().min(1)).max(500).parse(bookingIds);
    return this.write((now) => resendLines(this.sql, ids, now));
  }

  /** Outbox entries not yet sent to their Queues. */
  async pendingOutbox(): Promise<number> {
    return pendingOutbox(this.sql);
  }

  /** Outbox entries not sent for longer than OUTBOX_DEADLINE_MS. */
  async staleOutboxEntries(now: number): Promise<number> {
    return staleOutboxEntries(this.sql, now);
  }

  /** Holds still held `overdueMs` after they expired: the alarm should have settled them (drift). */
  async staleHolds(now: number, overdueMs: number): Promise<number> {
    return staleHolds(this.sql, now, overdueMs);
  }

  // ---- waitlist ------------------------------------------------------------------------------

  /** Puts a party in line, or returns the email's entry; refused while the party fits now, or never could. */
  async joinWaitlist(raw: JoinWaitlistInput): Promise<WaitlistResult> {
    const input = JoinWaitlistInput.parse(raw);
    return this.write((now) => {
      adoptSnapshot(this.sql, input.snapshot);
      return joinLine(this.sql, input, now);
    });
  }

  /** Takes an entry out of line (the customer left, or staff removed it); an open offer's seats go to the next. */
  async leaveWaitlist(entryId: string, by: "customer" | "staff"): Promise<WaitlistResult> {
    return this.write((now) => leaveLine(this.sql, entryId, by, now));
  }

  /** The party proved its email: it takes its place in line (and may get an offer at once). */
  async confirmWaitlistEntry(entryId: string): Promise<WaitlistResult> {
    return this.write((now) => confirmEntry(this.sql, entryId, now));
  }

  /** Staff: offer seats to this entry now, if its party fits. */
  async offerNow(entryId: string): Promise<WaitlistResult> {
    return this.write((now) => offerNow(this.sql, entryId, now));
  }

  /** The customer declines their offer (only the current one): its seats go to the next in line. */
  async declineOffer(entryId: string, offerNumber: number): Promise<WaitlistResult> {
    return this.write((now) => declineOffer(this.sql, entryId, offerNumber, now));
  }

  async waitlistEntry(entryId: string): Promise<WaitlistEntryView | null> {
    const row = waitlistRow(this.sql, entryId);
    return row ? entryView(this.sql, row) : null;
  }

  async waitlist(): Promise<WaitlistEntryView[]> {
    return wholeWaitlist(this.sql);
  }

  // ---- live capacity (WebSocket hibernation API) --------------------------------------------

  /** Accepts a live subscriber (GET /api/v1/sessions/{id}/live, after the route checked the upgrade, Origin and session). */
  override async fetch(request: Request): Promise<Response> {
    const snapshot = SessionSnapshot.parse(JSON.parse(request.headers.get(LIVE_SNAPSHOT_HEADER) ?? "null"));
    this.ctx.storage.transactionSync(() => adoptSnapshot(this.sql, snapshot));
    return this.live.accept(request.headers.get(LIVE_CLIENT_HEADER) ?? "unknown");
  }

  /** Subscribers only listen: any message but "ping" closes the socket (1008, or 1009 when too big). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const close = closeForClientMessage(message);
    if (close) ws.close(close.code, close.reason);
    else ws.send(LIVE_PONG);
  }

  /** Completes the closing handshake a subscriber started (a no-op where the runtime already replied). */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    answerClose(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    this.log("warn", "live subscriber socket failed", { error: String(error) });
  }

  // ---- alarm ---------------------------------------------------------------------------------

  /** Settles expired holds, reminds and closes waitlist entries (unconfirmed ones too), retries the outbox, purges old keys. Safe to run twice. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await settleExpiredHolds(this.ctx, this.env, (level, msg, fields) => this.log(level, msg, fields));
    this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      remindExpiringOffers(this.sql, now);
      closeUnservableEntries(this.sql, now);
      purgeKeys(this.sql, now);
    });
    this.live.broadcast();
    await this.outbox.sendDue();
    this.scheduleAlarm();
  }

  // ---- the write path ------------------------------------------------------------------------

  /**
   * Runs one write: replays a keyed repeat, otherwise runs `change` in one transaction and keeps its
   * outcome under the key in that same transaction; then, after commit, the live feed, the alarm
   * and the outbox pump. Returns the change's result (or the replay).
   */
  private keyedWrite<T>(claim: IdempotencyClaim | undefined, change: (now: number) => { result: T; recorded: RecordedOutcome | null }): T | Replayed {
    const now = Date.now();
    const result = this.transaction((): T | Replayed => {
      if (claim) {
        const found = lookUpKey(this.sql, claim, now);
        if (found.found) return found.reused ? { ok: false, replayed: "reused" } : { ok: false, replayed: true, outcome: found.outcome };
      }
      const { result, recorded } = change(now);
      if (claim && recorded) recordKey(this.sql, claim, "", recorded.ok ? { ...recorded, origin: claim.origin } : recorded, now);
      return result;
    });
    this.afterCommit();
    return result;
  }

  /** Runs one unkeyed write in a transaction, then what follows a commit. */
  private write<T>(change: (now: number) => T): T {
    const result = this.transaction(() => change(Date.now()));
    this.afterCommit();
    return result;
  }

  /**
   * One transaction, reading the config row once (the copy ends with it, committed or rolled back);
   * a write that fills the session or reopens it queues SESSION_FULL / SESSION_REOPENED with it.
   */
  private transaction<T>(run: () => T): T {
    return withConfigCopy(this.sql, () =>
      this.ctx.storage.transactionSync(() => {
        const before = fullnessNow(this.sql);
        const result = run();
        queueFullnessChange(this.sql, before, Date.now());
        return result;
      }),
    );
  }

  private afterCommit(): void {
    this.live.broadcast();
    this.scheduleAlarm();
    this.outbox.pump();
  }

  private queueNotifications(requests: { id: string; kind: string }[] | undefined, now: number): void {
    for (const request of requests ?? []) queueOut(this.sql, { kind: "notice", change: { at: now, offer: null, request: request as never } }, now);
  }

  /**
   * The alarm goes off at the next hold expiry, offer reminder, outbox retry, waitlist closing
   * before the start or key expiry, whichever is first. Set only when that is sooner than the alarm
   * already set (an early alarm finds nothing and sets the next), so most writes set nothing.
   */
  private scheduleAlarm(): void {
    const at = nextAlarmAt(this.sql);
    if (at === null || (this.alarmAt !== null && this.alarmAt <= at)) return;
    const alarmAt = Math.max(at, Date.now());
    this.alarmAt = alarmAt;
    this.ctx.storage.setAlarm(alarmAt).catch((error) => {
      // Not set: the next write sets it again.
      if (this.alarmAt === alarmAt) this.alarmAt = null;
      this.log("warn", "could not set the alarm", { error: String(error) });
    });
  }

  private log(level: "info" | "warn", msg: string, fields: Record<string, unknown>): void {
    console.log(JSON.stringify({ level, msg, sessionId: readConfig(this.sql)?.session_id, ...fields }));
  }
}

