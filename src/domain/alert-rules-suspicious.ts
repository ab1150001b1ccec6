/**
 * Alert rules for suspicious patterns: one actor (email or client address) holding many seats at
 * once, sending wrong amounts, or cancelling soon after booking. Pure: figures in, firing alerts
 * out; the settings and shared shapes are in ./alert-rules.ts.
 */
import type { AlertRules, FiringAlert } from "./alert-rules";

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
