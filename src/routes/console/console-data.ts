/**
 * What the console's routers share: the zone its days are counted in, and sessions read through
 * the admin API's own query (sessionViews) with their fill judged by the alert rules' low-fill
 * rule (src/domain/alert-rules.ts lowFillAlerts, the thresholds from the ALERT_RULES setting), so
 * the dashboard warns about exactly what the hourly alert check would raise.
 */
import { and, gte, lt, type SQL } from "drizzle-orm";
import { DateTime } from "luxon";
import { configOf } from "../../config";
import type { Db } from "../../db/client";
import { classSessions } from "../../db/schema";
import { parseAlertRules } from "../../domain/alert-rules";
import { lowFillAlerts } from "../../domain/alert-rules-demand";
import type { Env } from "../../env";
import type { ConsoleSession } from "../../pages/console/parts";
import { sessionViews } from "../admin/sessions";

/**
 * The zone the console's "today" and weeks are counted in. Each session is still shown in its own
 * studio's zone, named; this only decides where a day starts.
 */
export const CONSOLE_ZONE = "Europe/London";

/** A session at least this full (booked / capacity) is flagged near full. */
export const NEAR_FULL_AT = 0.8;

/** The most sessions one console page lists (a week of a busy studio fits many times over). */
const MAX_SESSIONS = 500;

export function lowFillRule(env: Env) {
  return parseAlertRules(configOf(env).alertRules).rules.lowFill;
}

/** Start of the day `at` falls in, in the console's zone. */
export function dayStart(at: Date | DateTime): DateTime {
  return (at instanceof Date ? DateTime.fromJSDate(at) : at).setZone(CONSOLE_ZONE).startOf("day");
}

type SessionView = Awaited<ReturnType<typeof sessionViews>>[number];

/** A session for the console, with fill, near-full and the low-fill rule's verdict. */
export function consoleSessions(env: Env, views: SessionView[], now: Date): ConsoleSession[] {
  const rule = lowFillRule(env);
  const horizon = now.getTime() + rule.withinHours * 3600_000;
  // The same rule the alert check applies: scheduled sessions starting within the window.
  const candidates = views
    .filter((v) => v.status === "scheduled" && Date.parse(v.startsAt) > now.getTime() && Date.parse(v.startsAt) <= horizon)
    .map((v) => ({ sessionId: v.id, classId: v.classId, className: v.className, startsAt: Date.parse(v.startsAt), capacity: v.capacity, bookedSeats: v.seatsBooked }));
  const low = new Set(lowFillAlerts(candidates, rule).map((alert) => String(alert.details.sessionId)));
  return views.map((v) => {
    const fill = v.capacity > 0 ? v.seatsBooked / v.capacity : 0;
    return {
      id: v.id,
      classId: v.classId,
      className: v.className,
      status: v.status,
      startsAt: v.startsAt,
      endsAt: v.endsAt,
      timeZone: v.timeZone,
      capacity: v.capacity,
      seatsBooked: v.seatsBooked,
      instructor: v.instructor ? `${v.instructor.firstName} ${v.instructor.lastName}` : null,
      fill,
      nearFull: v.status === "scheduled" && fill >= NEAR_FULL_AT,
      lowFill: low.has(v.id),
    };
  });
}

/** Sessions starting in [from, to), in start order, for the console. */
export async function sessionsBetween(env: Env, db: Db, from: Date, to: Date, now: Date, more?: SQL): Promise<ConsoleSession[]> {
  const views = await sessionViews(db, and(gte(classSessions.startsAt, from), lt(classSessions.startsAt, to), more), MAX_SESSIONS);
  return consoleSessions(env, views, now);
}
