/**
 * The record of notifications (`booking_communications`): one row per notification request, keyed
 * by the request's id, moving pending → sent, or pending → failed when it is dead-lettered. The
 * notifications consumer claims a row before sending, so two deliveries of one request never send
 * at the same time, and a request already sent or failed is never sent again.
 */
import { and, asc, eq, gt, inArray, ne, or, type SQL, sql } from "drizzle-orm";
import { chunkByParameters, D1_MAX_BOUND_PARAMETERS, presentValues } from "../db/chunks";
import type { Db } from "../db/client";
import { bookingCommunications, undeliverableAddresses } from "../db/schema";
import { type DomainEvent, domainEvent, type EventType } from "../domain/events";
import type { Env } from "../env";
import { raiseAlert } from "./alerts";
import { emitEvents } from "./events";
import type { NotificationRequest } from "./notifications";

export type Communication = typeof bookingCommunications.$inferSelect;

/** What is kept of a rendered message (link tokens already masked). */
export interface StoredMessage {
  subject: string;
  content: string;
  template: string;
  templateVersion: number;
}

/** Longest error text kept on a row; provider errors can be whole HTML pages. */
const MAX_ERROR_LENGTH = 1000;
const clip = (error: string) => (error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error);

/** The columns every row takes from its request. */
function fromRequest(request: NotificationRequest) {
  return {
    id: request.id,
    bookingId: request.bookingId ?? null,
    waitlistEntryId: request.waitlistEntryId ?? null,
    sessionId: request.sessionId ?? null,
    classId: request.classId ?? null,
    recipientEmail: request.recipient.email.toLowerCase(),
    type: request.kind,
    channel: request.channel ?? "email",
    requestedAt: new Date(request.requestedAt),
    sentBy: request.sentBy ?? null,
  };
}

/** A row another delivery may claim: still pending, and nobody's lease running at `now`. */
function claimable(now: Date): SQL {
  return sql`${bookingCommunications.status} = 'pending' AND (${bookingCommunications.claimedUntil} IS NULL OR ${bookingCommunications.claimedUntil} <= ${now.getTime()})`;
}

export type Claim = { claimed: true; attempts: number } | { claimed: false; status: Communication["status"]; claimedUntil: Date | null };

/**
 * Takes the right to send a request for `leaseMs`: creates its row, or, if it is still pending and
 * nobody else holds it, counts one more attempt and refreshes the message. Refused (with the row's
 * state) when the request was already sent, failed, or is being sent by another delivery right now.
 */
export async function claimForSending(db: Db, request: NotificationRequest, message: StoredMessage, now: Date, leaseMs: number): Promise<Claim> {
  const claimedUntil = new Date(now.getTime() + leaseMs);
  const [row] = await db
    .insert(bookingCommunications)
    .values({ ...fromRequest(request), ...message, status: "pending", attempts: 1, claimedUntil, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: bookingCommunications.id,
      set: { ...message, attempts: sql`${bookingCommunications.attempts} + 1`, claimedUntil, updatedAt: now },
      setWhere: claimable(now),
    })
    .returning({ attempts: bookingCommunications.attempts });
  if (row) return { claimed: true, attempts: row.attempts };
  const existing = await findCommunication(db, request.id);
  // A row that vanished between the two statements cannot happen (rows are never deleted).
  return { claimed: false, status: existing?.status ?? "pending", claimedUntil: existing?.claimedUntil ?? null };
}

/**
 * `claimForSending` for many requests in one D1 transaction (the consumer's batch): the same
 * upsert, as multi-row statements. Answers each request's claim by id; throws when the claims fail
 * (nothing claimed: the caller then delivers one by one). The rows a refused claim left alone are
 * read afterwards; if that read fails they are answered as pending without a lease (retried soon).
 */
export async function claimAllForSending(db: Db, items: { request: NotificationRequest; message: StoredMessage }[], now: Date, leaseMs: number): Promise<Map<string, Claim>> {
  const claimedUntil = new Date(now.getTime() + leaseMs);
  const rows = items.map(({ request, message }) => presentValues({ ...fromRequest(request), ...message, status: "pending" as const, attempts: 1, claimedUntil, createdAt: now, updatedAt: now }));
  const statements = chunkByParameters(rows, D1_MAX_BOUND_PARAMETERS - 1).map((chunk) =>
    db
      .insert(bookingCommunications)
      .values(chunk as (typeof bookingCommunications.$inferInsert)[])
      .onConflictDoUpdate({
        target: bookingCommunications.id,
        set: {
          subject: sql`excluded.subject`,
          content: sql`excluded.content`,
          template: sql`excluded.template`,
          templateVersion: sql`excluded.template_version`,
          attempts: sql`${bookingCommunications.attempts} + 1`,
          claimedUntil: sql`excluded.claimed_until`,
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: claimable(now),
      })
      .returning({ id: bookingCommunications.id, attempts: bookingCommunications.attempts }),
  );
  const claims = new Map<string, Claim>();
  if (statements.length === 0) return claims;
  const [first, ...rest] = statements;
  for (const returned of await db.batch([first!, ...rest])) for (const row of returned) claims.set(row.id, { claimed: true, attempts: row.attempts });
  const refused = items.map((item) => item.request.id).filter((id) => !claims.has(id));
  try {
    for (const ids of chunkIds(refused)) {
      const existing = await db
        .select({ id: bookingCommunications.id, status: bookingCommunications.status, claimedUntil: bookingCommunications.claimedUntil })
        .from(bookingCommunications)
        .where(inArray(bookingCommunications.id, ids));
      for (const row of existing) claims.set(row.id, { claimed: false, status: row.status, claimedUntil: row.claimedUntil });
    }
  } catch {
    // The claims stand; the refused ones are looked at again in a moment (as pending, no lease known).
  }
  // Not read (or, impossibly, vanished: rows are never deleted): pending, looked at again shortly.
  for (const id of refused) if (!claims.has(id)) claims.set(id, { claimed: false, status: "pending", claimedUntil: null });
  return claims;
}

/** Ids in groups that fit one statement's parameters. */
export function chunkIds(ids: string[], size = D1_MAX_BOUND_PARAMETERS - 10): string[][] {
  const chunks: string[][] = [];
  for (let start = 0; start < ids.length; start += size) chunks.push(ids.slice(start, start + size));
  return chunks;
}

/**
 * Marks a message sent by `provider`. Idempotent; a row marked failed by a racing dead letter is
 * corrected, since the message did go out.
 */
export async function markSent(db: Db, id: string, sent: { provider: string; providerMessageId: string; now: Date }): Promise<void> {
  await markSentStatement(db, [id], sent);
}

/** The update `markSent` runs, for up to `chunkIds`' many rows, for a provider that batches it with its own delivery write. */
export function markSentStatement(db: Db, ids: string[], sent: { provider: string; providerMessageId: string | SQL; now: Date }) {
  return db
    .update(bookingCommunications)
    .set({
      status: "sent",
      provider: sent.provider,
      providerMessageId: sent.providerMessageId,
      sentAt: sent.now,
      failedAt: null,
      claimedUntil: null,
      updatedAt: sent.now,
    })
    .where(and(inArray(bookingCommunications.id, ids), ne(bookingCommunications.status, "sent")));
}

/** Notes a failed send attempt and releases the claim, so the retry can claim it again. */
export async function recordSendFailure(db: Db, id: string, error: string, now: Date): Promise<void> {
  await db
    .update(bookingCommunications)
    .set({ lastError: clip(error), claimedUntil: null, updatedAt: now })
    .where(and(eq(bookingCommunications.id, id), eq(bookingCommunications.status, "pending")));
}

/**
 * Marks a request failed for good, creating its row if it never got one. `error` replaces the last
 * error; without one the last send error is kept. True if this call made it failed (false when it
 * was already failed or sent), so the caller reports each failure once.
 */
export async function markFailed(db: Db, request: NotificationRequest, failure: { error: string | null; now: Date }): Promise<boolean> {
  const { now } = failure;
  const error = failure.error === null ? null : clip(failure.error);
  const [row] = await db
    .insert(bookingCommunications)
    .values({
      ...fromRequest(request),
      status: "failed",
      lastError: error ?? "Dead-lettered before any send attempt",
      failedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: bookingCommunications.id,
      set: {
        status: "failed",
        failedAt: now,
        claimedUntil: null,
        updatedAt: now,
        lastError: error ?? sql`coalesce(${bookingCommunications.lastError}, excluded.last_error)`,
      },
      setWhere: sql`${bookingCommunications.status} = 'pending'`,
    })
    .returning({ id: bookingCommunications.id });
  return row !== undefined;
}

/** One communication by id (the notification request's id). */
export function findCommunication(db: Db, id: string): Promise<Communication | undefined> {
  return db.query.bookingCommunications.findFirst({ where: eq(bookingCommunications.id, id) });
}

/** A booking's communications in the order they were requested, after the keyset `after`. */
export function communicationsForBooking(db: Db, bookingId: string, page: { limit: number; after?: { requestedAt: Date; id: string } }) {
  const { after } = page;
  return db
    .select()
    .from(bookingCommunications)
    .where(
      and(
        eq(bookingCommunications.bookingId, bookingId),
        after
          ? or(gt(bookingCommunications.requestedAt, after.requestedAt), and(eq(bookingCommunications.requestedAt, after.requestedAt), gt(bookingCommunications.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(asc(bookingCommunications.requestedAt), asc(bookingCommunications.id))
    .limit(page.limit);
}

/**
 * A notification event. Its id comes from the request's, so a request reported twice (a redelivery
 * in the at-least-once window) is one event.
 */
export function notificationEvent(type: Extract<EventType, "NOTIFICATION_SENT" | "NOTIFICATION_FAILED">, request: NotificationRequest, more: Pick<DomainEvent, "code" | "data">): DomainEvent {
  return {
    ...domainEvent(type, {
      bookingId: request.bookingId ?? null,
      sessionId: request.sessionId ?? null,
      classId: request.classId ?? null,
      email: request.recipient.email.toLowerCase(),
      code: more.code ?? null,
      data: { kind: request.kind, requestId: request.id, channel: request.channel ?? "email", ...more.data },
    }),
    id: `evt_${type === "NOTIFICATION_SENT" ? "ntfsent" : "ntffail"}_${request.id}`,
  };
}

/** Why a notification was given up on. */
export type FailureCode = "INVALID_DATA" | "REJECTED_BY_PROVIDER" | "RETRIES_EXHAUSTED" | "UNDELIVERABLE";

/** Raised while messages wait because no provider is configured (NOTIFICATION_PROVIDER none). */
export const PROVIDER_MISSING_ALERT = "NOTIFICATION_PROVIDER_MISSING";

/**
 * No provider is configured: the message is kept pending (its row says why), and one open alert
 * counts how many wait. Nothing is marked sent; the queue retries the request, and once its
 * retries are used up the dead-letter consumer marks it failed.
 */
export async function holdWithoutProvider(db: Db, request: NotificationRequest, message: StoredMessage, now: Date): Promise<void> {
  const reason = "No notification provider is configured (NOTIFICATION_PROVIDER): the message was not sent";
  await db
    .insert(bookingCommunications)
    .values({ ...fromRequest(request), ...message, status: "pending", attempts: 0, lastError: reason, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: bookingCommunications.id, set: { lastError: reason, updatedAt: now }, setWhere: sql`${bookingCommunications.status} = 'pending'` });
  await raiseAlert(db, {
    type: PROVIDER_MISSING_ALERT,
    severity: "critical",
    subjectKey: "notifications:provider",
    title: "Notifications are not being sent: no provider is configured",
    details: { setting: "NOTIFICATION_PROVIDER", requestId: request.id, kind: request.kind },
    now,
  });
}

/** Whether a provider reported this address undeliverable (a hard bounce, a complaint). */
/** Which of `emails` (lower case) are undeliverable, in as few reads as the parameter limit allows. */
export async function undeliverableAmong(db: Db, emails: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const group of chunkIds([...new Set(emails)])) {
    const rows = await db.select({ email: undeliverableAddresses.email }).from(undeliverableAddresses).where(inArray(undeliverableAddresses.email, group));
    for (const row of rows) found.add(row.email);
  }
  return found;
}

export async function isUndeliverable(db: Db, email: string): Promise<boolean> {
  const [row] = await db.select({ email: undeliverableAddresses.email }).from(undeliverableAddresses).where(eq(undeliverableAddresses.email, email.toLowerCase()));
  return row !== undefined;
}

export const DEAD_LETTER_ALERT = "NOTIFICATION_DEAD_LETTERED";

/**
 * Gives up on a request: marks it failed, and the first time only, records NOTIFICATION_FAILED and
 * raises an admin alert. One open alert per kind counts the failures (a provider outage is one
 * alert, not hundreds); the failed rows say which bookings they were about.
 */
export async function deadLetterNotification(
  env: Pick<Env, "EVENTS">,
  db: Db,
  request: NotificationRequest,
  failure: { code: FailureCode; error: string | null; now: Date },
): Promise<boolean> {
  const firstTime = await markFailed(db, request, { error: failure.error, now: failure.now });
  if (!firstTime) return false;
  const row = await findCommunication(db, request.id);
  const error = row?.lastError ?? failure.error;
  await raiseAlert(db, {
    type: DEAD_LETTER_ALERT,
    severity: "warning",
    subjectKey: `notifications:${request.kind}`,
    title: `A ${request.kind} notification could not be delivered`,
    details: {
      requestId: request.id,
      kind: request.kind,
      code: failure.code,
      error,
      bookingId: request.bookingId ?? null,
      waitlistEntryId: request.waitlistEntryId ?? null,
      attempts: row?.attempts ?? 0,
    },
    now: failure.now,
  });
  await emitEvents(env, [notificationEvent("NOTIFICATION_FAILED", request, { code: failure.code, data: { error, attempts: row?.attempts ?? 0 } })]);
  return true;
}

/** A queue message that is not a notification request at all: nothing to record, so alert and log. */
export async function reportUnreadableRequest(db: Db, message: { id: string; body: unknown }, problem: string, now: Date): Promise<void> {
  const body = message.body as { id?: unknown; kind?: unknown } | null;
  const requestId = typeof body?.id === "string" ? body.id.slice(0, 200) : null;
  console.error(JSON.stringify({ level: "error", msg: "unreadable notification request", messageId: message.id, requestId, problem }));
  await raiseAlert(db, {
    type: DEAD_LETTER_ALERT,
    severity: "warning",
    subjectKey: "notifications:unreadable",
    title: "A notification request could not be read",
    details: { messageId: message.id, requestId, kind: typeof body?.kind === "string" ? body.kind.slice(0, 50) : null, error: clip(problem) },
    now,
  });
}
