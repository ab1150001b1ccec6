/**
 * A Durable Object's outbox (DESIGN invariant 2): what D1 and the Queues must hear of, written in
 * the same transaction as the change, then sent to the Queues after the caller has been answered.
 * Booking lines, waitlist entries, attempts and promo redemptions go to the projection Queue (its consumer writes D1
 * in batches), events to the events Queue, notifications to theirs. No caller waits for a send: one
 * pump per object sends what is due, many entries per message batch; the alarm retries failures
 * with backoff, so an entry is delivered however often the object is evicted.
 */
import type { LineChange, ProjectionMessage, PromoRedemptionChange } from "../domain/projection";
import { type ConfigSource, configOf } from "../config";
import type { Env } from "../env";
import { signedToken } from "../lib/tokens";
import type { WaitlistEntryChange } from "../db/waitlist-projection";
import type { DomainEvent } from "../domain/events";
import { CONFIRM_TOKEN_PURPOSE, OFFER_TOKEN_PURPOSE } from "./session-contract";

export { CONFIRM_TOKEN_PURPOSE, OFFER_TOKEN_PURPOSE, OUTBOX_DEADLINE_MS } from "./session-contract";

/** A notification request as the outbox carries it (its consumer checks it against its schema). */
type NotificationRequest = { id: string; kind: string; data: Record<string, unknown>; [field: string]: unknown };

/** A notification about a waitlist offer; its accept/decline token is signed at delivery. */
export interface OfferNotice {
  at: number;
  request: NotificationRequest;
  offer: { sessionId: string; entryId: string; number: number } | null;
  /** The entry whose email the message's link confirms (WAITLIST_CONFIRM). */
  confirm?: { sessionId: string; entryId: string } | null;
}

export type AttemptChange = Extract<ProjectionMessage, { kind: "attempt" }>["change"] & { events: DomainEvent[] };

export type OutboxEntry =
  | { kind: "line"; change: LineChange }
  | { kind: "waitlist"; change: WaitlistEntryChange }
  | { kind: "attempt"; change: AttemptChange }
  | { kind: "promo"; change: PromoRedemptionChange }
  | { kind: "event"; change: { at: number; event: DomainEvent } }
  | { kind: "notice"; change: OfferNotice };

export const OUTBOX_TABLE = `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, change TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`;

/** How long a new entry is left to the pump before the alarm retries it (the pump may have died with the object). */
export const OUTBOX_GRACE_MS = 10_000;
const MAX_RETRY_DELAY_MS = 60_000;
/** Entries per send: the Queues' 100 messages per batch, and well under their 256 KB. */
const BATCH_ENTRIES = 100;
const BATCH_BYTES = 192_000;


/** Writes an entry; call inside the transaction of the change it reports. */
export function queueOut(sql: SqlStorage, entry: OutboxEntry, now = Date.now()): void {
  sql.exec(`INSERT INTO outbox (kind, change, next_attempt_at) VALUES (?, ?, ?)`, entry.kind, JSON.stringify(entry.change), now + OUTBOX_GRACE_MS);
}

type OutboxRow = { seq: number; kind: OutboxEntry["kind"]; change: string; attempts: number };

/**
 * Sends an object's outbox. `pump()` starts a send loop unless one is running (which then takes
 * the new entries too) and never throws; the caller does not wait for it. `sendDue()` is the
 * alarm's: it waits for the loop, and retries what has backed off and is due.
 */
export class OutboxPump {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Pick<Env, "PROJECTION" | "EVENTS" | "NOTIFICATIONS"> & ConfigSource,
    private readonly log: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void,
  ) {}

  /** Starts sending fresh entries (those never tried) in the background. */
  pump(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop(false).finally(() => {
      this.running = null;
    });
  }

  /** Sends everything due now, retries included; resolves when done. */
  async sendDue(): Promise<void> {
    if (this.running) await this.running;
    this.running = this.loop(true).finally(() => {
      this.running = null;
    });
    await this.running;
  }

  private async loop(includeRetries: boolean): Promise<void> {
    for (;;) {
      this.again = false;
      const rows = this.dueRows(includeRetries);
      if (rows.length > 0) {
        const sent = await this.send(rows);
        if (sent.length > 0) this.sql.exec(`DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`, JSON.stringify(sent));
        if (sent.length < rows.length) return;
        continue;
      }
      if (!this.again) return;
    }
  }

  private dueRows(includeRetries: boolean): OutboxRow[] {
    const rows = this.sql
      .exec<OutboxRow>(
        `SELECT seq, kind, change, attempts FROM outbox WHERE attempts = 0 OR (? AND next_attempt_at <= ?) ORDER BY seq LIMIT ?`,
        includeRetries ? 1 : 0,
        Date.now(),
        BATCH_ENTRIES,
      )
      .toArray();
    let bytes = 0;
    const batch: OutboxRow[] = [];
    for (const row of rows) {
      bytes += row.change.length;
      if (batch.length > 0 && bytes > BATCH_BYTES) break;
      batch.push(row);
    }
    return batch;
  }

  /** Sends a batch; on failure backs every entry of it off (the next try is the alarm's). Returns what was sent. */
  private async send(rows: OutboxRow[]): Promise<number[]> {
    try {
      await sendEntries(this.env, rows.map((row) => ({ kind: row.kind, change: JSON.parse(row.change) }) as OutboxEntry));
      return rows.map((row) => row.seq);
    } catch (error) {
      for (const row of rows) {
        const delay = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** row.attempts);
        this.sql.exec(
          `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?`,
          Date.now() + delay,
          String(error).slice(0, 500),
          row.seq,
        );
      }
      this.log("warn", "outbox send failed; the alarm will retry", { entries: rows.length, error: String(error) });
      return [];
    }
  }
}

/** Sends entries of every kind to their Queues; throws unless every Queue took its part. */
async function sendEntries(env: Pick<Env, "PROJECTION" | "EVENTS" | "NOTIFICATIONS"> & ConfigSource, entries: OutboxEntry[]): Promise<void> {
  const projection: ProjectionMessage[] = [];
  const events: DomainEvent[] = [];
  const notices: OfferNotice[] = [];
  for (const entry of entries) {
    if (entry.kind === "event") events.push(entry.change.event);
    else if (entry.kind === "notice") notices.push(entry.change);
    else projection.push(entry as ProjectionMessage);
  }
  const sends: Promise<unknown>[] = [];
  if (projection.length > 0) sends.push(env.PROJECTION.sendBatch(projection.map((body) => ({ body, contentType: "json" as const }))));
  if (events.length > 0) sends.push(env.EVENTS.sendBatch(events.map((body) => ({ body, contentType: "json" as const }))));
  if (notices.length > 0) {
    const requests = await Promise.all(notices.map((notice) => withOfferLinks(configOf(env).jwtSecret, notice)));
    sends.push(env.NOTIFICATIONS.sendBatch(requests.map((body) => ({ body: body as never, contentType: "json" as const }))));
  }
  const results = await Promise.allSettled(sends);
  const failed = results.find((result) => result.status === "rejected");
  // A redelivery of the parts that did go through is harmless: every consumer dedupes by id.
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/**
 * The token in an offer's links: names the session, the entry and the offer, signed with the
 * server secret, so accepting needs no lookup outside the session's DO.
 */
export function offerToken(secret: string, offer: { sessionId: string; entryId: string; number: number }): Promise<string> {
  return signedToken(secret, OFFER_TOKEN_PURPOSE, [offer.sessionId, offer.entryId, String(offer.number)]);
}

/** The token in a join message's link: only the mailbox it went to can prove the email (src/services/waitlist-join.ts checks it). */
export function confirmToken(secret: string, entry: { sessionId: string; entryId: string }): Promise<string> {
  return signedToken(secret, CONFIRM_TOKEN_PURPOSE, [entry.sessionId, entry.entryId]);
}

async function withOfferLinks(secret: string, notice: OfferNotice): Promise<NotificationRequest> {
  if (notice.confirm) {
    const token = await confirmToken(secret, notice.confirm);
    // The confirmation page (src/pages/waitlist-confirm.tsx): shows the entry, and confirms it (POST) from there.
    return { ...notice.request, data: { ...notice.request.data, confirmLinkPath: `/waitlist-confirmations/${token}` } };
  }
  if (!notice.offer) return notice.request;
  const token = await offerToken(secret, notice.offer);
  return {
    ...notice.request,
    data: {
      ...notice.request.data,
      // The offer page (src/pages/offer.tsx): the seats, expiry and price, with Accept and Decline
      // buttons (the API's accept and decline are POSTs, which a link cannot make).
      acceptLinkPath: `/waitlist-offers/${token}`,
      declineLinkPath: `/waitlist-offers/${token}#offer-actions`,
    },
  };
}
