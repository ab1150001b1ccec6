/**
 * What the metric rollups compute, pure: the catalogue of metric names and, from one day's
 * aggregated events, the money that moved that day (payments and refunds: revenue is money, see
 * src/db/revenue.ts) and the sessions that ran that day, the rows of that day.
 *
 * A rate is stored as numerator (`value`) and `denominator`, never as a fraction, so a week is the
 * sum of its days and its rate is still exact. Counts and money (pence) are integers.
 */
export type MetricScope = "all" | "studio" | "class" | "city";
export type MetricKind = "count" | "pence" | "rate";

export interface MetricDefinition {
  kind: MetricKind;
  /** Scopes the metric is computed for ("all" always). */
  scopes: readonly MetricScope[];
  /** What `dimension` holds, for metrics broken down by something. */
  dimension?: string;
  description: string;
}

const A = ["all"] as const;
const ASC = ["all", "studio", "class"] as const;
const ASCY = ["all", "studio", "class", "city"] as const;

/** Every metric the rollups write, with its meaning (also served in the OpenAPI document). */
export const METRICS = {
  "events.total": { kind: "count", scopes: A, description: "Every event recorded in the period; written for every period rolled up, so its presence marks the period as computed" },
  "funnel.views": { kind: "count", scopes: ASCY, description: "Course views (COURSE_VIEWED)" },
  "funnel.checkouts": {
    kind: "count",
    scopes: ASCY,
    description:
      "Checkouts: customer attempts to buy that reached the seat check, one per hold and one per booking made without a hold (CHECKOUT_STARTED with origin hold or booking; client-sent signals are not counted, staff bookings and waitlist acceptances are none)",
  },
  "funnel.checkouts_converted": {
    kind: "count",
    scopes: ASCY,
    description: "Checkouts of the period that ended in a booking (the hold was booked before it expired, or the booking went through)",
  },
  "funnel.view_to_checkout": { kind: "rate", scopes: ASCY, description: "Checkouts / course views (views are client signals: a flow ratio that can exceed 1)" },
  "funnel.checkout_to_booking": { kind: "rate", scopes: ASCY, description: "Checkouts converted / checkouts (the booking conversion alerted on; at most 1)" },
  "funnel.view_to_booking": { kind: "rate", scopes: ASCY, description: "Checkouts converted / course views (a flow ratio that can exceed 1)" },
  "bookings.confirmed": { kind: "count", scopes: ASCY, description: "Bookings confirmed (BOOKING_CONFIRMED), by customers, staff and waitlist acceptances alike" },
  "bookings.seats": { kind: "count", scopes: ASC, description: "Seats of the bookings confirmed (guests × sessions)" },
  "bookings.rejected": { kind: "count", scopes: ASC, description: "Booking attempts refused (BOOKING_REJECTED)" },
  "bookings.rejected_by_code": { kind: "count", scopes: ASC, dimension: "error code", description: "Booking attempts refused, by error code" },
  "bookings.duplicate_attempts": { kind: "count", scopes: ASC, description: "Attempts to book again what the same person already holds (DUPLICATE_ATTEMPT)" },
  "holds.created": { kind: "count", scopes: ASC, description: "Checkout holds created (HOLD_CREATED)" },
  "cancellations.count": { kind: "count", scopes: ASC, description: "Bookings cancelled (BOOKING_CANCELLED)" },
  "cancellations.rate": { kind: "rate", scopes: ASC, description: "Cancellations / bookings confirmed in the same period (a flow ratio: it can exceed 1)" },
  "capacity.sessions": { kind: "count", scopes: ASC, description: "Sessions that ran: started in the period and not cancelled" },
  "capacity.utilisation": { kind: "rate", scopes: ASC, description: "Seats booked / seats offered, over the sessions that ran" },
  "waitlist.joins": { kind: "count", scopes: ASC, description: "Waitlist sign-ups (WAITLIST_JOINED)" },
  "waitlist.offers": { kind: "count", scopes: ASC, description: "Waitlist offers sent (OFFER_SENT)" },
  "waitlist.offers_accepted": { kind: "count", scopes: ASC, description: "Offers accepted (OFFER_ACCEPTED)" },
  "waitlist.offers_declined": { kind: "count", scopes: ASC, description: "Offers declined (OFFER_DECLINED)" },
  "waitlist.offers_expired": { kind: "count", scopes: ASC, description: "Offers that lapsed (OFFER_EXPIRED)" },
  "waitlist.offers_withdrawn": {
    kind: "count",
    scopes: ASC,
    description: "Offers ended by the party leaving the line, or staff removing it, while offered (WAITLIST_LEFT after that OFFER_SENT)",
  },
  "waitlist.acceptance_rate": {
    kind: "rate",
    scopes: ASC,
    description: "Offers accepted / offers answered, lapsed or withdrawn (accepted + declined + expired + withdrawn)",
  },
  "attendance.checked_in": {
    kind: "count",
    scopes: ASC,
    description:
      "Attendees marked checked in (ATTENDED), net of marks taken back: an ATTENDANCE_UNDONE, or a change to no-show, from checked_in counts -1 (on the day of the change, so a day may read below 0; its week is exact)",
  },
  "attendance.no_shows": {
    kind: "count",
    scopes: ASC,
    description: "Attendees marked no-show (NO_SHOW, by staff or the sweep), net of marks taken back (ATTENDANCE_UNDONE or a check-in from no_show counts -1)",
  },
  "attendance.no_show_rate": { kind: "rate", scopes: ASC, description: "No-shows / attendees marked (checked in + no-show), both net of undo" },
  "purchases.blocked": { kind: "count", scopes: ASCY, description: "Purchases blocked (PURCHASE_BLOCKED), e.g. for lack of a trainer" },
  "purchases.blocked_by_reason": { kind: "count", scopes: ["all", "class"], dimension: "reason code", description: "Purchases blocked, by reason" },
  "purchases.blocked_by_city": { kind: "count", scopes: ["all", "class"], dimension: "city id", description: "Purchases blocked, by the city asked for (per course: where to hire)" },
  "bookings.value_pence": {
    kind: "pence",
    scopes: ASC,
    description: "Booked value: the amount of the bookings confirmed in the period, in pence, gross of later cancellations (BOOKING_CONFIRMED); money promised, not received (revenue.pence is)",
  },
  "bookings.value_pence_by_source": { kind: "pence", scopes: ASC, dimension: "booking source", description: "Booked value, in pence, by booking source ('unknown' when none)" },
  "revenue.pence": {
    kind: "pence",
    scopes: ASC,
    description: "Revenue: money received in the period less money refunded in it, in pence (revenue.received_pence − revenue.refunded_pence; below 0 when more went back than came in)",
  },
  "revenue.pence_by_source": { kind: "pence", scopes: ASC, dimension: "booking source", description: "Revenue (received − refunded), in pence, by the booking's source ('unknown' when none)" },
  "revenue.received_pence": { kind: "pence", scopes: ASC, description: "Money received in the period: payments paid (online or at the desk), by when they were paid" },
  "revenue.refunded_pence": { kind: "pence", scopes: ASC, description: "Money refunded in the period: succeeded refunds, by when they succeeded" },
  "notifications.sent": { kind: "count", scopes: A, description: "Notifications delivered to the provider (NOTIFICATION_SENT)" },
  "notifications.failed": { kind: "count", scopes: A, description: "Notifications that failed (NOTIFICATION_FAILED)" },
  "notifications.success_rate": { kind: "rate", scopes: A, description: "Sent / (sent + failed)" },
  "notifications.sent_by_kind": { kind: "count", scopes: A, dimension: "message kind", description: "Notifications sent, by message kind (data.kind; 'unknown' when none)" },
  "notifications.failed_by_kind": { kind: "count", scopes: A, dimension: "message kind", description: "Notifications that failed, by message kind" },
  "notifications.success_rate_by_kind": { kind: "rate", scopes: A, dimension: "message kind", description: "Sent / (sent + failed), by message kind" },
  "requests.failed": { kind: "count", scopes: A, description: "Requests that failed (REQUEST_FAILED)" },
  "requests.failed_by_code": { kind: "count", scopes: A, dimension: "error code", description: "Requests that failed, by error code" },
  "requests.sampled_estimate": {
    kind: "count",
    scopes: A,
    description: "API requests served, estimated from the sample: the sum of data.sampleRate over REQUEST_SAMPLED (one request in sampleRate emits one)",
  },
  "requests.error_rate": {
    kind: "rate",
    scopes: A,
    description: "Failed / requests served (requests.failed / requests.sampled_estimate); an estimate, so a quiet period may read above 1",
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as [MetricName, ...MetricName[]];

/** One row of a period, before it is stamped with granularity, period and time. */
export interface MetricRow {
  scope: MetricScope;
  scopeId: string;
  metric: MetricName;
  dimension: string;
  value: number;
  /** Rates only. */
  denominator: number | null;
}

/**
 * One group of a day's events, as the rollup query returns them: events of one type with the same
 * class, studio, city, code and source. Ids are what the event carried, or what its session or
 * booking says when it did not (see src/jobs/rollups.ts).
 */
export interface EventAggregate {
  type: string;
  classId: string | null;
  studioId: string | null;
  cityId: string | null;
  code: string | null;
  source: string | null;
  count: number;
  seats: number;
  amountPence: number;
  /** Funnel checkouts among the group's CHECKOUT_STARTED (src/db/funnel.ts), and how many of them converted. */
  checkouts: number;
  converted: number;
  /** REQUEST_SAMPLED only: the requests the group's samples stand for (Σ data.sampleRate). */
  sampledRequests: number;
  /** WAITLIST_LEFT only: how many of them ended an open offer. */
  offersWithdrawn: number;
  /**
   * What else the group is split by: a notification's message kind (data.kind), or the status an
   * attendance event changed from (data.previousStatus). Null otherwise or when the event has none.
   */
  detail?: string | null;
}

/**
 * Money that moved in the period (payments received, refunds made: src/db/revenue.ts), grouped by
 * the class, studio and source of the booking it is for (null when that booking is unknown).
 */
export interface MoneyAggregate {
  classId: string | null;
  studioId: string | null;
  source: string | null;
  receivedPence: number;
  refundedPence: number;
}

/** The sessions of one class that ran in the period. */
export interface SessionsRan {
  classId: string;
  studioId: string | null;
  sessions: number;
  capacity: number;
  bookedSeats: number;
}

/** The value of a rate, or null without a denominator. */
export function rateOf(value: number, denominator: number | null): number | null {
  return denominator ? value / denominator : null;
}

const COUNTED_BY_TYPE: Record<string, MetricName | undefined> = {
  COURSE_VIEWED: "funnel.views",
  BOOKING_CONFIRMED: "bookings.confirmed",
  BOOKING_REJECTED: "bookings.rejected",
  DUPLICATE_ATTEMPT: "bookings.duplicate_attempts",
  HOLD_CREATED: "holds.created",
  BOOKING_CANCELLED: "cancellations.count",
  WAITLIST_JOINED: "waitlist.joins",
  OFFER_SENT: "waitlist.offers",
  OFFER_ACCEPTED: "waitlist.offers_accepted",
  OFFER_DECLINED: "waitlist.offers_declined",
  OFFER_EXPIRED: "waitlist.offers_expired",
  PURCHASE_BLOCKED: "purchases.blocked",
  NOTIFICATION_SENT: "notifications.sent",
  NOTIFICATION_FAILED: "notifications.failed",
  REQUEST_FAILED: "requests.failed",
};

/** Rates derived per scope from the counts: [rate, numerator, denominator terms]. */
const RATES: [MetricName, MetricName, MetricName[]][] = [
  ["funnel.view_to_checkout", "funnel.checkouts", ["funnel.views"]],
  ["funnel.checkout_to_booking", "funnel.checkouts_converted", ["funnel.checkouts"]],
  ["funnel.view_to_booking", "funnel.checkouts_converted", ["funnel.views"]],
  ["cancellations.rate", "cancellations.count", ["bookings.confirmed"]],
  ["waitlist.acceptance_rate", "waitlist.offers_accepted", ["waitlist.offers_accepted", "waitlist.offers_declined", "waitlist.offers_expired", "waitlist.offers_withdrawn"]],
  ["notifications.success_rate", "notifications.sent", ["notifications.sent", "notifications.failed"]],
  ["attendance.no_show_rate", "attendance.no_shows", ["attendance.checked_in", "attendance.no_shows"]],
  ["requests.error_rate", "requests.failed", ["requests.sampled_estimate"]],
];

/** The attendance count each status is kept in (`booked` is no mark at all). */
const ATTENDANCE_COUNT: Record<string, MetricName | undefined> = { checked_in: "attendance.checked_in", no_show: "attendance.no_shows" };
/** The status each attendance event changes to. */
const ATTENDANCE_TO: Record<string, string> = { ATTENDED: "checked_in", NO_SHOW: "no_show", ATTENDANCE_UNDONE: "booked" };

type ScopeKey = `${MetricScope}\u0000${string}`;

class Accumulator {
  private readonly cells = new Map<string, MetricRow>();

  add(metric: MetricName, scope: MetricScope, scopeId: string, dimension: string, value: number, denominator: number | null = null): void {
    if (!(METRICS[metric].scopes as readonly MetricScope[]).includes(scope)) return;
    const key = `${metric}\u0000${scope}\u0000${scopeId}\u0000${dimension}`;
    const cell = this.cells.get(key);
    if (cell) {
      cell.value += value;
      if (denominator !== null) cell.denominator = (cell.denominator ?? 0) + denominator;
    } else {
      this.cells.set(key, { scope, scopeId, metric, dimension, value, denominator });
    }
  }

  get(metric: MetricName, scope: MetricScope, scopeId: string): number {
    return this.cells.get(`${metric}\u0000${scope}\u0000${scopeId}\u0000`)?.value ?? 0;
  }

  rows(): MetricRow[] {
    return [...this.cells.values()];
  }
}

/** The scopes an event group counts in: all, and its studio, class and city when known. */
function scopesOf(group: { studioId: string | null; classId: string | null; cityId?: string | null }): [MetricScope, string][] {
  const scopes: [MetricScope, string][] = [["all", ""]];
  if (group.studioId) scopes.push(["studio", group.studioId]);
  if (group.classId) scopes.push(["class", group.classId]);
  if (group.cityId) scopes.push(["city", group.cityId]);
  return scopes;
}

/**
 * The rows of one day. Scope "all" gets every metric without a dimension even when it is zero (an
 * empty day reads as zeros, rates as 0/0); studio, class and city rows, and rows with a dimension,
 * exist only where something happened.
 */
export function dailyMetricRows(aggregates: EventAggregate[], sessionsRan: SessionsRan[], money: MoneyAggregate[] = []): MetricRow[] {
  const acc = new Accumulator();
  const scopeKeys = new Set<ScopeKey>(["all\u0000"]);
  const add = (metric: MetricName, scopes: [MetricScope, string][], dimension: string, value: number, denominator: number | null = null) => {
    for (const [scope, scopeId] of scopes) {
      acc.add(metric, scope, scopeId, dimension, value, denominator);
      scopeKeys.add(`${scope}\u0000${scopeId}`);
    }
  };

  for (const group of aggregates) {
    const scopes = scopesOf(group);
    acc.add("events.total", "all", "", "", group.count);
    if (group.type === "CHECKOUT_STARTED") {
      add("funnel.checkouts", scopes, "", group.checkouts);
      add("funnel.checkouts_converted", scopes, "", group.converted);
      continue;
    }
    if (group.type === "WAITLIST_LEFT") {
      add("waitlist.offers_withdrawn", scopes, "", group.offersWithdrawn);
      continue;
    }
    if (group.type === "REQUEST_SAMPLED") {
      add("requests.sampled_estimate", scopes, "", group.sampledRequests);
      continue;
    }
    const attendanceTo = ATTENDANCE_TO[group.type];
    if (attendanceTo) {
      // Net of changes: the new mark counts one, the mark it replaced (undo, or a switch) one back.
      const gained = ATTENDANCE_COUNT[attendanceTo];
      const lost = ATTENDANCE_COUNT[group.detail ?? ""];
      if (gained) add(gained, scopes, "", group.count);
      if (lost) add(lost, scopes, "", -group.count);
      continue;
    }
    const counted = COUNTED_BY_TYPE[group.type];
    if (!counted) continue;
    add(counted, scopes, "", group.count);
    switch (group.type) {
      case "BOOKING_CONFIRMED":
        add("bookings.seats", scopes, "", group.seats);
        add("bookings.value_pence", scopes, "", group.amountPence);
        add("bookings.value_pence_by_source", scopes, group.source || "unknown", group.amountPence);
        break;
      case "BOOKING_REJECTED":
        add("bookings.rejected_by_code", scopes, group.code || "UNKNOWN", group.count);
        break;
      case "PURCHASE_BLOCKED":
        add("purchases.blocked_by_reason", scopes, group.code || "UNKNOWN", group.count);
        add("purchases.blocked_by_city", scopes, group.cityId || "unknown", group.count);
        break;
      case "REQUEST_FAILED":
        add("requests.failed_by_code", scopes, group.code || "UNKNOWN", group.count);
        break;
      case "NOTIFICATION_SENT":
        add("notifications.sent_by_kind", scopes, group.detail || "unknown", group.count);
        add("notifications.success_rate_by_kind", scopes, group.detail || "unknown", group.count, group.count);
        break;
      case "NOTIFICATION_FAILED":
        add("notifications.failed_by_kind", scopes, group.detail || "unknown", group.count);
        add("notifications.success_rate_by_kind", scopes, group.detail || "unknown", 0, group.count);
        break;
    }
  }

  // Revenue is money, not bookings: what came in less what went back, in the period it moved.
  for (const moved of money) {
    const scopes = scopesOf(moved);
    const revenue = moved.receivedPence - moved.refundedPence;
    add("revenue.received_pence", scopes, "", moved.receivedPence);
    add("revenue.refunded_pence", scopes, "", moved.refundedPence);
    add("revenue.pence", scopes, "", revenue);
    add("revenue.pence_by_source", scopes, moved.source || "unknown", revenue);
  }

  for (const ran of sessionsRan) {
    const scopes = scopesOf({ studioId: ran.studioId, classId: ran.classId });
    add("capacity.sessions", scopes, "", ran.sessions);
    add("capacity.utilisation", scopes, "", ran.bookedSeats, ran.capacity);
  }

  for (const key of scopeKeys) {
    const [scope, scopeId] = key.split("\u0000") as [MetricScope, string];
    for (const [rate, numerator, terms] of RATES) {
      const denominator = terms.reduce((sum, term) => sum + acc.get(term, scope, scopeId), 0);
      const value = acc.get(numerator, scope, scopeId);
      if (scope === "all" || value !== 0 || denominator !== 0) acc.add(rate, scope, scopeId, "", value, denominator);
    }
  }

  // Zeros for scope "all", so an empty day (or a quiet metric) reads as 0 rather than as missing.
  for (const [metric, definition] of Object.entries(METRICS) as [MetricName, MetricDefinition][]) {
    if (definition.dimension) continue;
    acc.add(metric, "all", "", "", 0, definition.kind === "rate" ? 0 : null);
  }
  return acc.rows().filter((row) => row.scope === "all" || row.value !== 0 || (row.denominator ?? 0) !== 0);
}
