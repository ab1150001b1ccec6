/**
 * Alert rules, pure: their configuration (thresholds live in the `ALERT_RULES` setting, not in
 * code) and their evaluation, from gathered figures to the alerts that fire. What fires is raised
 * by src/jobs/alert-checks.ts; an open alert of a rule whose subject no longer fires is resolved.
 */
import { z } from "zod";

type Severity = "info" | "warning" | "critical";

const severity = (fallback: Severity) => z.enum(["info", "warning", "critical"]).default(fallback);
const share = (fallback: number) => z.number().min(0).max(1).default(fallback);
const count = (fallback: number) => z.number().int().min(1).max(1_000_000).default(fallback);
const enabled = z.boolean().default(true);

/** Every rule's settings with their defaults. Unknown keys are refused, so a typo is not silently ignored. */
export const AlertRulesConfig = z.strictObject({
  /** Checkouts that ended in a booking / checkouts, over the window, overall and per class (the funnel of src/db/funnel.ts). */
  bookingConversion: z
    .strictObject({ enabled, windowHours: count(24), minCheckouts: count(20), below: share(0.3), severity: severity("warning") })
    .prefault({}),
  /** Notifications sent / (sent + failed) over the window. */
  notificationSuccess: z
    .strictObject({ enabled, windowHours: count(24), minAttempts: count(20), warningBelow: share(0.95), criticalBelow: share(0.8) })
    .prefault({}),
  /** A course that at least `minBlocked` people (emails, else client addresses) could not buy for one of `reasons` in the window: hire a trainer. */
  hireTrainer: z
    .strictObject({
      enabled,
      windowDays: count(7),
      minBlocked: count(5),
      reasons: z.array(z.string().min(1).max(64)).min(1).default(["NO_TRAINER"]),
      severity: severity("warning"),
    })
    .prefault({}),
  /** An upcoming session whose waiting and offered parties want seats reaching `waitlistToCapacity` × its capacity: add a session. */
  addSession: z
    .strictObject({ enabled, lookaheadDays: count(90), waitlistToCapacity: z.number().positive().max(100).default(1), severity: severity("info") })
    .prefault({}),
  /** A session starting within `withinHours` with fewer than `below` × capacity seats booked. */
  lowFill: z.strictObject({ enabled, withinHours: count(48), below: share(0.3), severity: severity("warning") }).prefault({}),
  /**
   * One email or client address holding or booking at least `minSeats` seats (guests, over distinct
   * holds and bookings) across at least `minSessions` sessions within `windowMinutes`.
   */
  seatHoarding: z
    .strictObject({ enabled, windowMinutes: count(60), minSeats: count(24), minSessions: count(2), severity: severity("warning") })
    .prefault({}),
  /** Repeated AMOUNT_MISMATCH refusals from one email or client address: someone editing prices. */
  priceTampering: z.strictObject({ enabled, windowHours: count(24), minAttempts: count(3), severity: severity("warning") }).prefault({}),
  /** Many bookings cancelled within `withinMinutes` of being confirmed, by one email. */
  quickCancellations: z
    .strictObject({ enabled, windowHours: count(24), withinMinutes: count(15), minCount: count(3), severity: severity("warning") })
    .prefault({}),
  /**
   * Waitlist offers accepted / offers decided (accepted, declined or lapsed) over the window,
   * overall and per class, once at least `minOffers` were decided: below `below`, offers go to
   * people who no longer want the seat (offer sooner, or shorten the line).
   */
  waitlistAcceptance: z
    .strictObject({ enabled, windowDays: count(7), minOffers: count(10), below: share(0.5), severity: severity("warning") })
    .prefault({}),
  /**
   * A class or studio with upcoming sessions that has had no booking for `days` days (and has
   * existed that long, so a new one is not flagged): nobody is buying what is on sale.
   */
  noRecentBookings: z.strictObject({ enabled, days: count(14), severity: severity("warning") }).prefault({}),
  /** Data drift (always on, critical): a hold still held this long after it expired counts as drift, like a ledger D1 disagrees with. */
  dataDrift: z.strictObject({ holdOverdueMinutes: count(5) }).prefault({}),
});

export type AlertRules = z.infer<typeof AlertRulesConfig>;

/** The defaults, as used when `ALERT_RULES` is empty or invalid. */
export const DEFAULT_ALERT_RULES: AlertRules = AlertRulesConfig.parse({});

/**
 * Reads the `ALERT_RULES` setting: a JSON string (wrangler.toml) or an object (a JSON var). Never
 * throws: an invalid setting gives the defaults and a problem to report loudly.
 */
export function parseAlertRules(raw: unknown): { rules: AlertRules; problem: string | null } {
  let value = raw;
  if (typeof raw === "string") {
    if (raw.trim() === "") return { rules: DEFAULT_ALERT_RULES, problem: null };
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return { rules: DEFAULT_ALERT_RULES, problem: `ALERT_RULES is not valid JSON: ${(error as Error).message}` };
    }
  }
  if (value === undefined || value === null) return { rules: DEFAULT_ALERT_RULES, problem: null };
  const parsed = AlertRulesConfig.safeParse(value);
  if (parsed.success) return { rules: parsed.data, problem: null };
  const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return { rules: DEFAULT_ALERT_RULES, problem: `ALERT_RULES is invalid, using the defaults: ${issues.join("; ")}` };
}

/** An alert that fires: raised (or counted once more) for its type and subject. */
export interface FiringAlert {
  type: AlertType;
  subjectKey: string;
  severity: Severity;
  title: string;
  details: Record<string, unknown>;
}

/** The alert types these rules own (and so resolve when they stop firing). */
export const RULE_ALERT_TYPES = [
  "BOOKING_CONVERSION_LOW",
  "NOTIFICATION_SUCCESS_LOW",
  "HIRE_TRAINER",
  "ADD_SESSION",
  "LOW_FILL",
  "SUSPICIOUS_SEAT_HOARDING",
  "SUSPICIOUS_PRICE_TAMPERING",
  "SUSPICIOUS_QUICK_CANCELLATIONS",
  "WAITLIST_ACCEPTANCE_LOW",
  "NO_RECENT_BOOKINGS",
] as const;
export type AlertType = (typeof RULE_ALERT_TYPES)[number];

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

// ---- conversion and notifications -----------------------------------------------------------

export interface ConversionFigures {
  /** null: all classes together. */
  classId: string | null;
  className: string | null;
  checkouts: number;
  bookings: number;
}

export function bookingConversionAlerts(figures: ConversionFigures[], rule: AlertRules["bookingConversion"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return figures
    .filter((f) => f.checkouts >= rule.minCheckouts && f.bookings / f.checkouts < rule.below)
    .map((f) => {
      const rate = f.bookings / f.checkouts;
      const what = f.classId ? `${f.className ?? f.classId}` : "All classes";
      return {
        type: "BOOKING_CONVERSION_LOW",
        subjectKey: f.classId ? `class:${f.classId}` : "all",
        severity: rule.severity,
        title: `${what}: booking conversion ${percent(rate)} over the last ${rule.windowHours} h (below ${percent(rule.below)})`,
        details: { classId: f.classId, checkouts: f.checkouts, bookings: f.bookings, rate, threshold: rule.below, windowHours: rule.windowHours },
      };
    });
}

export function notificationSuccessAlerts(figures: { sent: number; failed: number }, rule: AlertRules["notificationSuccess"]): FiringAlert[] {
  const attempts = figures.sent + figures.failed;
  if (!rule.enabled || attempts < rule.minAttempts) return [];
  const rate = figures.sent / attempts;
  if (rate >= rule.warningBelow && rate >= rule.criticalBelow) return [];
  const critical = rate < rule.criticalBelow;
  const threshold = critical ? rule.criticalBelow : rule.warningBelow;
  return [
    {
      type: "NOTIFICATION_SUCCESS_LOW",
      subjectKey: "all",
      severity: critical ? "critical" : "warning",
      title: `Notification success ${percent(rate)} over the last ${rule.windowHours} h (below ${percent(threshold)})`,
      details: { ...figures, rate, threshold, windowHours: rule.windowHours },
    },
  ];
}

// ---- demand and capacity --------------------------------------------------------------------

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

// ---- suspicious patterns --------------------------------------------------------------------

/** A hold or a confirmed booking, as the seat-hoarding rule reads it. */
export interface SeatEvent {
  type: "HOLD_CREATED" | "BOOKING_CONFIRMED";
  occurredAt: number;
  email: string | null;
  clientKey: string | null;
  /**
   * The reservation the seats belong to: a hold's id, and for a booking the hold it confirmed (or
   * its own id), so a hold and its booking are one reservation.
   */
  reservationId: string;
  /** Seats per session (guests), not seat-sessions. */
  seats: number;
  sessionIds: string[];
}

/**
 * Per email and per client address, over every span of `windowMinutes`: the seats of the distinct
 * reservations made in it (a hold and the booking that confirmed it count once; a reservation over
 * many sessions counts its guests once, so one full-schedule booking for a couple is not hoarding)
 * and the distinct sessions they touch. An actor fires when some span reaches both thresholds;
 * the details describe the fullest such span. Events may cover more than one window (the checks
 * look back further than their interval, so a burst across two runs is still seen whole).
 */
export function seatHoardingAlerts(events: SeatEvent[], rule: AlertRules["seatHoarding"]): FiringAlert[] {
  if (!rule.enabled) return [];
  const byActor = new Map<string, SeatEvent[]>();
  for (const event of events) {
    for (const key of actorKeys(event.email, event.clientKey)) byActor.set(key, [...(byActor.get(key) ?? []), event]);
  }
  const windowMs = rule.windowMinutes * 60_000;
  const firing: FiringAlert[] = [];
  for (const [subjectKey, actorEvents] of byActor) {
    const peak = fullestWindow(
      actorEvents.sort((a, b) => a.occurredAt - b.occurredAt),
      windowMs,
      (seats, sessions) => seats >= rule.minSeats && sessions >= rule.minSessions,
    );
    if (!peak) continue;
    firing.push({
      type: "SUSPICIOUS_SEAT_HOARDING",
      subjectKey,
      severity: rule.severity,
      title: `${describeActor(subjectKey)} held or booked ${peak.seats} seats in ${peak.reservations} reservations across ${peak.sessions.length} sessions within ${rule.windowMinutes} min`,
      details: {
        seats: peak.seats,
        reservations: peak.reservations,
        sessionCount: peak.sessions.length,
        sessions: peak.sessions.slice(0, 50),
        from: new Date(peak.from).toISOString(),
        to: new Date(peak.to).toISOString(),
        windowMinutes: rule.windowMinutes,
      },
    });
  }
  return firing;
}

/**
 * Slides a window of `windowMs` over time-ordered events (two pointers, counts kept as events
 * enter and leave) and returns the firing window with the most seats, or null.
 */
function fullestWindow(events: SeatEvent[], windowMs: number, fires: (seats: number, sessions: number) => boolean) {
  const reservations = new Map<string, { events: number; seats: number }>();
  const sessions = new Map<string, number>();
  let seats = 0;
  let best: { seats: number; reservations: number; sessions: string[]; from: number; to: number } | null = null;
  let first = 0;
  for (const event of events) {
    while (event.occurredAt - events[first]!.occurredAt >= windowMs) {
      const leaving = events[first++]!;
      const reservation = reservations.get(leaving.reservationId)!;
      if (--reservation.events === 0) {
        reservations.delete(leaving.reservationId);
        seats -= reservation.seats;
      }
      for (const id of leaving.sessionIds) {
        const left = sessions.get(id)! - 1;
        if (left === 0) sessions.delete(id);
        else sessions.set(id, left);
      }
    }
    const reservation = reservations.get(event.reservationId);
    if (reservation) reservation.events += 1;
    else {
      reservations.set(event.reservationId, { events: 1, seats: event.seats });
      seats += event.seats;
    }
    for (const id of event.sessionIds) sessions.set(id, (sessions.get(id) ?? 0) + 1);
    if (fires(seats, sessions.size) && (!best || seats > best.seats)) {
      best = { seats, reservations: reservations.size, sessions: [...sessions.keys()], from: events[first]!.occurredAt, to: event.occurredAt };
    }
  }
  return best;
}

/** Refusals for AMOUNT_MISMATCH, grouped by email and client address. */
export function priceTamperingAlerts(rows: { email: string | null; clientKey: string | null; count: number }[], rule: AlertRules["priceTampering"]): FiringAlert[] {
  if (!rule.enabled) return [];
  const totals = new Map<string, number>();
  for (const row of rows) for (const key of actorKeys(row.email, row.clientKey)) totals.set(key, (totals.get(key) ?? 0) + row.count);
  return [...totals]
    .filter(([, attempts]) => attempts >= rule.minAttempts)
    .map(([subjectKey, attempts]) => ({
      type: "SUSPICIOUS_PRICE_TAMPERING",
      subjectKey,
      severity: rule.severity,
      title: `${describeActor(subjectKey)} sent ${attempts} bookings with a wrong amount (AMOUNT_MISMATCH) within ${rule.windowHours} h`,
      details: { attempts, windowHours: rule.windowHours },
    }));
}

export function quickCancellationAlerts(rows: { email: string; count: number }[], rule: AlertRules["quickCancellations"]): FiringAlert[] {
  if (!rule.enabled) return [];
  return rows
    .filter((row) => row.count >= rule.minCount)
    .map((row) => ({
      type: "SUSPICIOUS_QUICK_CANCELLATIONS",
      subjectKey: `email:${row.email}`,
      severity: rule.severity,
      title: `${row.email} cancelled ${row.count} bookings within ${rule.withinMinutes} min of booking them, in ${rule.windowHours} h`,
      details: { email: row.email, cancellations: row.count, withinMinutes: rule.withinMinutes, windowHours: rule.windowHours },
    }));
}

function actorKeys(email: string | null, clientKey: string | null): string[] {
  const keys: string[] = [];
  if (email) keys.push(`email:${email.toLowerCase()}`);
  if (clientKey) keys.push(`client:${clientKey}`);
  return keys;
}

function describeActor(subjectKey: string): string {
  return subjectKey.startsWith("email:") ? subjectKey.slice("email:".length) : `Client address ${subjectKey.slice("client:".length)}`;
}
