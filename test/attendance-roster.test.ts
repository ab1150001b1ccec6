/** The roster, check-in, no-show and undo (src/routes/admin/roster.ts, src/services/attendance.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attendeeId } from "../src/domain/attendees";
import { postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeCancelledBooking } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { attendanceRows, bookedSeats, mark, roster, sessionStartingIn, settledAttendanceEvents, staffToken } from "./attendance-helpers";

describe("GET /api/v1/admin/sessions/{id}/roster", { timeout: 20_000 }, () => {
  it("lists every seat of every confirmed booking line, booker first, and fills attendee rows for older bookings", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const email = uniqueEmail("roster");
    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 3, contact: { email, firstName: "Grace", lastName: "Hopper" } }));
    expect(booked.status).toBe(201);
    await projectionCaughtUp(session.id);
    const older = await bookedSeats(session.id, 2);
    await makeCancelledBooking(session.id, 4);
    // The projection wrote one attendee row per seat of the real booking; the fixture booking has none yet.
    const before = await env.DB.prepare(`SELECT booking_id, count(*) AS n FROM booking_attendees WHERE booking_id IN (?, ?) GROUP BY booking_id`)
      .bind(booked.json.booking.id, older.bookingId)
      .all<{ booking_id: string; n: number }>();
    expect(before.results).toEqual([{ booking_id: booked.json.booking.id, n: 3 }]);

    const response = await roster(session.id, await staffToken());
    expect(response.status).toBe(200);
    const bookingId = booked.json.booking.id;
    expect(response.json.data.map((entry: { attendeeId: string }) => entry.attendeeId).sort()).toEqual(
      [attendeeId(bookingId, 1), attendeeId(bookingId, 2), attendeeId(bookingId, 3), ...older.attendeeIds].sort(),
    );
    const first = response.json.data.find((entry: { attendeeId: string }) => entry.attendeeId === attendeeId(bookingId, 1));
    expect(first).toEqual({ attendeeId: attendeeId(bookingId, 1), bookingId, position: 1, name: "Grace Hopper", email, status: "booked", recordedBy: null, recordedAt: null });
    const guest = response.json.data.find((entry: { attendeeId: string }) => entry.attendeeId === older.attendeeIds[1]);
    expect(guest).toMatchObject({ position: 2, name: null, email: null, status: "booked" });
    expect(response.json.session).toMatchObject({ id: session.id, startsAt: session.startsAt.toISOString() });
    expect(Date.parse(response.json.session.checkInOpensAt)).toBe(session.startsAt.getTime() - 60 * 60_000);

    const filled = await env.DB.prepare(`SELECT position, name FROM booking_attendees WHERE booking_id = ? ORDER BY position`).bind(older.bookingId).all();
    expect(filled.results).toEqual([
      { position: 1, name: "Ada Guest" },
      { position: 2, name: null },
    ]);
  });

  it("is 404 for an unknown session, and for staff and admins only", async () => {
    const { session } = await sessionStartingIn(10);
    expect((await roster("ses_missing", await staffToken())).status).toBe(404);
    expect((await roster(session.id, await tokenFor("admin"))).status).toBe(200);
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/roster`)).status).toBe(401);
    expect((await roster(session.id, await tokenFor("customer"))).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/roster.csv`, { token: await tokenFor("customer") })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/sessions/${session.id}/roster/check-in`, { token: await tokenFor("customer"), body: { attendeeIds: ["atd_x.1"] } })).status).toBe(403);
  });
});

describe("check-in, no-show and undo", { timeout: 20_000 }, () => {
  it("records each change once, emits one event per change with what it replaced", async () => {
    const { session, klass } = await sessionStartingIn(-5);
    const { bookingId, attendeeIds } = await bookedSeats(session.id, 2);
    const staff = await staffToken();

    const checkedIn = await mark(session.id, attendeeIds[0]!, "check-in", staff);
    expect(checkedIn.status).toBe(200);
    expect(checkedIn.json).toMatchObject({ attendeeId: attendeeIds[0], bookingId, status: "checked_in", recordedBy: expect.stringContaining("staff") });
    const again = await mark(session.id, attendeeIds[0]!, "check-in", staff);
    expect(again.json).toEqual(checkedIn.json);
    expect((await mark(session.id, attendeeIds[0]!, "no-show", staff)).json.status).toBe("no_show");
    expect((await mark(session.id, attendeeIds[0]!, "undo", staff)).json).toMatchObject({ status: "booked", recordedBy: null, recordedAt: null });
    expect((await mark(session.id, attendeeIds[0]!, "undo", staff)).json.status).toBe("booked");
    expect(await attendanceRows(session.id)).toEqual([]);

    const events = await settledAttendanceEvents(session.id, 3);
    expect(events.map((event) => [event.type, JSON.parse(event.data).previousStatus])).toEqual([
      ["ATTENDED", "booked"],
      ["NO_SHOW", "checked_in"],
      ["ATTENDANCE_UNDONE", "no_show"],
    ]);
    const customer = await env.DB.prepare(`SELECT customer_id FROM bookings WHERE id = ?`).bind(bookingId).first<{ customer_id: string }>();
    for (const event of events) {
      expect(event).toMatchObject({ session_id: session.id, class_id: klass.id, studio_id: klass.studioId, booking_id: bookingId, customer_id: customer!.customer_id });
      expect(JSON.parse(event.data)).toMatchObject({ attendeeId: attendeeIds[0] });
    }
    const listed = await roster(session.id, staff);
    expect(listed.json.data.map((entry: { status: string }) => entry.status)).toEqual(["booked", "booked"]);
  });

  it("opens check-in an hour before the start and no-shows at the start; refuses cancelled sessions", async () => {
    const staff = await staffToken();
    const later = await sessionStartingIn(90);
    const { attendeeIds } = await bookedSeats(later.session.id, 1);
    const early = await mark(later.session.id, attendeeIds[0]!, "check-in", staff);
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ code: "ATTENDANCE_NOT_OPEN", details: { opensAt: new Date(later.session.startsAt.getTime() - 3600_000).toISOString() } });

    const soon = await sessionStartingIn(30);
    const seat = (await bookedSeats(soon.session.id, 1)).attendeeIds[0]!;
    expect((await mark(soon.session.id, seat, "no-show", staff)).json.error.code).toBe("ATTENDANCE_NOT_OPEN");
    expect((await mark(soon.session.id, seat, "check-in", staff)).json.status).toBe("checked_in");

    const cancelled = await sessionStartingIn(-10, { status: "cancelled" });
    const cancelledSeat = (await bookedSeats(cancelled.session.id, 1)).attendeeIds[0]!;
    expect((await mark(cancelled.session.id, cancelledSeat, "check-in", staff)).json.error.code).toBe("ATTENDANCE_NOT_OPEN");
    expect(await attendanceRows(later.session.id)).toEqual([]);
  });

  it("is 404 for an attendee not on the session: another session's, a cancelled booking's, a seat beyond the booking, nonsense", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-5);
    const other = await sessionStartingIn(-5);
    const { bookingId } = await bookedSeats(session.id, 2);
    const elsewhere = (await bookedSeats(other.session.id, 1)).attendeeIds[0]!;
    const cancelledBooking = await makeCancelledBooking(session.id, 1);
    for (const id of [elsewhere, attendeeId(cancelledBooking, 1), attendeeId(bookingId, 3), "nonsense"]) {
      const response = await mark(session.id, id, "check-in", staff);
      expect(response.status, id).toBe(404);
      expect(response.json.error.code).toBe("NOT_FOUND");
    }
    expect((await mark("ses_missing", attendeeId(bookingId, 1), "check-in", staff)).status).toBe(404);
    expect(await attendanceRows(session.id)).toEqual([]);
  });

  it("bulk check-in: all or nothing, 400 for ids that are not attendee ids, already checked-in ones unchanged", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-5);
    const other = await sessionStartingIn(-5);
    const { attendeeIds } = await bookedSeats(session.id, 3);
    const foreign = (await bookedSeats(other.session.id, 1)).attendeeIds[0]!;
    const path = `/api/v1/admin/sessions/${session.id}/roster/check-in`;

    const mixed = await call("POST", path, { token: staff, body: { attendeeIds: [attendeeIds[0], foreign] } });
    expect(mixed.status).toBe(404);
    expect(mixed.json.error.details.attendeeIds).toEqual([foreign]);
    const malformed = await call("POST", path, { token: staff, body: { attendeeIds: [attendeeIds[0], "bkg_1"] } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.details.issues[0].path).toBe("attendeeIds.1");
    expect((await call("POST", path, { token: staff, body: { attendeeIds: [] } })).status).toBe(400);
    expect(await attendanceRows(session.id)).toEqual([]);

    await mark(session.id, attendeeIds[0]!, "check-in", staff);
    const bulk = await call("POST", path, { token: staff, body: { attendeeIds } });
    expect(bulk.status).toBe(200);
    expect(bulk.json.data.map((entry: { attendeeId: string; status: string }) => [entry.attendeeId, entry.status])).toEqual(attendeeIds.map((id) => [id, "checked_in"]));
    expect((await attendanceRows(session.id)).map((row) => row.status)).toEqual(["checked_in", "checked_in", "checked_in"]);
    const events = await settledAttendanceEvents(session.id, 3);
    expect(events.map((event) => JSON.parse(event.data).attendeeId).sort()).toEqual([...attendeeIds].sort());
  });

  it("parallel check-ins of one attendee record and emit once", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-5);
    const { attendeeIds } = await bookedSeats(session.id, 6);
    const same = await Promise.all(Array.from({ length: 6 }, () => mark(session.id, attendeeIds[0]!, "check-in", staff)));
    expect(same.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await settledAttendanceEvents(session.id, 1))[0]!.type).toBe("ATTENDED");
  });

  it("control for the test above: parallel read-then-writes do race, and parallel check-ins of different attendees each emit", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-5);
    // Control: the same six in parallel, read-then-write without the compare-and-set, do overlap:
    // more than one of them sees the attendee still booked and would have emitted.
    const seat = attendeeId("bkg_race-control", 1);
    const naive = async () => {
      const row = await env.DB.prepare(`SELECT 1 FROM session_attendance WHERE session_id = ? AND attendee_id = ?`).bind(session.id, seat).first();
      if (row) return false;
      await env.DB.prepare(`INSERT OR REPLACE INTO session_attendance VALUES (?, ?, 'bkg_race-control', 'checked_in', 'test', ?)`).bind(session.id, seat, Date.now()).run();
      return true;
    };
    const naiveWins = (await Promise.all(Array.from({ length: 6 }, naive))).filter(Boolean).length;
    expect(naiveWins).toBeGreaterThan(1);

    const control = await sessionStartingIn(-5);
    const seats = (await bookedSeats(control.session.id, 6)).attendeeIds;
    const each = await Promise.all(seats.map((id) => mark(control.session.id, id, "check-in", staff)));
    expect(each.every((response) => response.status === 200)).toBe(true);
    expect(await settledAttendanceEvents(control.session.id, 6)).toHaveLength(6);
  });
});

describe("the OpenAPI document", () => {
  it("lists the roster and participant routes, the staff ones behind bearerAuth", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const staffOps = [
      ["/api/v1/admin/sessions/{id}/roster", "get"],
      ["/api/v1/admin/sessions/{id}/roster.csv", "get"],
      ["/api/v1/admin/sessions/{id}/roster/check-in", "post"],
      ["/api/v1/admin/sessions/{id}/roster/{attendeeId}/check-in", "post"],
      ["/api/v1/admin/sessions/{id}/roster/{attendeeId}/no-show", "post"],
      ["/api/v1/admin/sessions/{id}/roster/{attendeeId}/undo", "post"],
      ["/api/v1/admin/bookings/{id}/participants", "put"],
    ] as const;
    for (const [path, method] of staffOps) {
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
    }
    expect(doc.paths["/api/v1/bookings/{id}/participants"].put.responses["409"]).toBeDefined();
    expect(doc.paths["/api/v1/bookings/{id}/participants"].get).toBeDefined();
  });
});
