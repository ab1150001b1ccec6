/**
 * Session reminders and follow-ups: due at absolute hours before the start (after the end), per
 * class; through the real queue to the dev mailbox, once per booking and session however often the
 * job runs; never for cancelled lines, bookings or sessions, never after the start; right across
 * the October clock change. The job is driven with explicit instants: each test uses its own
 * stretch of time, far from the others', so a run sees only that test's sessions.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { isFollowUpDue, isReminderDue, reminderDueAt } from "../src/domain/reminders";
import { runSessionMessages, SESSION_MESSAGES } from "../src/jobs/reminders";
import { makeClass, makeCustomer, makeSession, makeStudio } from "./fixtures";
import { call, eventually, tokenFor, unique } from "./helpers";

const db = getDb(env.DB);
const HOUR = 3_600_000;
// The loopback binding's types omit the extra handlers that service_binding_extra_handlers enables.
const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };

/** Runs the job as the Cron Trigger does, at `at`. */
const cron = (at: number) => worker.scheduled({ cron: SESSION_MESSAGES, scheduledTime: at });
/** Runs the job function itself at `at`, for what it says it queued. */
const run = (at: number) => runSessionMessages(env, db, new Date(at));

interface LineOptions {
  startsAt: number;
  durationHours?: number;
  reminderHoursBefore?: number | null;
  followUpHoursAfter?: number | null;
  /** When the booking was made; a week before the start unless given. */
  confirmedAt?: number;
  lineStatus?: "confirmed" | "cancelled";
  bookingStatus?: "confirmed" | "cancelled";
  sessionStatus?: "scheduled" | "cancelled";
  seats?: number;
  classId?: string;
}

/** A booking line as the projection leaves it in D1, for a customer of its own. */
async function bookedLine(options: LineOptions) {
  const classId =
    options.classId ??
    (
      await makeClass({
        studioId: (await makeStudio({ timeZone: "Europe/London", address: "1 Kiln Lane, Leeds" })).id,
        name: `Wheel ${unique()}`,
        reminderHoursBefore: options.reminderHoursBefore ?? null,
        followUpHoursAfter: options.followUpHoursAfter ?? null,
      })
    ).id;
  const session = await makeSession(classId, {
    startsAt: new Date(options.startsAt),
    endsAt: new Date(options.startsAt + (options.durationHours ?? 1) * HOUR),
    status: options.sessionStatus ?? "scheduled",
  });
  const customer = await makeCustomer(`remind-${unique()}@example.test`);
  const bookingId = `bkg_rem_${unique()}${unique()}`;
  const confirmedAt = new Date(options.confirmedAt ?? options.startsAt - 7 * 24 * HOUR);
  const seats = options.seats ?? 1;
  await db.insert(t.bookings).values({
    id: bookingId,
    customerId: customer.id,
    classId,
    registrationType: "SINGLE_SESSION",
    status: options.bookingStatus ?? "confirmed",
    guestCount: seats,
    subtotalPence: 2500,
    discountPence: 0,
    totalAmountPence: 2500,
    manageTokenHash: "fixture",
    version: confirmedAt.getTime(),
    confirmedAt,
  });
  await db.insert(t.bookingSessions).values({ bookingId, sessionId: session.id, seats, status: options.lineStatus ?? "confirmed", pricePence: 2500, version: confirmedAt.getTime() });
  return { bookingId, sessionId: session.id, classId, email: customer.email };
}

async function mailbox(email: string): Promise<{ id: string; subject: string; text: string; html: string | null }[]> {
  return (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data;
}

/** Waits until `email` has received a message whose subject matches, and returns the mailbox. */
const received = (email: string, subject: RegExp) => eventually(async () => ((await mailbox(email)).some((m) => subject.test(m.subject)) ? mailbox(email) : undefined), 15_000);

const communication = (id: string) =>
  env.DB.prepare(`SELECT status, attempts, type, sent_by FROM booking_communications WHERE id = ?`).bind(id).first<{ status: string; attempts: number; type: string; sent_by: string | null }>();

/** Each test's own stretch of time, years apart (Sunday 18:00 UTC-ish starts are not needed). */
const base = (year: number) => Date.parse(`${year}-03-04T10:00:00Z`);

describe("when messages are due (src/domain/reminders.ts)", () => {
  it("counts absolute hours from UTC instants, sends until the start only, and skips bookings made after the due time", () => {
    // 18:00 GMT on 25 October 2026, the day the clocks go back: 24 h before is 19:00 BST the day before.
    const startsAt = Date.parse("2026-10-25T18:00:00Z");
    expect(reminderDueAt(startsAt, null)).toBe(Date.parse("2026-10-24T18:00:00Z"));
    expect(reminderDueAt(startsAt, 0)).toBeNull();
    const line = { startsAt, reminderHoursBefore: null, confirmedAt: startsAt - 100 * HOUR };
    expect(isReminderDue(line, startsAt - 24 * HOUR - 1)).toBe(false);
    expect(isReminderDue(line, startsAt - 24 * HOUR)).toBe(true);
    expect(isReminderDue(line, startsAt - 1)).toBe(true);
    expect(isReminderDue(line, startsAt)).toBe(false);
    expect(isReminderDue({ ...line, confirmedAt: startsAt - 2 * HOUR }, startsAt - HOUR)).toBe(false);
    const ended = { endsAt: startsAt + HOUR, followUpHoursAfter: null };
    expect(isFollowUpDue(ended, startsAt + 3 * HOUR - 1)).toBe(false);
    expect(isFollowUpDue(ended, startsAt + 3 * HOUR)).toBe(true);
    expect(isFollowUpDue(ended, startsAt + 27 * HOUR)).toBe(false);
    expect(isFollowUpDue({ ...ended, followUpHoursAfter: 0 }, startsAt + 3 * HOUR)).toBe(false);
  });
});

describe("session reminders", () => {
  it("queues a due reminder that lands in the dev mailbox exactly once, however often and concurrently the job runs", async () => {
    const startsAt = base(2031);
    const line = await bookedLine({ startsAt, seats: 2 });
    const due = startsAt - 24 * HOUR;

    expect(await run(due - 15 * 60_000)).toMatchObject({ reminders: 0 });
    const [first, second] = await Promise.all([run(due), run(due)]);
    // Both runs may queue it (neither sees the other's request yet); the consumer sends its id once.
    expect(first.reminders + second.reminders).toBeGreaterThanOrEqual(1);

    const messages = await received(line.email, /^Reminder: /);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toContain("for 2 seats");
    expect(messages[0]!.text).toContain("Address: 1 Kiln Lane, Leeds");
    expect(messages[0]!.html).toContain("<a href=");
    // The manage link in it opens the booking's own manage route with its token.
    expect(messages[0]!.text).toMatch(new RegExp(`/api/v1/bookings/${line.bookingId}\\?token=[A-Za-z0-9_-]{43}`));

    const id = `reminder:${line.bookingId}:${line.sessionId}`;
    await eventually(async () => (await communication(id))?.status === "sent");
    expect(await communication(id)).toMatchObject({ type: "SESSION_REMINDER", attempts: 1, sent_by: null });
    // Recorded, it is not even queued again: a later run, or a restart repeating this one, finds nothing due.
    expect(await run(due + 15 * 60_000)).toMatchObject({ reminders: 0 });
    await cron(due + 30 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await mailbox(line.email)).toHaveLength(1);
  });

  it("sends none for a cancelled booking line, a cancelled booking or a cancelled session", async () => {
    const startsAt = base(2033);
    const control = await bookedLine({ startsAt });
    const cancelledLine = await bookedLine({ startsAt, lineStatus: "cancelled" });
    const cancelledBooking = await bookedLine({ startsAt, lineStatus: "cancelled", bookingStatus: "cancelled" });
    const cancelledSession = await bookedLine({ startsAt, sessionStatus: "cancelled" });

    expect(await run(startsAt - 23 * HOUR)).toMatchObject({ reminders: 1 });
    await received(control.email, /^Reminder: /);
    for (const line of [cancelledLine, cancelledBooking, cancelledSession]) {
      expect(await mailbox(line.email)).toEqual([]);
      expect(await communication(`reminder:${line.bookingId}:${line.sessionId}`)).toBeNull();
    }
  });

  it("respects each class's hours (0 is none), sends a missed reminder late but never after the start", async () => {
    const startsAt = base(2035);
    const twoDays = await bookedLine({ startsAt, reminderHoursBefore: 48 });
    const off = await bookedLine({ startsAt, reminderHoursBefore: 0 });
    const byDefault = await bookedLine({ startsAt: startsAt + 10 * 24 * HOUR });
    const bookedLate = await bookedLine({ startsAt, reminderHoursBefore: 48, confirmedAt: startsAt - 30 * HOUR });

    expect(await run(startsAt - 49 * HOUR)).toMatchObject({ reminders: 0 });
    // 48 h before: only the class that asks for 48 h; the one that says 0 never; the late booking had its confirmation.
    expect(await run(startsAt - 48 * HOUR)).toMatchObject({ reminders: 1 });
    await received(twoDays.email, /^Reminder: /);
    expect(await run(startsAt - HOUR)).toMatchObject({ reminders: 0 });
    expect(await mailbox(off.email)).toEqual([]);
    expect(await mailbox(bookedLate.email)).toEqual([]);

    // The default is 24 h; the cron was down from then until 1 minute before the start: still sent.
    const later = startsAt + 10 * 24 * HOUR;
    expect(await run(later - 25 * HOUR)).toMatchObject({ reminders: 0 });
    const missedUntil = later - 60_000;
    expect(await run(missedUntil)).toMatchObject({ reminders: 1 });
    await received(byDefault.email, /^Reminder: /);

    // Once a session has started, no reminder at all.
    const started = await bookedLine({ startsAt: later + 20 * 24 * HOUR });
    expect(await run(later + 20 * 24 * HOUR + 60_000)).toMatchObject({ reminders: 0 });
    expect(await communication(`reminder:${started.bookingId}:${started.sessionId}`)).toBeNull();
  });

  it("across the October clock change: 24 absolute hours before 18:00 GMT, shown as 18:00 GMT; the follow-up after the end", async () => {
    // Sunday 25 October 2026: clocks go back at 02:00 BST. 18:00 that evening is GMT, 18:00 UTC.
    const startsAt = Date.parse("2026-10-25T18:00:00Z");
    const line = await bookedLine({ startsAt, durationHours: 2, confirmedAt: Date.parse("2026-10-01T09:00:00Z") });
    const due = Date.parse("2026-10-24T18:00:00Z");
    expect(due).toBe(startsAt - 24 * HOUR);

    // 18:00 BST on Saturday is only 23 hours before: not yet (a wall-clock "day before" would send it here).
    await cron(Date.parse("2026-10-24T17:00:00Z"));
    expect(await run(Date.parse("2026-10-24T17:45:00Z"))).toMatchObject({ reminders: 0 });
    await cron(due);
    const [reminder] = await received(line.email, /^Reminder: /);
    expect(reminder!.subject).toContain("Sun 25 Oct, 18:00");
    expect(reminder!.text).toContain("on Sunday 25 October 2026, 18:00 GMT");
    expect(await communication(`reminder:${line.bookingId}:${line.sessionId}`)).toMatchObject({ status: "sent", type: "SESSION_REMINDER" });

    // The follow-up: 2 hours (the default) after the 20:00 end, at 22:00 GMT.
    const end = startsAt + 2 * HOUR;
    expect(await run(end + 2 * HOUR - 15 * 60_000)).toMatchObject({ followUps: 0 });
    await cron(end + 2 * HOUR);
    const messages = await received(line.email, /^Thanks for coming/);
    const followUp = messages.find((m) => /^Thanks for coming/.test(m.subject))!;
    expect(followUp.text).toContain("Thanks for coming to");
    expect(followUp.text).toContain("on Sunday 25 October 2026, 18:00 GMT");
    expect(followUp.text).toMatch(/Book again: http:\/\/127\.0\.0\.1:8787\/api\/v1\/classes\/cls_/);
    expect(await run(end + 3 * HOUR)).toMatchObject({ followUps: 0 });
    expect(await mailbox(line.email)).toHaveLength(2);
  });

  it("sends follow-ups by each class's hours, not for cancelled lines, and not long after they were due", async () => {
    const startsAt = base(2037);
    const end = startsAt + HOUR;
    const sixHours = await bookedLine({ startsAt, followUpHoursAfter: 6, reminderHoursBefore: 0 });
    const off = await bookedLine({ startsAt, followUpHoursAfter: 0, reminderHoursBefore: 0 });
    const cancelled = await bookedLine({ startsAt, followUpHoursAfter: 6, reminderHoursBefore: 0, lineStatus: "cancelled" });

    expect(await run(end + 5 * HOUR)).toMatchObject({ followUps: 0 });
    expect(await run(end + 6 * HOUR)).toMatchObject({ followUps: 1 });
    await received(sixHours.email, /^Thanks for coming/);
    expect(await mailbox(off.email)).toEqual([]);
    expect(await mailbox(cancelled.email)).toEqual([]);

    // A follow-up whose time passed more than a day ago (the cron was down) is not sent any more.
    const stale = await bookedLine({ startsAt: startsAt + 30 * 24 * HOUR, reminderHoursBefore: 0 });
    expect(await run(startsAt + 30 * 24 * HOUR + HOUR + 2 * HOUR + 25 * HOUR)).toMatchObject({ followUps: 0 });
    expect(await communication(`follow-up:${stale.bookingId}:${stale.sessionId}`)).toBeNull();
  });
});

describe("the class settings on the admin routes", () => {
  it("shows, sets and validates reminderHoursBefore and followUpHoursAfter (0..336, null the default)", async () => {
    const admin = await tokenFor("admin");
    const klass = await makeClass();
    const shown = await call("GET", `/api/v1/admin/classes/${klass.id}`, { token: admin });
    expect(shown.json).toMatchObject({ reminderHoursBefore: null, followUpHoursAfter: null });

    const set = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { reminderHoursBefore: 48, followUpHoursAfter: 0 } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ reminderHoursBefore: 48, followUpHoursAfter: 0 });
    const stored = await db.query.classes.findFirst({ where: (c, { eq }) => eq(c.id, klass.id) });
    expect(stored).toMatchObject({ reminderHoursBefore: 48, followUpHoursAfter: 0 });

    for (const body of [{ reminderHoursBefore: 337 }, { reminderHoursBefore: -1 }, { followUpHoursAfter: 1.5 }, { followUpHoursAfter: "2" }]) {
      const refused = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.error.code).toBe("VALIDATION_FAILED");
    }
    const reset = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { reminderHoursBefore: null } });
    expect(reset.json).toMatchObject({ reminderHoursBefore: null, followUpHoursAfter: 0 });

    const staff = await tokenFor("staff");
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: staff, body: { reminderHoursBefore: 1 } })).status).toBe(403);
  });
});
