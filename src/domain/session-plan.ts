/**
 * Regenerating a pattern's sessions, pure: given the occurrences the pattern wants, the sessions it
 * already has (with their booked seats) and `now`, decide what to create, update, keep, remove.
 *
 * Rules, in order:
 * - The past is never touched: occurrences starting at or before `now` are skipped (and counted),
 *   existing sessions starting at or before `now` are ignored.
 * - A session with confirmed bookings is never changed. When it no longer matches the pattern it
 *   is reported, and a wanted occurrence starting at the same instant is not created again.
 * - A cancelled session is never revived or duplicated: a wanted occurrence at its start is reported.
 * - An unbooked session that matches a wanted occurrence exactly (start, end, capacity, location)
 *   is left as it is, so staff assigned by hand survive.
 * - An unbooked session at a wanted start that differs is updated in place. Unbooked sessions left
 *   over are paired with wanted occurrences left over on the same studio-local date (the usual
 *   result of a time change) and moved in place, keeping their ids.
 * - Unbooked sessions still left over are deleted, or cancelled when they carry cancelled booking
 *   lines (which still reference them); wanted occurrences still left over are created.
 */
import { DateTime } from "luxon";

/** One session the pattern wants. */
export interface DesiredSession {
  startsAt: Date;
  endsAt: Date;
  /** Studio-local date YYYY-MM-DD. */
  localDate: string;
  capacity: number;
  location: string | null;
}

/** One session the pattern already has, with what is booked on it. */
export interface ExistingSession {
  id: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  location: string | null;
  status: "scheduled" | "cancelled";
  /** Seats on confirmed booking lines. */
  seatsBooked: number;
  /** Confirmed booking lines; any makes the session untouchable. */
  confirmedLines: number;
  /** Booking lines of any status; any keeps the row from being deleted. */
  bookingLines: number;
}

export type BookedReason = "NOT_IN_PATTERN" | "DIFFERS_FROM_PATTERN";

export interface BookedLeftAlone {
  id: string;
  startsAt: Date;
  reason: BookedReason;
  seatsBooked: number;
}

export interface SessionPlan {
  create: DesiredSession[];
  update: { id: string; to: DesiredSession }[];
  unchanged: string[];
  remove: string[];
  cancel: string[];
  bookedLeftAlone: BookedLeftAlone[];
  cancelledLeftAlone: { id: string; startsAt: Date }[];
  skippedPast: number;
}

/** Whether an existing session already is exactly the wanted occurrence. */
export function matchesDesired(existing: ExistingSession, desired: DesiredSession): boolean {
  return (
    existing.startsAt.getTime() === desired.startsAt.getTime() &&
    existing.endsAt.getTime() === desired.endsAt.getTime() &&
    existing.capacity === desired.capacity &&
    (existing.location ?? null) === (desired.location ?? null)
  );
}

/** The plan that brings a pattern's future sessions in line with its occurrences (see the rules above). */
export function planSessions(input: {
  desired: DesiredSession[];
  existing: ExistingSession[];
  timeZone: string;
  now: Date;
}): SessionPlan {
  const now = input.now.getTime();
  const plan: SessionPlan = {
    create: [],
    update: [],
    unchanged: [],
    remove: [],
    cancel: [],
    bookedLeftAlone: [],
    cancelledLeftAlone: [],
    skippedPast: 0,
  };

  const future = input.existing.filter((s) => s.startsAt.getTime() > now);
  const byStart = new Map(future.map((s) => [s.startsAt.getTime(), s]));
  const matched = new Set<string>();
  const pending: DesiredSession[] = [];

  for (const desired of [...input.desired].sort(byStartsAt)) {
    if (desired.startsAt.getTime() <= now) {
      plan.skippedPast++;
      continue;
    }
    const existing = byStart.get(desired.startsAt.getTime());
    if (!existing) {
      pending.push(desired);
      continue;
    }
    matched.add(existing.id);
    const same = matchesDesired(existing, desired);
    if (existing.status === "cancelled") {
      plan.cancelledLeftAlone.push({ id: existing.id, startsAt: existing.startsAt });
    } else if (existing.confirmedLines > 0) {
      if (same) plan.unchanged.push(existing.id);
      else plan.bookedLeftAlone.push(booked(existing, "DIFFERS_FROM_PATTERN"));
    } else if (same) {
      plan.unchanged.push(existing.id);
    } else {
      plan.update.push({ id: existing.id, to: desired });
    }
  }

  // Unbooked leftovers, by studio-local date, to be moved onto a wanted occurrence of the same day.
  const movable = new Map<string, ExistingSession[]>();
  for (const existing of future.sort(byStartsAt)) {
    if (matched.has(existing.id) || existing.status === "cancelled") continue;
    if (existing.confirmedLines > 0) {
      plan.bookedLeftAlone.push(booked(existing, "NOT_IN_PATTERN"));
      continue;
    }
    const day = localDate(existing.startsAt, input.timeZone);
    movable.set(day, [...(movable.get(day) ?? []), existing]);
  }

  for (const desired of pending) {
    const candidate = movable.get(desired.localDate)?.shift();
    if (candidate) plan.update.push({ id: candidate.id, to: desired });
    else plan.create.push(desired);
  }
  for (const leftovers of movable.values()) {
    for (const existing of leftovers) {
      if (existing.bookingLines > 0) plan.cancel.push(existing.id);
      else plan.remove.push(existing.id);
    }
  }
  return plan;
}

function booked(existing: ExistingSession, reason: BookedReason): BookedLeftAlone {
  return { id: existing.id, startsAt: existing.startsAt, reason, seatsBooked: existing.seatsBooked };
}

function byStartsAt(a: { startsAt: Date }, b: { startsAt: Date }): number {
  return a.startsAt.getTime() - b.startsAt.getTime();
}

function localDate(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() ?? instant.toISOString().slice(0, 10);
}
