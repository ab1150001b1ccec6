/**
 * When a booked session's reminder and follow-up are due. Pure: instants in, decisions out.
 *
 * Instants are UTC epoch milliseconds and the offsets are absolute hours, so across a clock change
 * a reminder "24 hours before" an 18:00 session is 24 real hours before it (18:00 the day before
 * on the wall clock only when no change falls between). Each message has a deterministic id per
 * booking and session: whichever run of the job queues it, and however often, it is sent once.
 */

/** Hours before the start, when a class says nothing (classes.reminder_hours_before is null). */
export const DEFAULT_REMINDER_HOURS_BEFORE = 24;
/** Hours after the end, when a class says nothing (classes.follow_up_hours_after is null). */
export const DEFAULT_FOLLOW_UP_HOURS_AFTER = 2;
/** The largest offset a class may set (two weeks); 0 switches the message off. */
export const MAX_MESSAGE_HOURS = 336;
/**
 * How long after its due time a follow-up is still worth sending (the cron was down, say). A
 * reminder needs no such limit: it is sent until the session starts and never after.
 */
export const FOLLOW_UP_GRACE_MS = 24 * 3_600_000;

const HOUR_MS = 3_600_000;

/** A class's reminder offset in hours (its setting, else the default); 0 means none. */
export const reminderHours = (setting: number | null | undefined): number => setting ?? DEFAULT_REMINDER_HOURS_BEFORE;
/** A class's follow-up offset in hours (its setting, else the default); 0 means none. */
export const followUpHours = (setting: number | null | undefined): number => setting ?? DEFAULT_FOLLOW_UP_HOURS_AFTER;

/** When a session's reminder is due, or null when the class sends none. */
export function reminderDueAt(startsAt: number, setting: number | null | undefined): number | null {
  const hours = reminderHours(setting);
  return hours > 0 ? startsAt - hours * HOUR_MS : null;
}

/** When a session's follow-up is due, or null when the class sends none. */
export function followUpDueAt(endsAt: number, setting: number | null | undefined): number | null {
  const hours = followUpHours(setting);
  return hours > 0 ? endsAt + hours * HOUR_MS : null;
}

/**
 * Whether a booking line's reminder should go out at `now`: its time has come and the session has
 * not started. A booking made after its reminder was due gets none: its confirmation, just sent,
 * says the same.
 */
export function isReminderDue(line: { startsAt: number; reminderHoursBefore: number | null; confirmedAt: number }, now: number): boolean {
  const due = reminderDueAt(line.startsAt, line.reminderHoursBefore);
  return due !== null && due <= now && now < line.startsAt && line.confirmedAt <= due;
}

/** Whether a booking line's follow-up should go out at `now`: due, and not so long ago that it would be odd. */
export function isFollowUpDue(line: { endsAt: number; followUpHoursAfter: number | null }, now: number): boolean {
  const due = followUpDueAt(line.endsAt, line.followUpHoursAfter);
  return due !== null && due <= now && now < due + FOLLOW_UP_GRACE_MS;
}

/** The sessions a reminder scan at `now` must look at: those starting within the largest offset. */
export function reminderScanWindow(now: number): { startsAfter: number; startsUntil: number } {
  return { startsAfter: now, startsUntil: now + MAX_MESSAGE_HOURS * HOUR_MS };
}

/** The sessions a follow-up scan at `now` must look at: those that ended within the largest offset and the grace. */
export function followUpScanWindow(now: number): { endsAfter: number; endsUntil: number } {
  return { endsAfter: now - MAX_MESSAGE_HOURS * HOUR_MS - FOLLOW_UP_GRACE_MS, endsUntil: now };
}

/** The request id of a booking line's reminder: the consumer sends one request id once. */
export const reminderNotificationId = (bookingId: string, sessionId: string) => `reminder:${bookingId}:${sessionId}`;
/** The request id of a booking line's follow-up. */
export const followUpNotificationId = (bookingId: string, sessionId: string) => `follow-up:${bookingId}:${sessionId}`;
