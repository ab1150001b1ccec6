/**
 * Alert rules for demand and capacity (blocked purchases that call for a trainer, waitlists long
 * enough for another session, sessions about to run nearly empty) and for waitlists and sales
 * (offers mostly declined, classes nobody books). Pure: figures in, firing alerts out; the
 * settings and shared shapes are in ./alert-rules.ts.
 */
import { type AlertRules, type FiringAlert, percent } from "./alert-rules";

/** Purchases of one course blocked in one city: by how many people (emails, or client addresses without one), in how many attempts. */
export interface BlockedPurchases {
  classId: string;
  className: string | null;
  cityId: string | null;
  cityName: string | null;
  people: number;
  attempts: number;
  /** People blocked for the course in any city (one person in two cities counts once). */
  classPeople: number;
}

/** A course whose blocked purchases come from at least `minBlocked` people fires, naming its cities. */
export function hireTrainerAlerts(rows: BlockedPurchases[], rule: AlertRules["hireTrainer"]): FiringAlert[] {
  if (!rule.enabled) return [];
  const byClass = new Map<string, BlockedPurchases[]>();
  for (const row of rows) byClass.set(row.classId, [...(byClass.get(row.classId) ?? []), row]);
  const firing: FiringAlert[] = [];
  for (const [classId, cityRows] of byClass) {
    const people = cityRows[0]!.classPeople;
    if (people < rule.minBlocked) continue;
    const attempts = cityRows.reduce((sum, row) => sum + row.attempts, 0);
    const cities = cityRows
      .map((row) => ({ cityId: row.cityId, name: row.cityName ?? row.cityId ?? "unknown", blocked: row.people, attempts: row.attempts }))
      .sort((a, b) => b.blocked - a.blocked || a.name.localeCompare(b.name));
    const className = cityRows[0]!.className ?? classId;
    firing.push({
      type: "HIRE_TRAINER",
      subjectKey: `class:${classId}`,
      severity: rule.severity,
      title: `Hire a trainer for ${className}: ${people} people could not buy in ${rule.windowDays} days (${cities.map((c) => c.name).join(", ")})`,
      details: { classId, blocked: people, attempts, cities, reasons: rule.reasons, windowDays: rule.windowDays },
    });
  }
  return firing;
}

export interface UpcomingSession {
  sessionId: string;
  classId: string;
  className: string;
  startsAt: number;
  capacity: number;
}

/** Fires when the seats the waiting and offered parties want (guests, not parties) reach the ratio of the capacity. */
export function addSessionAlerts(sessions: (UpcomingSession & { waitlistEntries: number; waitlistSeats: number })[], rule: AlertRules["addSession"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return sessions
    .filter((s) => s.waitlistSeats >= s.capacity * rule.waitlistToCapacity)
    .map((s) => ({
      type: "ADD_SESSION",
      subjectKey: `session:${s.sessionId}`,
      severity: rule.severity,
      title: `Add a session of ${s.className}: ${s.waitlistSeats} seats wanted by ${s.waitlistEntries} parties waiting for the ${new Date(s.startsAt).toISOString()} session of ${s.capacity} seats`,
      details: { sessionId: s.sessionId, classId: s.classId, startsAt: new Date(s.startsAt).toISOString(), capacity: s.capacity, waitlistEntries: s.waitlistEntries, waitlistSeats: s.waitlistSeats },
    }));
}

export function lowFillAlerts(sessions: (UpcomingSession & { bookedSeats: number })[], rule: AlertRules["lowFill"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return sessions
    .filter((s) => s.capacity > 0 && s.bookedSeats / s.capacity < rule.below)
    .map((s) => {
      const fill = s.bookedSeats / s.capacity;
      return {
        type: "LOW_FILL",
        subjectKey: `session:${s.sessionId}`,
        severity: rule.severity,
        title: `${s.className} at ${new Date(s.startsAt).toISOString()} is ${percent(fill)} full (${s.bookedSeats}/${s.capacity}) and starts within ${rule.withinHours} h`,
        details: { sessionId: s.sessionId, classId: s.classId, startsAt: new Date(s.startsAt).toISOString(), capacity: s.capacity, bookedSeats: s.bookedSeats, fill, threshold: rule.below },
      };
    });
}

// ---- waitlist and sales ----------------------------------------------------------------------

export interface OfferDecisions {
  /** null: all classes together. */
  classId: string | null;
  className: string | null;
  accepted: number;
  declined: number;
  expired: number;
}

/** Fires for a subject (overall, or a class) whose decided offers reach the minimum and whose acceptance is below the threshold. */
export function waitlistAcceptanceAlerts(figures: OfferDecisions[], rule: AlertRules["waitlistAcceptance"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return figures.flatMap((f) => {
    const decided = f.accepted + f.declined + f.expired;
    if (decided < rule.minOffers || f.accepted / decided >= rule.below) return [];
    const rate = f.accepted / decided;
    const what = f.classId ? (f.className ?? f.classId) : "All classes";
    return [
      {
        type: "WAITLIST_ACCEPTANCE_LOW" as const,
        subjectKey: f.classId ? `class:${f.classId}` : "all",
        severity: rule.severity,
        title: `${what}: ${percent(rate)} of waitlist offers accepted over the last ${rule.windowDays} days (${f.accepted} of ${decided}; below ${percent(rule.below)})`,
        details: { classId: f.classId, accepted: f.accepted, declined: f.declined, expired: f.expired, decided, rate, threshold: rule.below, windowDays: rule.windowDays },
      },
    ];
  });
}

/** A class or studio on sale (it has upcoming sessions) that nobody booked within the rule's days. */
export interface UnbookedSubject {
  scope: "class" | "studio";
  id: string;
  name: string;
  /** The last booking ever confirmed before now, or null for none. */
  lastBookingAt: number | null;
  nextSessionAt: number;
  upcomingSessions: number;
}

export function noRecentBookingAlerts(subjects: UnbookedSubject[], rule: AlertRules["noRecentBookings"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return subjects.map((s) => ({
    type: "NO_RECENT_BOOKINGS",
    subjectKey: `${s.scope}:${s.id}`,
    severity: rule.severity,
    title: `No booking for ${s.scope === "class" ? "the class" : "the studio"} ${s.name} in ${rule.days} days, with ${s.upcomingSessions} upcoming sessions (next ${new Date(s.nextSessionAt).toISOString()})`,
    details: {
      scope: s.scope,
      id: s.id,
      lastBookingAt: s.lastBookingAt === null ? null : new Date(s.lastBookingAt).toISOString(),
      nextSessionAt: new Date(s.nextSessionAt).toISOString(),
      upcomingSessions: s.upcomingSessions,
      days: rule.days,
    },
  }));
}
