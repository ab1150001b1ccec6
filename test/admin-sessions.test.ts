/** Admin sessions: list, read, one-off create, capacity/location changes, delete, security. */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { availability, d1BookedSeats, postBooking, postHold, projectionCaughtUp, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeBooking, makeCancelledBooking, makeClass, makeRole, makeSession, makeStaff, makeStudio } from "./fixtures";
import { call, tokenFor } from "./helpers";

const BASE = "/api/v1/admin/sessions";
const db = () => getDb(env.DB);

let admin: string;
let staffToken: string;
let customer: string;
beforeAll(async () => {
  [admin, staffToken, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

async function qualifiedClass(overrides: Partial<typeof t.classes.$inferInsert> = {}) {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id, durationMinutes: 90, defaultCapacity: 8, ...overrides });
  return { role, klass };
}

describe("GET /admin/sessions/{id}", () => {
  it("shows the class, studio-local times, staff and seats on confirmed bookings only", async () => {
    const { role, klass } = await qualifiedClass();
    const [lead, helper] = await Promise.all([makeStaff([role.id]), makeStaff([role.id])]);
    const session = await makeSession(klass.id, {
      startsAt: new Date("2031-07-07T17:00:00Z"),
      endsAt: new Date("2031-07-07T18:30:00Z"),
      instructorId: lead.id,
      location: "Studio A",
    });
    await db().insert(t.sessionAssistants).values({ sessionId: session.id, staffId: helper.id });
    await makeBooking(session.id, 2);
    await makeBooking(session.id, 1);
    await makeCancelledBooking(session.id, 4);

    const res = await call("GET", `${BASE}/${session.id}`, { token: staffToken });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: session.id,
      classId: klass.id,
      className: klass.name,
      patternId: null,
      status: "scheduled",
      startsAt: "2031-07-07T17:00:00.000Z",
      endsAt: "2031-07-07T18:30:00.000Z",
      timeZone: "Europe/London",
      localStart: "2031-07-07T18:00:00+01:00",
      localEnd: "2031-07-07T19:30:00+01:00",
      capacity: 12,
      location: "Studio A",
      seatsBooked: 3,
      instructor: { id: lead.id, firstName: lead.firstName, lastName: lead.lastName },
      assistants: [{ id: helper.id, firstName: helper.firstName, lastName: helper.lastName }],
    });
  });

  it("answers 404 for an unknown session", async () => {
    const res = await call("GET", `${BASE}/ses_nope`, { token: admin });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
  });
});

describe("GET /admin/sessions", () => {
  it("filters by class, instructor, status and time window, in start order, a page at a time", async () => {
    const { role, klass } = await qualifiedClass();
    const lead = await makeStaff([role.id]);
    const at = (day: number) => new Date(Date.UTC(2033, 2, day, 9));
    const s1 = await makeSession(klass.id, { startsAt: at(3), instructorId: lead.id });
    const s2 = await makeSession(klass.id, { startsAt: at(1) });
    const s3 = await makeSession(klass.id, { startsAt: at(2), status: "cancelled" });
    const s4 = await makeSession(klass.id, { startsAt: at(4), instructorId: lead.id });
    const otherClass = await qualifiedClass();
    await makeSession(otherClass.klass.id, { startsAt: at(2) });

    const ids = (json: { data: { id: string }[] }) => json.data.map((s) => s.id);
    const all = await call("GET", `${BASE}?classId=${klass.id}`, { token: staffToken });
    expect(all.status).toBe(200);
    expect(ids(all.json)).toEqual([s2.id, s3.id, s1.id, s4.id]);

    const page1 = await call("GET", `${BASE}?classId=${klass.id}&limit=3`, { token: admin });
    expect(ids(page1.json)).toEqual([s2.id, s3.id, s1.id]);
    const page2 = await call("GET", `${BASE}?classId=${klass.id}&limit=3&cursor=${page1.json.nextCursor}`, { token: admin });
    expect(ids(page2.json)).toEqual([s4.id]);
    expect(page2.json.nextCursor).toBeNull();

    expect(ids((await call("GET", `${BASE}?instructorId=${lead.id}`, { token: admin })).json)).toEqual([s1.id, s4.id]);
    expect(ids((await call("GET", `${BASE}?classId=${klass.id}&status=cancelled`, { token: admin })).json)).toEqual([s3.id]);
    const window = await call("GET", `${BASE}?classId=${klass.id}&from=2033-03-02T09:00:00Z&to=2033-03-04T09:00:00Z`, { token: admin });
    expect(ids(window.json)).toEqual([s3.id, s1.id]);
  });

  it("pages through sessions that start at the same instant", async () => {
    const { klass } = await qualifiedClass();
    const startsAt = new Date("2033-04-01T09:00:00Z");
    const made = await Promise.all([0, 1, 2].map(() => makeSession(klass.id, { startsAt })));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof call>> = await call("GET", `${BASE}?classId=${klass.id}&limit=1${cursor ? `&cursor=${cursor}` : ""}`, {
        token: admin,
      });
      seen.push(...res.json.data.map((s: { id: string }) => s.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((s) => s.id).sort());
  });

  it("filters by pattern", async () => {
    const { klass } = await qualifiedClass();
    const pattern = await call("POST", "/api/v1/admin/schedule-patterns", {
      token: admin,
      body: { classId: klass.id, frequency: "DAILY", count: 2, startDate: "2098-06-01", startTime: "09:00" },
    });
    await call("POST", `/api/v1/admin/schedule-patterns/${pattern.json.id}/generate-sessions`, { token: admin });
    await makeSession(klass.id);
    const res = await call("GET", `${BASE}?patternId=${pattern.json.id}`, { token: admin });
    expect(res.json.data.map((s: { localStart: string }) => s.localStart)).toEqual(["2098-06-01T09:00:00+01:00", "2098-06-02T09:00:00+01:00"]);
  });

  it("rejects bad filters with field paths", async () => {
    const res = await call("GET", `${BASE}?status=open&from=yesterday&limit=0`, { token: admin });
    expect(res.status).toBe(400);
    expect(res.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["from", "limit", "status"]);
    for (const key of [["x", 1], [1e300, "ses_x"], [1.5, "ses_x"]]) {
      const cursor = await call("GET", `${BASE}?cursor=${btoa(JSON.stringify(key))}`, { token: admin });
      expect(cursor.status, JSON.stringify(key)).toBe(400);
    }
  });
});

describe("POST /admin/sessions", () => {
  it("creates a one-off session with the class's duration and capacity", async () => {
    const { klass } = await qualifiedClass();
    const res = await call("POST", BASE, { token: admin, body: { classId: klass.id, startsAt: "2031-08-04T19:00:00+01:00" } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      classId: klass.id,
      patternId: null,
      startsAt: "2031-08-04T18:00:00.000Z",
      endsAt: "2031-08-04T19:30:00.000Z",
      localStart: "2031-08-04T19:00:00+01:00",
      capacity: 8,
      location: null,
      seatsBooked: 0,
      instructor: null,
      assistants: [],
    });
    expect(res.json.id).toMatch(/^ses_/);
  });

  it("creates it with staff, and applies the staff rules", async () => {
    const { role, klass } = await qualifiedClass();
    const [lead, helper] = await Promise.all([makeStaff([role.id]), makeStaff([role.id])]);
    const body = { classId: klass.id, startsAt: "2031-08-05T10:00:00Z", durationMinutes: 60, capacity: 4, location: "Hall", instructorId: lead.id, assistantIds: [helper.id] };
    const res = await call("POST", BASE, { token: admin, body });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ capacity: 4, location: "Hall", instructor: { id: lead.id }, assistants: [{ id: helper.id }] });

    // The same instructor at an overlapping time: 409, and nothing is created.
    const clash = await call("POST", BASE, { token: admin, body: { ...body, startsAt: "2031-08-05T10:30:00Z", assistantIds: [] } });
    expect(clash.status).toBe(409);
    expect(clash.json.error).toMatchObject({ code: "STAFF_DOUBLE_BOOKED", details: { clashingSessionId: res.json.id } });
    const unqualified = await call("POST", BASE, {
      token: admin,
      body: { ...body, startsAt: "2031-09-05T10:00:00Z", instructorId: (await makeStaff()).id, assistantIds: [] },
    });
    expect(unqualified.status).toBe(422);
    expect(unqualified.json.error.code).toBe("STAFF_NOT_QUALIFIED");
    const rows = await db().select().from(t.classSessions).where(eq(t.classSessions.classId, klass.id));
    expect(rows).toHaveLength(1);
  });

  it("validates the body with field paths, and the class as a reference", async () => {
    const bad = await call("POST", BASE, {
      token: admin,
      body: { classId: "", startsAt: "2031-08-05 10:00", capacity: 0, durationMinutes: 2000 },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      "capacity",
      "classId",
      "durationMinutes",
      "startsAt",
    ]);
    const missing = await call("POST", BASE, { token: admin, body: { classId: "cls_nope", startsAt: "2031-08-05T10:00:00Z" } });
    expect(missing.status).toBe(422);
    expect(missing.json.error.code).toBe("INVALID_REFERENCE");
  });
});

describe("PATCH /admin/sessions/{id}", () => {
  it("changes capacity and location, but not capacity below the seats booked or held (asked of the session's DO)", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const booked = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 3 }));
    expect(booked.status).toBe(201);
    const cancelled = await postBooking(singleBookingBody(session.id, 1000, { guestCount: 5 }));
    await call("POST", `/api/v1/bookings/${cancelled.json.booking.id}/cancel?token=${cancelled.json.manageToken}`);
    // seatsBooked in the answer comes from D1, a projection written after each answer: wait until
    // D1 has both lines as the DO does (the second cancelled), not just a moment where it sums to 3.
    await projectionCaughtUp(session.id);
    expect(await d1BookedSeats(session.id)).toBe(3);

    const ok = await call("PATCH", `${BASE}/${session.id}`, { token: admin, body: { capacity: 3, location: "Annex" } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ capacity: 3, location: "Annex", seatsBooked: 3 });
    expect(await availability(session.id)).toMatchObject({ capacity: 3, status: "full" });

    const tooSmall = await call("PATCH", `${BASE}/${session.id}`, { token: admin, body: { capacity: 2 } });
    expect(tooSmall.status).toBe(409);
    expect(tooSmall.json.error).toMatchObject({ code: "IN_USE", details: { capacity: 2, seatsBooked: 3, seatsHeld: 0 } });
    const [row] = await db().select().from(t.classSessions).where(eq(t.classSessions.id, session.id));
    expect(row!.capacity).toBe(3);
    expect(await availability(session.id)).toMatchObject({ capacity: 3 });

    const cleared = await call("PATCH", `${BASE}/${session.id}`, { token: admin, body: { location: null } });
    expect(cleared.json.location).toBeNull();
  });

  it("validates and answers 404 for an unknown session", async () => {
    const { klass } = await qualifiedClass();
    const session = await makeSession(klass.id);
    const bad = await call("PATCH", `${BASE}/${session.id}`, { token: admin, body: { capacity: -1, location: "" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["capacity", "location"]);
    expect((await call("PATCH", `${BASE}/ses_nope`, { token: admin, body: { capacity: 5 } })).status).toBe(404);
  });
});

describe("DELETE /admin/sessions/{id}", () => {
  it("deletes a session without bookings, with its assistants", async () => {
    const { role, klass } = await qualifiedClass();
    const session = await makeSession(klass.id);
    await db().insert(t.sessionAssistants).values({ sessionId: session.id, staffId: (await makeStaff([role.id])).id });
    expect((await call("DELETE", `${BASE}/${session.id}`, { token: admin })).status).toBe(204);
    expect((await call("GET", `${BASE}/${session.id}`, { token: admin })).status).toBe(404);
    expect(await db().select().from(t.sessionAssistants).where(eq(t.sessionAssistants.sessionId, session.id))).toEqual([]);
    expect((await call("DELETE", `${BASE}/${session.id}`, { token: admin })).status).toBe(404);
  });

  it("refuses with 409 IN_USE while it has bookings, cancelled ones included", async () => {
    const { klass } = await qualifiedClass();
    const booked = await makeSession(klass.id);
    await makeBooking(booked.id, 2);
    const res = await call("DELETE", `${BASE}/${booked.id}`, { token: admin });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: "IN_USE", details: { seatsBooked: 2 } });

    const cancelledOnly = await makeSession(klass.id);
    await makeCancelledBooking(cancelledOnly.id);
    expect((await call("DELETE", `${BASE}/${cancelledOnly.id}`, { token: admin })).status).toBe(409);
  });

  it("refuses while the session's DO holds seats that D1 does not know about, and a deleted session takes no holds", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const hold = await postHold({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email: uniqueEmail(), firstName: "H", lastName: "D" } });
    expect(hold.status).toBe(201);
    const refused = await call("DELETE", `${BASE}/${session.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "IN_USE", details: { reservations: 1 } });

    const { session: empty } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    expect((await availability(empty.id)).availableSpots).toBe(5);
    expect((await call("DELETE", `${BASE}/${empty.id}`, { token: admin })).status).toBe(204);
    const late = await sessionStub(empty.id).reserve({
      reservationId: "hld_late",
      mode: "hold",
      seats: 1,
      email: "late@example.test",
      clientKey: "x",
      exempt: false,
      overrideDuplicate: false,
      holdTtlMs: 60_000,
      limits: { perEmail: 8, perClient: 16, sharePercent: 100 },
      snapshot: { sessionId: empty.id, capacity: 5, startsAt: Date.now() + 3600_000, cancelled: false, configVersion: Date.now(), resources: [] },
    });
    expect(late).toMatchObject({ ok: false, code: "SESSION_NOT_BOOKABLE" });
  });

  it("ignores a capacity change older than the one the session's DO has", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const stub = sessionStub(session.id);
    const base = { sessionId: session.id, startsAt: session.startsAt.getTime(), cancelled: false, resources: [] };
    expect(await stub.reconfigure({ ...base, capacity: 9, configVersion: Date.now() + 1000 })).toMatchObject({ ok: true });
    expect(await stub.reconfigure({ ...base, capacity: 3, configVersion: Date.now() })).toMatchObject({ ok: true });
    expect((await availability(session.id)).capacity).toBe(9);
  });
});

describe("session admin security", () => {
  it("needs a token (401), refuses customers (403) and staff on writes (403)", async () => {
    const studio = await makeStudio();
    const { klass } = await qualifiedClass({ studioId: studio.id });
    const session = await makeSession(klass.id);
    const routes = [
      ["GET", BASE, undefined, false],
      ["POST", BASE, { classId: klass.id, startsAt: "2031-10-01T10:00:00Z" }, true],
      ["GET", `${BASE}/${session.id}`, undefined, false],
      ["PATCH", `${BASE}/${session.id}`, { capacity: 30 }, true],
      ["DELETE", `${BASE}/${session.id}`, undefined, true],
      ["PUT", `${BASE}/${session.id}/staff`, { instructorId: null, assistantIds: [] }, true],
    ] as const;
    for (const [method, path, body, write] of routes) {
      expect((await call(method, path, { body })).status, `${method} ${path} without a token`).toBe(401);
      expect((await call(method, path, { token: customer, body })).status, `${method} ${path} as customer`).toBe(403);
      const asStaff = await call(method, path, { token: staffToken, body });
      expect(asStaff.status, `${method} ${path} as staff`).toBe(write ? 403 : 200);
    }
    const [row] = await db().select().from(t.classSessions).where(eq(t.classSessions.id, session.id));
    expect(row!.capacity).toBe(12);
    expect(await db().select().from(t.classSessions).where(eq(t.classSessions.classId, klass.id))).toHaveLength(1);
  });
});
