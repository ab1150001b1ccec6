/**
 * What a session's Durable Object owes the rest of the system, written to its outbox in the same
 * transaction as the change (DESIGN invariant 2) and delivered until acknowledged: booking lines
 * and waitlist entries to D1 (versioned upserts), events and notifications to their Queues
 * (consumers dedupe by id). Every entry carries `at`, the epoch ms of its change.
 */
import { type LineChange, projectLineChanges } from "../db/booking-projection";
import { getDb } from "../db/client";
import { projectWaitlistEntries, type WaitlistEntryChange } from "../db/waitlist-projection";
import type { Env } from "../env";
import { signedToken } from "../lib/tokens";
import type { DomainEvent } from "../services/events";
import type { NotificationRequest } from "../services/notifications";

/** A notification about a waitlist offer; its accept/decline token is signed at delivery. */
export interface OfferNotice {
  at: number;
  request: NotificationRequest;
  offer: { sessionId: string; entryId: string; number: number } | null;
}

export type OutboxEntry =
  | { kind: "line"; change: LineChange }
  | { kind: "waitlist"; change: WaitlistEntryChange }
  | { kind: "event"; change: { at: number; event: DomainEvent } }
  | { kind: "notice"; change: OfferNotice };

export const OFFER_TOKEN_PURPOSE = "waitlist-offer";

/**
 * The token in an offer's links: names the session, the entry and the offer, signed with the
 * server secret, so accepting needs no lookup outside the session's DO.
 */
export function offerToken(secret: string, offer: { sessionId: string; entryId: string; number: number }): Promise<string> {
  return signedToken(secret, OFFER_TOKEN_PURPOSE, [offer.sessionId, offer.entryId, String(offer.number)]);
}

/** Delivers entries of every kind; throws if any part was not acknowledged (the caller retries). */
export async function deliverOutboxEntries(env: Env, entries: OutboxEntry[]): Promise<void> {
  const db = getDb(env.DB);
  const changesOf = <K extends OutboxEntry["kind"]>(kind: K) =>
    entries.filter((entry): entry is Extract<OutboxEntry, { kind: K }> => entry.kind === kind).map((entry) => entry.change);

  await projectLineChanges(db, changesOf("line") as LineChange[]);
  await projectWaitlistEntries(db, changesOf("waitlist") as WaitlistEntryChange[]);
  const events = (changesOf("event") as { event: DomainEvent }[]).map(({ event }) => ({ body: event, contentType: "json" as const }));
  if (events.length > 0) await env.EVENTS.sendBatch(events);
  const notices = await Promise.all((changesOf("notice") as OfferNotice[]).map((notice) => withOfferLinks(env, notice)));
  if (notices.length > 0) await env.NOTIFICATIONS.sendBatch(notices.map((body) => ({ body, contentType: "json" as const })));
}

async function withOfferLinks(env: Env, notice: OfferNotice): Promise<NotificationRequest> {
  if (!notice.offer) return notice.request;
  const token = await offerToken(env.JWT_SECRET, notice.offer);
  return {
    ...notice.request,
    data: {
      ...notice.request.data,
      // The offer's page: shows the seats, expiry and price, and links to accept (POST …/accept) or decline.
      acceptLinkPath: `/api/v1/waitlist-offers/${token}`,
      declineLinkPath: `/api/v1/waitlist-offers/${token}/decline`,
    },
  };
}
