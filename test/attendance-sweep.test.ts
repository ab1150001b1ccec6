/** The no-show sweep (src/jobs/no-show-sweep.ts), run by the SESSION_MESSAGES cron. */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { runNoShowSweep } from "../src/jobs/no-show-sweep";
import { runScheduled } from "../src/jobs/scheduled";
import { SESSION_MESSAGES } from "../src/jobs/reminders";
import { attendanceRows, bookedSeats, mark, roster, sessionStartingIn, settledAttendanceEvents, staffToken } from "./attendance-helpers";

const MINUTE = 60_000;

/** The cron as Cloudflare fires it, at `at`. */
function cronAt(at: number) {
  return runScheduled(createScheduledController({ cron: SESSION_MESSAGES, scheduledTime: at }), env as unknown as Env);
}

async function sweptRow(sessionId: string) {
  return env.DB.prepare(`SELECT marked FROM attendance_sweeps WHERE session_id = ?`).bind(sessionId).first<{ marked: number }>();
}

describe("the no-show sweep", { timeout: 20_000 }, () => {
  it("marks attendees still booked 30 minutes after the start as no-shows, once; an undo afterwards stays", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-20);
    const { attendeeIds } = await bookedSeats(session.id, 3);
    expect((await mark(session.id, attendeeIds[0]!, "check-in", staff)).status).toBe(200);
    const startsAt = session.startsAt.getTime();

    // 20 minutes in: inside the grace time, nothing happens.
    await cronAt(startsAt + 20 * MINUTE);
    expect(await attendanceRows(session.id)).toEqual([{ attendeeId: attendeeIds[0], status: "checked_in", recordedBy: expect.stringContaining("staff") }]);
    expect(await sweptRow(session.id)).toBeNull();

    await cronAt(startsAt + 31 * MINUTE);
    expect(await attendanceRows(session.id)).toEqual(
      [
        { attendeeId: attendeeIds[0], status: "checked_in", recordedBy: expect.stringContaining("staff") },
        { attendeeId: attendeeIds[1], status: "no_show", recordedBy: "system" },
        { attendeeId: attendeeIds[2], status: "no_show", recordedBy: "system" },
      ].sort((a, b) => (a.attendeeId! < b.attendeeId! ? -1 : 1)),
    );
    expect(await sweptRow(session.id)).toEqual({ marked: 2 });
    const listed = (await roster(session.id, staff)).json.data;
    expect(listed.map((entry: { status: string; recordedBy: string }) => [entry.status, entry.recordedBy])).toEqual([
      ["checked_in", expect.stringContaining("staff")],
      ["no_show", "system"],
      ["no_show", "system"],
    ]);

    // Run again (a retried or overlapping cron): nothing twice.
    await cronAt(startsAt + 46 * MINUTE);
    await Promise.all([runNoShowSweep(env as unknown as Env, new Date(startsAt + 47 * MINUTE)), runNoShowSweep(env as unknown as Env, new Date(startsAt + 47 * MINUTE))]);

    // Staff take one no-show back (they came late): the next runs leave it booked.
    expect((await mark(session.id, attendeeIds[1]!, "undo", staff)).json.status).toBe("booked");
    await cronAt(startsAt + 61 * MINUTE);
    expect((await roster(session.id, staff)).json.data[1]).toMatchObject({ attendeeId: attendeeIds[1], status: "booked", recordedBy: null });

    const events = await settledAttendanceEvents(session.id, 4);
    expect(events.map((event) => [event.type, JSON.parse(event.data).attendeeId, JSON.parse(event.data).previousStatus])).toEqual(
      expect.arrayContaining([
        ["ATTENDED", attendeeIds[0], "booked"],
        ["NO_SHOW", attendeeIds[1], "booked"],
        ["NO_SHOW", attendeeIds[2], "booked"],
        ["ATTENDANCE_UNDONE", attendeeIds[1], "no_show"],
      ]),
    );
    expect(events.filter((event) => event.type === "NO_SHOW").map((event) => JSON.parse(event.data).recordedBy)).toEqual(["system", "system"]);
  });

  it("leaves cancelled sessions and sessions older than its look-back alone", async () => {
    const cancelled = await sessionStartingIn(-120, { status: "cancelled" });
    await bookedSeats(cancelled.session.id, 1);
    const old = await sessionStartingIn(-4 * 24 * 60);
    await bookedSeats(old.session.id, 1);
    const due = await sessionStartingIn(-120);
    await bookedSeats(due.session.id, 2);
    await cronAt(Date.now());
    expect(await attendanceRows(cancelled.session.id)).toEqual([]);
    expect(await attendanceRows(old.session.id)).toEqual([]);
    expect((await attendanceRows(due.session.id)).map((row) => row.status)).toEqual(["no_show", "no_show"]);
    expect(await sweptRow(cancelled.session.id)).toBeNull();
    expect(await sweptRow(old.session.id)).toBeNull();
  });

  it("sweeps at most its limit of sessions a run; the rest the next run", async () => {
    const first = await sessionStartingIn(-60);
    const second = await sessionStartingIn(-59);
    await bookedSeats(first.session.id, 1);
    await bookedSeats(second.session.id, 1);
    const now = new Date();
    const runs = [];
    // Other tests' sessions may be due too: each run takes one, oldest first, until both of ours are swept.
    for (let run = 0; run < 20 && (!(await sweptRow(first.session.id)) || !(await sweptRow(second.session.id))); run++) {
      runs.push(await runNoShowSweep(env as unknown as Env, now, 1));
    }
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((result) => result.sessions === 1 && result.failed.length === 0)).toBe(true);
    expect(await sweptRow(first.session.id)).toEqual({ marked: 1 });
    expect(await sweptRow(second.session.id)).toEqual({ marked: 1 });
  });
});
