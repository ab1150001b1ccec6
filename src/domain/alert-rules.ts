/**
 * Alert rules, pure: their configuration (thresholds live in the `ALERT_RULES` setting, not in
 * code), the shape of an alert that fires, and the conversion and notification rules. The other
 * rules are by job: demand, capacity, waitlist and sales in ./alert-rules-demand.ts, suspicious
 * patterns in ./alert-rules-suspicious.ts. What fires is raised by src/services/alert-checks.ts; an
 * open alert of a rule whose subject no longer fires is resolved.
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

/** A share as a percentage with one decimal, for alert titles. */
export const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

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
