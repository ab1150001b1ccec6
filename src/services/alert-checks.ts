/**
 * Hourly alert checks: gathers each rule's figures from D1 (events, sessions, bookings, the
 * waitlist projection), evaluates the rules (src/domain/alert-rules.ts, thresholds from the
 * ALERT_RULES setting) and keeps exactly the firing alerts open: a firing subject is raised (one
 * open alert per type and subject; a repeat counts an occurrence), and an open alert of a rule
 * whose subject no longer fires is resolved by "system". A rule whose figures could not be
 * gathered resolves nothing. Data drift (DO ledgers, stale holds and outbox entries) is checked by
 * src/jobs/reconcile.ts in the same hour.
 *
 * A service, not a job, so an admin can run the checks now (POST /api/v1/admin/alerts/check) as
 * well as the hourly cron (src/jobs/alert-checks.ts).
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { CHECKOUT_CONVERTED, checkoutDecidedBy, FUNNEL_CHECKOUT } from "../db/funnel";
import { alerts } from "../db/schema";
import { type AlertRules, type AlertType, bookingConversionAlerts, type FiringAlert, notificationSuccessAlerts, parseAlertRules } from "../domain/alert-rules";
import {
  addSessionAlerts,
  type BlockedPurchases,
  hireTrainerAlerts,
  lowFillAlerts,
  noRecentBookingAlerts,
  type OfferDecisions,
  type UnbookedSubject,
  waitlistAcceptanceAlerts,
} from "../domain/alert-rules-demand";
import { priceTamperingAlerts, quickCancellationAlerts, type SeatEvent, seatHoardingAlerts } from "../domain/alert-rules-suspicious";
import { raiseAlert, resolveAlert } from "./alerts";
import type { CancellationData } from "../domain/attempt-events";

const HOUR = 3600_000;
/** How often the checks run (the hourly cron): windows shorter than a run's reach are looked at across two runs. */
const CHECK_INTERVAL_MINUTES = 60;
/** At most this many events are read for the seat-hoarding rule in one run. */
const MAX_SEAT_EVENTS = 50_000;
/** The key of BOOKING_CANCELLED data the quick-cancellation rule reads (typed, so a rename cannot miss it). */
const MINUTES_SINCE_CONFIRMATION: keyof CancellationData = "minutesSinceConfirmation";
const CONFIG_ALERT = { type: "ALERT_RULES_INVALID", subjectKey: "config:ALERT_RULES" } as const;

interface Rule {
  type: AlertType;
  evaluate(d1: D1Database, rules: AlertRules, now: number): Promise<FiringAlert[]>;
}

async function all<T>(d1: D1Database, query: string, ...params: unknown[]): Promise<T[]> {
  return (await d1.prepare(query).bind(...params).all<T>()).results;
}

const RULES: Rule[] = [
  {
    type: "BOOKING_CONVERSION_LOW",
    async evaluate(d1, { bookingConversion: rule }, now) {
      if (!rule.enabled) return [];
      // The funnel of the rollups (src/db/funnel.ts): checkouts of the window and how many converted,
      // leaving out holds still open and not booked yet.
      const rows = await all<{ classId: string | null; className: string | null; checkouts: number; bookings: number }>(
        d1,
        `SELECT e.class_id AS classId, c.name AS className, count(*) AS checkouts, COALESCE(sum(${CHECKOUT_CONVERTED}), 0) AS bookings
         FROM events e LEFT JOIN classes c ON c.id = e.class_id
         WHERE e.type = 'CHECKOUT_STARTED' AND e.occurred_at >= ?1 AND e.occurred_at < ?2
           AND ${FUNNEL_CHECKOUT} AND ${checkoutDecidedBy("?2")}
         GROUP BY e.class_id`,
        now - rule.windowHours * HOUR,
        now,
      );
      const overall = { classId: null, className: null, checkouts: 0, bookings: 0 };
      for (const row of rows) {
        overall.checkouts += row.checkouts;
        overall.bookings += row.bookings;
      }
      return bookingConversionAlerts([overall, ...rows.filter((row) => row.classId)], rule);
    },
  },
  {
    type: "NOTIFICATION_SUCCESS_LOW",
    async evaluate(d1, { notificationSuccess: rule }, now) {
      if (!rule.enabled) return [];
      const [figures] = await all<{ sent: number | null; failed: number | null }>(
        d1,
        `SELECT sum(type = 'NOTIFICATION_SENT') AS sent, sum(type = 'NOTIFICATION_FAILED') AS failed
         FROM events WHERE type IN ('NOTIFICATION_SENT', 'NOTIFICATION_FAILED') AND occurred_at >= ?1 AND occurred_at < ?2`,
        now - rule.windowHours * HOUR,
        now,
      );
      return notificationSuccessAlerts({ sent: figures?.sent ?? 0, failed: figures?.failed ?? 0 }, rule);
    },
  },
  {
    type: "HIRE_TRAINER",
    async evaluate(d1, { hireTrainer: rule }, now) {
      if (!rule.enabled) return [];
      // People, not attempts: one customer retrying is one person (their email, else their client
      // address; an event with neither counts as its own).
      const rows = await all<BlockedPurchases>(
        d1,
        `WITH blocked AS (
           SELECT e.class_id, e.city_id, COALESCE('email:' || lower(e.email), 'client:' || e.client_key, 'event:' || e.id) AS who
           FROM events e
           WHERE e.type = 'PURCHASE_BLOCKED' AND e.occurred_at >= ?1 AND e.occurred_at < ?2
             AND e.class_id IS NOT NULL AND e.code IN (SELECT value FROM json_each(?3)))
         SELECT b.class_id AS classId, c.name AS className, b.city_id AS cityId, y.name AS cityName,
                count(DISTINCT b.who) AS people, count(*) AS attempts,
                (SELECT count(DISTINCT x.who) FROM blocked x WHERE x.class_id = b.class_id) AS classPeople
         FROM blocked b LEFT JOIN classes c ON c.id = b.class_id LEFT JOIN cities y ON y.id = b.city_id
         GROUP BY b.class_id, b.city_id`,
        now - rule.windowDays * 24 * HOUR,
        now,
        JSON.stringify(rule.reasons),
      );
      return hireTrainerAlerts(rows, rule);
    },
  },
  {
    type: "ADD_SESSION",
    async evaluate(d1, { addSession: rule }, now) {
      if (!rule.enabled) return [];
      const rows = await all<{ sessionId: string; classId: string; className: string; startsAt: number; capacity: number; waitlistEntries: number; waitlistSeats: number }>(
        d1,
        `SELECT s.id AS sessionId, s.class_id AS classId, c.name AS className, s.starts_at AS startsAt, s.capacity AS capacity,
                count(*) AS waitlistEntries, sum(w.guest_count) AS waitlistSeats
         FROM class_sessions s
         JOIN classes c ON c.id = s.class_id
         JOIN waitlist_entries w ON w.session_id = s.id AND w.status IN ('waiting', 'offered')
         WHERE s.status = 'scheduled' AND s.starts_at > ?1 AND s.starts_at <= ?2
         GROUP BY s.id`,
        now,
        now + rule.lookaheadDays * 24 * HOUR,
      );
      return addSessionAlerts(rows, rule);
    },
  },
  {
    type: "LOW_FILL",
    async evaluate(d1, { lowFill: rule }, now) {
      if (!rule.enabled) return [];
      const rows = await all<{ sessionId: string; classId: string; className: string; startsAt: number; capacity: number; bookedSeats: number }>(
        d1,
        `SELECT s.id AS sessionId, s.class_id AS classId, c.name AS className, s.starts_at AS startsAt, s.capacity AS capacity,
                (SELECT COALESCE(sum(bs.seats), 0) FROM booking_sessions bs WHERE bs.session_id = s.id AND bs.status = 'confirmed') AS bookedSeats
         FROM class_sessions s JOIN classes c ON c.id = s.class_id
         WHERE s.status = 'scheduled' AND s.starts_at > ?1 AND s.starts_at <= ?2`,
        now,
        now + rule.withinHours * HOUR,
      );
      return lowFillAlerts(rows, rule);
    },
  },
  {
    type: "SUSPICIOUS_SEAT_HOARDING",
    async evaluate(d1, { seatHoarding: rule }, now) {
      if (!rule.enabled) return [];
      // Back a whole check interval further than the window, so a burst that straddles two runs
      // is seen whole by the second; the rule slides its window over what it reads.
      const rows = await all<SeatRow>(
        d1,
        `SELECT type, occurred_at AS occurredAt, email, client_key AS clientKey, seats, booking_id AS bookingId, session_id AS sessionId,
                json_extract(data, '$.sessionIds') AS sessionIds, json_extract(data, '$.guestCount') AS guestCount,
                json_extract(data, '$.holdId') AS holdId, id
         FROM events
         WHERE type IN ('HOLD_CREATED', 'BOOKING_CONFIRMED') AND occurred_at >= ?1 AND occurred_at < ?2
           AND (email IS NOT NULL OR client_key IS NOT NULL)
         ORDER BY occurred_at DESC
         LIMIT ?3`,
        now - (rule.windowMinutes + CHECK_INTERVAL_MINUTES) * 60_000,
        now,
        MAX_SEAT_EVENTS,
      );
      return seatHoardingAlerts(rows.map(toSeatEvent), rule);
    },
  },
  {
    type: "SUSPICIOUS_PRICE_TAMPERING",
    async evaluate(d1, { priceTampering: rule }, now) {
      if (!rule.enabled) return [];
      const rows = await all<{ email: string | null; clientKey: string | null; count: number }>(
        d1,
        `SELECT email, client_key AS clientKey, count(*) AS count FROM events
         WHERE type = 'BOOKING_REJECTED' AND code = 'AMOUNT_MISMATCH' AND occurred_at >= ?1 AND occurred_at < ?2
         GROUP BY email, client_key`,
        now - rule.windowHours * HOUR,
        now,
      );
      return priceTamperingAlerts(rows, rule);
    },
  },
  {
    type: "SUSPICIOUS_QUICK_CANCELLATIONS",
    async evaluate(d1, { quickCancellations: rule }, now) {
      if (!rule.enabled) return [];
      const rows = await all<{ email: string; count: number }>(
        d1,
        `SELECT lower(email) AS email, count(*) AS count FROM events
         WHERE type = 'BOOKING_CANCELLED' AND occurred_at >= ?1 AND occurred_at < ?2 AND email IS NOT NULL
           AND CAST(json_extract(data, ?4) AS REAL) <= ?3
         GROUP BY lower(email)`,
        now - rule.windowHours * HOUR,
        now,
        rule.withinMinutes,
        `$.${MINUTES_SINCE_CONFIRMATION}`,
      );
      return quickCancellationAlerts(rows, rule);
    },
  },
  {
    type: "WAITLIST_ACCEPTANCE_LOW",
    async evaluate(d1, { waitlistAcceptance: rule }, now) {
      if (!rule.enabled) return [];
      // Offers decided in the window; an offer event names its session, whose class it was for.
      const rows = await all<OfferDecisions>(
        d1,
        `SELECT COALESCE(e.class_id, s.class_id) AS classId, c.name AS className,
                sum(e.type = 'OFFER_ACCEPTED') AS accepted, sum(e.type = 'OFFER_DECLINED') AS declined, sum(e.type = 'OFFER_EXPIRED') AS expired
         FROM events e
         LEFT JOIN class_sessions s ON e.class_id IS NULL AND s.id = e.session_id
         LEFT JOIN classes c ON c.id = COALESCE(e.class_id, s.class_id)
         WHERE e.type IN ('OFFER_ACCEPTED', 'OFFER_DECLINED', 'OFFER_EXPIRED') AND e.occurred_at >= ?1 AND e.occurred_at < ?2
         GROUP BY 1`,
        now - rule.windowDays * 24 * HOUR,
        now,
      );
      const overall: OfferDecisions = { classId: null, className: null, accepted: 0, declined: 0, expired: 0 };
      for (const row of rows) {
        overall.accepted += row.accepted;
        overall.declined += row.declined;
        overall.expired += row.expired;
      }
      return waitlistAcceptanceAlerts([overall, ...rows.filter((row) => row.classId)], rule);
    },
  },
  {
    type: "NO_RECENT_BOOKINGS",
    async evaluate(d1, { noRecentBookings: rule }, now) {
      if (!rule.enabled) return [];
      // On sale (a scheduled session ahead), at least `days` old, and no booking confirmed in the
      // last `days` (cancelled since or not: someone wanted it). bookings_class_idx serves the lookups.
      const since = now - rule.days * 24 * HOUR;
      const classes = await all<UnbookedSubject>(
        d1,
        `SELECT 'class' AS scope, c.id AS id, c.name AS name,
                (SELECT max(b.confirmed_at) FROM bookings b WHERE b.class_id = c.id AND b.confirmed_at < ?2) AS lastBookingAt,
                min(s.starts_at) AS nextSessionAt, count(*) AS upcomingSessions
         FROM classes c JOIN class_sessions s ON s.class_id = c.id AND s.status = 'scheduled' AND s.starts_at > ?2
         WHERE c.created_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.class_id = c.id AND b.confirmed_at >= ?1 AND b.confirmed_at < ?2)
         GROUP BY c.id`,
        since,
        now,
      );
      const studios = await all<UnbookedSubject>(
        d1,
        `SELECT 'studio' AS scope, st.id AS id, st.name AS name,
                (SELECT max(b.confirmed_at) FROM classes bc JOIN bookings b ON b.class_id = bc.id WHERE bc.studio_id = st.id AND b.confirmed_at < ?2) AS lastBookingAt,
                min(s.starts_at) AS nextSessionAt, count(*) AS upcomingSessions
         FROM studios st
         JOIN classes c ON c.studio_id = st.id
         JOIN class_sessions s ON s.class_id = c.id AND s.status = 'scheduled' AND s.starts_at > ?2
         WHERE st.created_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM classes bc JOIN bookings b ON b.class_id = bc.id WHERE bc.studio_id = st.id AND b.confirmed_at >= ?1 AND b.confirmed_at < ?2)
         GROUP BY st.id`,
        since,
        now,
      );
      return noRecentBookingAlerts([...classes, ...studios], rule);
    },
  },
];

/** The checks that can be run one by one (POST /api/v1/admin/alerts/check), in the order they run. */
export const ALERT_CHECK_TYPES: readonly AlertType[] = RULES.map((rule) => rule.type);

interface SeatRow {
  id: string;
  type: SeatEvent["type"];
  occurredAt: number;
  email: string | null;
  clientKey: string | null;
  seats: number | null;
  bookingId: string | null;
  sessionId: string | null;
  sessionIds: string | null;
  guestCount: unknown;
  holdId: unknown;
}

/**
 * A hold or booking as the seat-hoarding rule counts it: guests per session (`data.guestCount`;
 * without it, seat-sessions ÷ sessions), in one reservation per hold (its booking included).
 */
function toSeatEvent(row: SeatRow): SeatEvent {
  const sessionIds = new Set<string>();
  if (row.sessionId) sessionIds.add(row.sessionId);
  if (row.sessionIds) {
    try {
      const parsed: unknown = JSON.parse(row.sessionIds);
      if (Array.isArray(parsed)) for (const id of parsed) if (typeof id === "string") sessionIds.add(id);
    } catch {
      // Not a list: only the event's own session counts.
    }
  }
  const guests = Number(row.guestCount);
  const seats = Number.isSafeInteger(guests) && guests > 0 ? guests : Math.ceil((row.seats ?? 0) / Math.max(1, sessionIds.size));
  const holdId = typeof row.holdId === "string" && row.holdId ? row.holdId : null;
  return {
    type: row.type,
    occurredAt: Number(row.occurredAt),
    email: row.email,
    clientKey: row.clientKey,
    reservationId: holdId ?? row.bookingId ?? row.id,
    seats,
    sessionIds: [...sessionIds],
  };
}

/** What one rule's run did: subjects firing, of them alerts opened anew or updated (one more occurrence), and alerts resolved. */
export interface RuleOutcome {
  firing: number;
  opened: number;
  updated: number;
  resolved: number;
}

export interface AlertCheckReport {
  /** Per rule type that ran: what it did, or the error that kept it from being evaluated. */
  rules: Record<string, RuleOutcome | { error: string }>;
  configProblem: string | null;
}

/**
 * Runs every rule (or only `options.only`) once at `now` with the rules read from `rawRules` (the ALERT_RULES setting).
 * An invalid setting is logged as an error and kept open as a critical ALERT_RULES_INVALID alert,
 * and the defaults are used meanwhile, so a typo never switches monitoring off.
 */
export async function runAlertChecks(d1: D1Database, db: Db, rawRules: unknown, now = new Date(), options: { only?: AlertType } = {}): Promise<AlertCheckReport> {
  const { rules, problem } = parseAlertRules(rawRules);
  await reportConfigProblem(db, problem, now);
  const report: AlertCheckReport = { rules: {}, configProblem: problem };
  for (const rule of RULES) {
    if (options.only && rule.type !== options.only) continue;
    try {
      const firing = await rule.evaluate(d1, rules, now.getTime());
      report.rules[rule.type] = await keepOpen(db, rule.type, firing, now);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "alert rule failed", rule: rule.type, error: String(error) }));
      report.rules[rule.type] = { error: String(error) };
    }
  }
  return report;
}

/** Raises every firing alert, and resolves the type's open alerts whose subject no longer fires. */
async function keepOpen(db: Db, type: AlertType, firing: FiringAlert[], now: Date): Promise<RuleOutcome> {
  let opened = 0;
  for (const alert of firing) if ((await raiseAlert(db, { ...alert, now })).created) opened += 1;
  const firingSubjects = new Set(firing.map((alert) => alert.subjectKey));
  const open = await db
    .select({ id: alerts.id, subjectKey: alerts.subjectKey })
    .from(alerts)
    .where(and(eq(alerts.type, type), ne(alerts.status, "resolved")));
  const cleared = open.filter((alert) => !firingSubjects.has(alert.subjectKey));
  for (let i = 0; i < cleared.length; i += 90) {
    const ids = cleared.slice(i, i + 90).map((alert) => alert.id);
    await db
      .update(alerts)
      .set({ status: "resolved", resolvedAt: now, resolvedBy: "system", updatedAt: now })
      .where(and(inArray(alerts.id, ids), ne(alerts.status, "resolved")));
  }
  return { firing: firing.length, opened, updated: firing.length - opened, resolved: cleared.length };
}

async function reportConfigProblem(db: Db, problem: string | null, now: Date): Promise<void> {
  if (problem) {
    console.error(JSON.stringify({ level: "error", msg: "ALERT_RULES setting is invalid; using the defaults", problem }));
    await raiseAlert(db, { ...CONFIG_ALERT, severity: "critical", title: "The ALERT_RULES setting is invalid; the default thresholds are in use", details: { problem }, now });
    return;
  }
  const open = await db.query.alerts.findFirst({
    where: and(eq(alerts.type, CONFIG_ALERT.type), eq(alerts.subjectKey, CONFIG_ALERT.subjectKey), ne(alerts.status, "resolved")),
  });
  if (open) await resolveAlert(db, open.id, "system", now);
}
