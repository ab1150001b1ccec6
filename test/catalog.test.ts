import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  addAssistant,
  makeBooking,
  makeCancelledBooking,
  makeCity,
  makeClass,
  makeResource,
  makeRole,
  makeSession,
  makeStaff,
  makeStudio,
  requireResource,
} from "./fixtures";
import { call, unique } from "./helpers";

const DAY = 24 * 3600_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY);
const ids = (items: { id: string }[]) => items.map((item) => item.id);

afterEach(() => vi.restoreAllMocks());

describe("GET /api/v1/classes", () => {
  it("lists a studio's classes by name with studio, city and the next future non-cancelled session", async () => {
    const city = await makeCity({ name: `Leeds ${unique()}` });
    const studio = await makeStudio({ cityId: city.id, name: `Clay ${unique()}` });
    const pottery = await makeClass({ studioId: studio.id, name: "B Pottery", pricePence: 3000, fullSchedulePricePence: 20000 });
    const yoga = await makeClass({ studioId: studio.id, name: "A Yoga", bookingKinds: ["SINGLE_SESSION"] });
    await makeSession(pottery.id, { startsAt: inDays(-1) });
    await makeSession(pottery.id, { startsAt: inDays(1), status: "cancelled" });
    const next = await makeSession(pottery.id, { startsAt: inDays(2) });
    await makeSession(pottery.id, { startsAt: inDays(3) });

    const res = await call("GET", `/api/v1/classes?studioId=${studio.id}`);
    expect(res.status).toBe(200);
    expect(ids(res.json.data)).toEqual([yoga.id, pottery.id]);
    expect(res.json.nextCursor).toBeNull();
    expect(res.json.data[0]).toMatchObject({ bookingKinds: ["SINGLE_SESSION"], nextSession: null });
    expect(res.json.data[1]).toEqual({
      id: pottery.id,
      name: "B Pottery",
      description: "A test class",
      pricePence: 3000,
      fullSchedulePricePence: 20000,
      currency: "GBP",
      durationMinutes: 60,
      bookingKinds: ["SINGLE_SESSION", "DROP_IN", "FULL_SCHEDULE"],
      studio: { id: studio.id, name: studio.name, timeZone: "Europe/London" },
      city: { id: city.id, name: city.name },
      nextSession: { id: next.id, startsAt: next.startsAt.toISOString() },
    });
  });

  it("filters by city", async () => {
    const city = await makeCity();
    const inCity = await makeClass({ studioId: (await makeStudio({ cityId: city.id })).id });
    const alsoInCity = await makeClass({ studioId: (await makeStudio({ cityId: city.id })).id });
    await makeClass(); // elsewhere

    const res = await call("GET", `/api/v1/classes?cityId=${city.id}&limit=100`);
    expect(res.status).toBe(200);
    expect(ids(res.json.data).sort()).toEqual([inCity.id, alsoInCity.id].sort());
  });

  it("keeps only classes with a non-cancelled session starting in [from, to)", async () => {
    const studio = await makeStudio();
    const from = inDays(10);
    const to = inDays(11);
    const atFrom = await makeClass({ studioId: studio.id });
    await makeSession(atFrom.id, { startsAt: from });
    const atTo = await makeClass({ studioId: studio.id });
    await makeSession(atTo.id, { startsAt: to });
    const cancelledInside = await makeClass({ studioId: studio.id });
    await makeSession(cancelledInside.id, { startsAt: inDays(10.5), status: "cancelled" });
    const before = await makeClass({ studioId: studio.id });
    await makeSession(before.id, { startsAt: inDays(9) });

    const window = `from=${from.toISOString()}&to=${to.toISOString()}`;
    const res = await call("GET", `/api/v1/classes?studioId=${studio.id}&${window}`);
    expect(res.status).toBe(200);
    expect(ids(res.json.data)).toEqual([atFrom.id]);

    const openEnded = await call("GET", `/api/v1/classes?studioId=${studio.id}&from=${encodeURIComponent(from.toISOString())}`);
    expect(ids(openEnded.json.data).sort()).toEqual([atFrom.id, atTo.id].sort());

    // An offset is accepted and means the same instant.
    const offset = from.toISOString().replace("Z", "+00:00");
    const withOffset = await call("GET", `/api/v1/classes?studioId=${studio.id}&from=${encodeURIComponent(offset)}&to=${to.toISOString()}`);
    expect(ids(withOffset.json.data)).toEqual([atFrom.id]);
  });

  it("pages with a stable (name, id) cursor, even when names tie", async () => {
    const studio = await makeStudio();
    const made = [];
    for (const name of ["Same", "Same", "Same", "Other"]) made.push(await makeClass({ studioId: studio.id, name }));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/classes?studioId=${studio.id}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call("GET", query);
      expect(res.status).toBe(200);
      expect(res.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res.json.data));
      cursor = res.json.nextCursor;
    } while (cursor);

    const sameIds = made.filter((c) => c.name === "Same").map((c) => c.id).sort();
    expect(seen).toEqual([made[3]!.id, ...sameIds]);
  });

  it("answers a page with one database statement, however many classes it holds", async () => {
    const studio = await makeStudio();
    for (let i = 0; i < 5; i++) {
      const cls = await makeClass({ studioId: studio.id });
      await makeSession(cls.id);
    }
    const prepare = vi.spyOn(env.DB, "prepare");
    const res = await call("GET", `/api/v1/classes?studioId=${studio.id}&from=${inDays(0).toISOString()}`);
    expect(res.status).toBe(200);
    expect(res.json.data).toHaveLength(5);
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it("rejects a bad query with field paths", async () => {
    const backwards = await call("GET", `/api/v1/classes?from=${inDays(2).toISOString()}&to=${inDays(1).toISOString()}`);
    expect(backwards.status).toBe(400);
    expect(backwards.json.error.code).toBe("VALIDATION_FAILED");
    expect(backwards.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual(["to"]);

    const same = inDays(1).toISOString();
    expect((await call("GET", `/api/v1/classes?from=${same}&to=${same}`)).status).toBe(400);

    const garbage = await call("GET", "/api/v1/classes?from=yesterday&to=2026-13-45T00:00:00Z&limit=0");
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["from", "limit", "to"]);

    const cursor = await call("GET", "/api/v1/classes?cursor=bm90LWEtY3Vyc29y");
    expect(cursor.status).toBe(400);
    expect(cursor.json.error.details.issues[0].path).toBe("cursor");
  });
});

describe("GET /api/v1/classes/{id}", () => {
  it("shows the class, its requirements and its upcoming sessions in studio time", async () => {
    const role = await makeRole({ name: `Wheel teacher ${unique()}` });
    const studio = await makeStudio({ timeZone: "Europe/London" });
    const cls = await makeClass({ studioId: studio.id, requiredRoleId: role.id });
    const wheels = await makeResource(studio.id, { name: `Wheels ${unique()}` });
    await requireResource(cls.id, wheels.id, 2);
    const teacher = await makeStaff([role.id], { firstName: "Priya", lastName: "sharma", email: `priya-${unique()}@example.test` });

    await makeSession(cls.id, { startsAt: inDays(-2) });
    await makeSession(cls.id, { startsAt: inDays(1), status: "cancelled" });
    // Next January and next July: London is on GMT, then on BST.
    const year = new Date().getUTCFullYear() + 1;
    const winter = await makeSession(cls.id, {
      startsAt: new Date(Date.UTC(year, 0, 12, 18)),
      endsAt: new Date(Date.UTC(year, 0, 12, 20)),
      instructorId: teacher.id,
      location: "Room 2",
    });
    const summer = await makeSession(cls.id, { startsAt: new Date(Date.UTC(year, 6, 13, 17)), endsAt: new Date(Date.UTC(year, 6, 13, 19)) });

    const res = await call("GET", `/api/v1/classes/${cls.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: cls.id,
      currency: "GBP",
      studio: { id: studio.id, timeZone: "Europe/London" },
      requiredTeachingRole: { id: role.id, name: role.name },
      resourceRequirements: [{ resourceId: wheels.id, name: wheels.name, quantityPerStudent: 2 }],
      hasMoreUpcomingSessions: false,
    });
    expect(res.json.upcomingSessions).toEqual([
      {
        id: winter.id,
        startsAt: `${year}-01-12T18:00:00.000Z`,
        endsAt: `${year}-01-12T20:00:00.000Z`,
        localStart: `${year}-01-12T18:00:00+00:00`,
        localEnd: `${year}-01-12T20:00:00+00:00`,
        capacity: 12,
        status: "scheduled",
        location: "Room 2",
        instructor: { id: teacher.id, displayName: "Priya S." },
      },
      {
        id: summer.id,
        startsAt: `${year}-07-13T17:00:00.000Z`,
        endsAt: `${year}-07-13T19:00:00.000Z`,
        localStart: `${year}-07-13T18:00:00+01:00`,
        localEnd: `${year}-07-13T20:00:00+01:00`,
        capacity: 12,
        status: "scheduled",
        location: null,
        instructor: null,
      },
    ]);
    expect(res.text).not.toContain(teacher.email);
    expect(res.text).not.toContain("sharma");

    const summerOnly = await call("GET", `/api/v1/classes/${cls.id}?from=${year}-03-01T00:00:00Z&to=${year + 1}-01-01T00:00:00Z`);
    expect(ids(summerOnly.json.upcomingSessions)).toEqual([summer.id]);
    // A window reaching into the past still lists only future sessions.
    const fromThePast = await call("GET", `/api/v1/classes/${cls.id}?from=2000-01-01T00:00:00Z`);
    expect(ids(fromThePast.json.upcomingSessions)).toEqual([winter.id, summer.id]);
  });

  it("lists at most 50 sessions, says when there are more, and needs three statements for it", async () => {
    const cls = await makeClass();
    for (let i = 1; i <= 51; i++) await makeSession(cls.id, { startsAt: inDays(i) });
    const prepare = vi.spyOn(env.DB, "prepare");
    const res = await call("GET", `/api/v1/classes/${cls.id}`);
    expect(prepare).toHaveBeenCalledTimes(3);
    expect(res.json.upcomingSessions).toHaveLength(50);
    expect(res.json.hasMoreUpcomingSessions).toBe(true);
  });

  it("answers 404 for an unknown class and 400 for a bad window", async () => {
    const missing = await call("GET", "/api/v1/classes/cls_does_not_exist");
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: "NOT_FOUND", details: { resource: "Class", id: "cls_does_not_exist" } });

    const cls = await makeClass();
    const bad = await call("GET", `/api/v1/classes/${cls.id}?from=soon`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe("from");
  });
});

describe("GET /api/v1/sessions/{id}", () => {
  it("shows the session with class, place, people and seats booked", async () => {
    const city = await makeCity();
    const studio = await makeStudio({ cityId: city.id, timeZone: "America/New_York" });
    const cls = await makeClass({ studioId: studio.id, pricePence: 1800, fullSchedulePricePence: null });
    const teacher = await makeStaff([], { firstName: "Jo", lastName: "Bloggs" });
    const helperB = await makeStaff([], { firstName: "Ben", lastName: "Zed" });
    const helperA = await makeStaff([], { firstName: "Amy", lastName: "Young" });
    const startsAt = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 5, 23, 30));
    const session = await makeSession(cls.id, {
      startsAt,
      endsAt: new Date(startsAt.getTime() + 90 * 60_000),
      capacity: 10,
      instructorId: teacher.id,
      location: "Studio B",
    });
    await addAssistant(session.id, helperB.id);
    await addAssistant(session.id, helperA.id);
    await makeBooking(session.id, 2);
    await makeBooking(session.id, 3);
    await makeCancelledBooking(session.id, 4);

    const res = await call("GET", `/api/v1/sessions/${session.id}`);
    expect(res.status).toBe(200);
    const year = startsAt.getUTCFullYear();
    expect(res.json).toEqual({
      id: session.id,
      patternId: null,
      class: {
        id: cls.id,
        name: cls.name,
        description: cls.description,
        pricePence: 1800,
        fullSchedulePricePence: null,
        currency: "GBP",
        durationMinutes: 60,
        bookingKinds: cls.bookingKinds,
      },
      studio: { id: studio.id, name: studio.name, timeZone: "America/New_York" },
      city: { id: city.id, name: city.name },
      instructor: { id: teacher.id, displayName: "Jo B." },
      assistants: [
        { id: helperA.id, displayName: "Amy Y." },
        { id: helperB.id, displayName: "Ben Z." },
      ],
      capacity: 10,
      seatsBooked: 5,
      status: "scheduled",
      location: "Studio B",
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 90 * 60_000).toISOString(),
      localStart: `${year}-01-05T18:30:00-05:00`,
      localEnd: `${year}-01-05T20:00:00-05:00`,
    });
    for (const person of [teacher, helperA, helperB]) expect(res.text).not.toContain(person.email);
  });

  it("shows a cancelled session with no bookings as such", async () => {
    const session = await makeSession((await makeClass()).id, { status: "cancelled" });
    const res = await call("GET", `/api/v1/sessions/${session.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "cancelled", seatsBooked: 0, instructor: null, assistants: [] });
  });

  it("answers 404 for an unknown session", async () => {
    const res = await call("GET", "/api/v1/sessions/ses_nope");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
  });
});
