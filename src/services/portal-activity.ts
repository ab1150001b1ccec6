/**
 * The rest of the customer portal: the person's waitlist entries, notify-me registrations and the
 * messages sent to them. Like the bookings (src/services/portal.ts), every list is found by the
 * principal's email alone, and a cursor names the list it came from, so another list's cursor is
 * refused and a cursor passed to someone else only pages through that someone's own rows.
 */
import { configOf } from "../config";
import type { Db } from "../db/client";
import { type After, communicationPage, interestPage, waitlistPage } from "../db/portal-queries";
import type { WaitlistEntryView } from "../durable-objects/session-contract";
import type { Env, Principal } from "../env";
import { decodeCursor, toPage } from "../lib/pagination";
import { notThisList, portalEmail } from "./portal";
import { sessionObject } from "./session-client";
import { entryToken } from "./waitlist";

export interface ListQuery {
  limit: number;
  cursor?: string;
}

type ListName = "waitlist" | "interests" | "communications";

/** The position a cursor of `list` names; anything else is a 400. */
function cursorOf(list: ListName, cursor: string | undefined): After | undefined {
  if (cursor === undefined) return undefined;
  const [name, at, id] = decodeCursor(cursor, 3);
  if (name !== list || typeof at !== "number" || !Number.isSafeInteger(at) || typeof id !== "string") throw notThisList("cursor");
  return { at, id };
}

/** Statuses of an entry still in line: the session's object knows its position and offer. */
const IN_LINE = new Set(["waiting", "offered"]);

/**
 * GET /me/waitlist: the person's entries, newest first. For an entry still in line, its position,
 * whether its email is confirmed and its open offer come from the session's object, which alone
 * keeps the line (D1 has only the projection); such an entry also carries its token, the one
 * joining gives the signed-in owner, so the person can leave the list. If an object cannot be
 * asked, the entry is listed as D1 has it, without position.
 */
export async function portalWaitlist(env: Env, db: Db, principal: Principal | undefined, query: ListQuery) {
  const email = portalEmail(principal);
  const rows = await waitlistPage(db, email, cursorOf("waitlist", query.cursor), query.limit);
  const { data: page, nextCursor } = toPage(rows, query.limit, (row) => ["waitlist", row.entry.joinedAt.getTime(), row.entry.id]);
  const secret = configOf(env).jwtSecret;
  const data = await Promise.all(
    page.map(async ({ entry, session, class: klass, studio }) => {
      const live = IN_LINE.has(entry.status) ? await liveEntry(env, entry.sessionId, entry.id, email) : null;
      const status = live?.status ?? entry.status;
      const offerExpiresAt = status !== "offered" ? null : live ? (live.offer?.expiresAt ?? null) : (entry.offerExpiresAt?.getTime() ?? null);
      const inLine = IN_LINE.has(status);
      return {
        id: entry.id,
        sessionId: entry.sessionId,
        class: klass,
        studio,
        session: { startsAt: session.startsAt.toISOString(), endsAt: session.endsAt.toISOString(), status: session.status },
        guestCount: live?.guestCount ?? entry.guestCount,
        status,
        confirmed: live ? live.confirmed : null,
        position: live?.position ?? null,
        offerExpiresAt: offerExpiresAt === null ? null : new Date(offerExpiresAt).toISOString(),
        bookingId: live?.bookingId ?? entry.bookingId,
        joinedAt: entry.joinedAt.toISOString(),
        token: inLine ? await entryToken(secret, entry.id) : null,
        leavePath: inLine ? `/api/v1/sessions/${entry.sessionId}/waitlist/me` : null,
      };
    }),
  );
  return { data, nextCursor };
}

/** The entry as its session's object has it now, if it is the person's; null when it cannot say. */
async function liveEntry(env: Env, sessionId: string, entryId: string, email: string): Promise<WaitlistEntryView | null> {
  try {
    const entry = await sessionObject(env, sessionId).waitlistEntry(entryId);
    return entry && entry.email.toLowerCase() === email ? entry : null;
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "portal could not read a waitlist entry from its session", sessionId, entryId, error: String(error) }));
    return null;
  }
}

/** GET /me/interests: the courses the person asked to hear about (notify me), newest first. */
export async function portalInterests(db: Db, principal: Principal | undefined, query: ListQuery) {
  const email = portalEmail(principal);
  const rows = await interestPage(db, email, cursorOf("interests", query.cursor), query.limit);
  const { data, nextCursor } = toPage(rows, query.limit, (row) => ["interests", row.interest.createdAt.getTime(), row.interest.id]);
  return {
    data: data.map(({ interest, class: klass, city }) => ({
      id: interest.id,
      course: klass,
      city: interest.cityKey === "" ? null : (city ?? { id: interest.cityKey, name: null }),
      registeredAt: interest.createdAt.toISOString(),
      notifiedAt: interest.notifiedAt?.toISOString() ?? null,
      notifiedSessionId: interest.notifiedSessionId,
    })),
    nextCursor,
  };
}

/**
 * GET /me/communications: the messages addressed to the person, newest first, as stored: their
 * link tokens masked (src/domain/redaction.ts), so a copy here opens nothing.
 */
export async function portalCommunications(db: Db, principal: Principal | undefined, query: ListQuery) {
  const email = portalEmail(principal);
  const rows = await communicationPage(db, email, cursorOf("communications", query.cursor), query.limit);
  const { data, nextCursor } = toPage(rows, query.limit, (row) => ["communications", row.requestedAt.getTime(), row.id]);
  return {
    data: data.map((row) => ({
      ...row,
      requestedAt: row.requestedAt.toISOString(),
      sentAt: row.sentAt?.toISOString() ?? null,
      deliveredAt: row.deliveredAt?.toISOString() ?? null,
    })),
    nextCursor,
  };
}
