/**
 * Session reminders and follow-ups: finds the booking lines whose message is due (D1, in bounded
 * keyset pages) and queues one SESSION_REMINDER or SESSION_FOLLOW_UP request per line. When a
 * message is due is src/domain/reminders.ts; sending it once is the consumer's: the request id is
 * `reminder:<bookingId>:<sessionId>` (or `follow-up:…`) and a request id is sent once, so two runs
 * at the same time, or a run repeated after a crash, send nothing twice. A line whose message was
 * already recorded (booking_communications) is not even queued again.
 *
 * Never for a cancelled booking line, a cancelled booking or a cancelled session; never a reminder
 * once the session has started. A run that missed its slot (the cron was down) still sends what is
 * due, until the session starts (reminders) or the grace runs out (follow-ups).
 */
import { and, asc, eq, gt, lte, notExists, type SQL, sql } from "drizzle-orm";
import { configOf, type ConfigSource } from "../config";
import type { Db } from "../db/client";
import { bookingCommunications, bookings, bookingSessions, classes, classSessions, customers, manageTokenRevocations, studios } from "../db/schema";
import {
  DEFAULT_FOLLOW_UP_HOURS_AFTER,
  DEFAULT_REMINDER_HOURS_BEFORE,
  followUpNotificationId,
  followUpScanWindow,
  isFollowUpDue,
  isReminderDue,
  reminderNotificationId,
  reminderScanWindow,
} from "../domain/reminders";
import type { Env } from "../env";
import { inIdList } from "../lib/references";
import { manageTokenFor } from "../lib/tokens";
import { type NotificationRequest, queueNotifications, type TypedNotificationRequest } from "./notifications";

/** Booking lines read per page. */
export const REMINDER_PAGE_SIZE = 100;
/** Pages per kind per run: at most 2,000 messages each run, the rest on the next run 15 minutes later. */
export const MAX_REMINDER_PAGES = 20;

export interface ReminderRunResult {
  reminders: number;
  followUps: number;
  /** True when a scan stopped at MAX_REMINDER_PAGES with lines left for the next run. */
  truncated: boolean;
}

/** Queues every reminder and follow-up due at `now`. */
export async function queueDueSessionMessages(env: Pick<Env, "NOTIFICATIONS"> & ConfigSource, db: Db, now: Date): Promise<ReminderRunResult> {
  const reminders = await scan(env, db, "reminder", now);
  const followUps = await scan(env, db, "follow-up", now);
  return { reminders: reminders.queued, followUps: followUps.queued, truncated: reminders.truncated || followUps.truncated };
}

type Kind = "reminder" | "follow-up";

/** The hours a class sets, or the default, in SQL. */
const reminderHoursSql = sql`coalesce(${classes.reminderHoursBefore}, ${DEFAULT_REMINDER_HOURS_BEFORE})`;
const followUpHoursSql = sql`coalesce(${classes.followUpHoursAfter}, ${DEFAULT_FOLLOW_UP_HOURS_AFTER})`;

async function scan(env: Pick<Env, "NOTIFICATIONS"> & ConfigSource, db: Db, kind: Kind, now: Date): Promise<{ queued: number; truncated: boolean }> {
  let after: Cursor | undefined;
  let queued = 0;
  for (let page = 0; page < MAX_REMINDER_PAGES; page++) {
    const rows = await dueLines(db, kind, now.getTime(), after);
    const due = rows.filter((row) => (kind === "reminder" ? isReminderDue(lineTimes(row), now.getTime()) : isFollowUpDue(lineTimes(row), now.getTime())));
    const requests = kind === "reminder" ? await reminderRequests(env, db, due, now) : due.map((row) => followUpRequest(row, now));
    await queueNotifications(env, requests);
    queued += requests.length;
    if (rows.length < REMINDER_PAGE_SIZE) return { queued, truncated: false };
    const last = rows[rows.length - 1]!;
    after = { at: (kind === "reminder" ? last.startsAt : last.endsAt).getTime(), sessionId: last.sessionId, bookingId: last.bookingId };
  }
  return { queued, truncated: true };
}

interface Cursor {
  at: number;
  sessionId: string;
  bookingId: string;
}

/**
 * One page of confirmed lines of scheduled sessions whose message is due and not yet recorded, in
 * (time, session, booking) order after `after`. The scan is bounded by the session's start (or
 * end) through class_sessions' index; the per-class offsets are applied in SQL, so a page is all
 * due lines and the keyset pages through them.
 */
function dueLines(db: Db, kind: Kind, now: number, after: Cursor | undefined) {
  const time = kind === "reminder" ? classSessions.startsAt : classSessions.endsAt;
  let conditions: (SQL | undefined)[];
  let idOf: SQL;
  if (kind === "reminder") {
    const { startsAfter, startsUntil } = reminderScanWindow(now);
    const dueAt = sql`(${classSessions.startsAt} - ${reminderHoursSql} * 3600000)`;
    conditions = [
      gt(classSessions.startsAt, new Date(startsAfter)),
      lte(classSessions.startsAt, new Date(startsUntil)),
      sql`${reminderHoursSql} > 0`,
      sql`${dueAt} <= ${now}`,
      sql`${bookings.confirmedAt} <= ${dueAt}`,
    ];
    idOf = sql`'reminder:' || ${bookingSessions.bookingId} || ':' || ${bookingSessions.sessionId}`;
  } else {
    const { endsAfter, endsUntil } = followUpScanWindow(now);
    const dueAt = sql`(${classSessions.endsAt} + ${followUpHoursSql} * 3600000)`;
    conditions = [
      gt(classSessions.endsAt, new Date(endsAfter)),
      lte(classSessions.endsAt, new Date(endsUntil)),
      sql`${followUpHoursSql} > 0`,
      sql`${dueAt} <= ${now}`,
    ];
    idOf = sql`'follow-up:' || ${bookingSessions.bookingId} || ':' || ${bookingSessions.sessionId}`;
  }
  return db
    .select({
      bookingId: bookingSessions.bookingId,
      sessionId: bookingSessions.sessionId,
      seats: bookingSessions.seats,
      startsAt: classSessions.startsAt,
      endsAt: classSessions.endsAt,
      location: classSessions.location,
      classId: classes.id,
      className: classes.name,
      reminderHoursBefore: classes.reminderHoursBefore,
      followUpHoursAfter: classes.followUpHoursAfter,
      studioName: studios.name,
      timeZone: studios.timeZone,
      address: studios.address,
      email: customers.email,
      firstName: customers.firstName,
      lastName: customers.lastName,
      confirmedAt: bookings.confirmedAt,
    })
    .from(classSessions)
    .innerJoin(bookingSessions, and(eq(bookingSessions.sessionId, classSessions.id), eq(bookingSessions.status, "confirmed")))
    .innerJoin(bookings, and(eq(bookings.id, bookingSessions.bookingId), eq(bookings.status, "confirmed")))
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(
      and(
        eq(classSessions.status, "scheduled"),
        ...conditions,
        notExists(db.select({ one: sql`1` }).from(bookingCommunications).where(eq(bookingCommunications.id, idOf))),
        after ? sql`(${time}, ${bookingSessions.sessionId}, ${bookingSessions.bookingId}) > (${after.at}, ${after.sessionId}, ${after.bookingId})` : undefined,
      ),
    )
    .orderBy(asc(time), asc(bookingSessions.sessionId), asc(bookingSessions.bookingId))
    .limit(REMINDER_PAGE_SIZE);
}

type DueLine = Awaited<ReturnType<typeof dueLines>>[number];
/** What a message about one booking line needs to know of it. */
export type LineFacts = Pick<
  DueLine,
  "bookingId" | "sessionId" | "seats" | "startsAt" | "location" | "classId" | "className" | "studioName" | "timeZone" | "address" | "email" | "firstName" | "lastName"
>;

const lineTimes = (row: DueLine) => ({
  startsAt: row.startsAt.getTime(),
  endsAt: row.endsAt.getTime(),
  confirmedAt: row.confirmedAt.getTime(),
  reminderHoursBefore: row.reminderHoursBefore,
  followUpHoursAfter: row.followUpHoursAfter,
});

/** Where to go: the session's room or location, then the studio's address. */
function addressOf(row: { location: string | null; address: string | null }): string | undefined {
  const parts = [row.location, row.address].filter((part): part is string => Boolean(part?.trim()));
  return parts.length > 0 ? parts.join(", ") : undefined;
}

function envelope(row: LineFacts, id: string, now: Date) {
  return {
    id,
    recipient: { email: row.email, firstName: row.firstName, lastName: row.lastName },
    channel: "email" as const,
    bookingId: row.bookingId,
    sessionId: row.sessionId,
    classId: row.classId,
    requestedAt: now.getTime(),
  };
}

/** The reminders of some lines, each with its booking's current manage link (one read for the page). */
async function reminderRequests(env: ConfigSource, db: Db, rows: DueLine[], now: Date): Promise<NotificationRequest[]> {
  const links = await manageLinkPaths(env, db, rows.map((row) => row.bookingId));
  return rows.map((row) => sessionReminderRequest(row, links.get(row.bookingId)!, reminderNotificationId(row.bookingId, row.sessionId), now));
}

/** A SESSION_REMINDER request for one booking line, under the given id. */
export function sessionReminderRequest(row: LineFacts, manageLinkPath: string, id: string, now: Date): TypedNotificationRequest<"SESSION_REMINDER"> {
  const address = addressOf(row);
  return {
    ...envelope(row, id, now),
    kind: "SESSION_REMINDER",
    data: {
      className: row.className,
      studioName: row.studioName,
      timeZone: row.timeZone,
      sessionStartsAt: row.startsAt.getTime(),
      seats: row.seats,
      manageLinkPath,
      ...(address ? { address } : {}),
    },
  };
}

function followUpRequest(row: DueLine, now: Date): TypedNotificationRequest<"SESSION_FOLLOW_UP"> {
  return {
    ...envelope(row, followUpNotificationId(row.bookingId, row.sessionId), now),
    kind: "SESSION_FOLLOW_UP",
    data: {
      className: row.className,
      studioName: row.studioName,
      timeZone: row.timeZone,
      sessionStartsAt: row.startsAt.getTime(),
      bookLinkPath: `/api/v1/classes/${encodeURIComponent(row.classId)}`,
    },
  };
}

/** Each booking's manage link with its current token (the generation staff last revoked to, else 0). */
export async function manageLinkPaths(env: ConfigSource, db: Db, bookingIds: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(bookingIds)];
  const generations = new Map<string, number>();
  if (ids.length > 0) {
    const rows = await db
      .select({ bookingId: manageTokenRevocations.bookingId, generation: manageTokenRevocations.generation })
      .from(manageTokenRevocations)
      .where(inIdList(manageTokenRevocations.bookingId, ids));
    for (const row of rows) generations.set(row.bookingId, row.generation);
  }
  const secret = configOf(env).jwtSecret;
  const links = new Map<string, string>();
  for (const id of ids) {
    const token = await manageTokenFor(secret, id, generations.get(id) ?? 0);
    links.set(id, `/api/v1/bookings/${encodeURIComponent(id)}?token=${token}`);
  }
  return links;
}
