/** Admin schedule patterns: CRUD, validation, the occurrence cap, preview and delete. */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { makeBooking, makeCancelledBooking, makeClass, makeRole, makeSession, makeStaff, makeStudio } from "./fixtures";
import { call, tokenFor } from "./helpers";

const BASE = "/api/v1/admin/schedule-patterns";
const db = () => getDb(env.DB);

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

async function classWithInstructor() {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id, durationMinutes: 75, defaultCapacity: 9 });
  const instructor = await makeStaff([role.id]);
  return { role, klass, instructor };
}

const weekly = (classId: string, overrides: Record<string, unknown> = {}) => ({
  classId,
  frequency: "WEEKLY",
  byWeekday: ["MO"],
  count: 4,
  startDate: "2099-01-05",
  startTime: "18:00",
  ...overrides,
});

const issuePaths = (json: { error: { details: { issues: { path: string }[] } } }) =>
  json.error.details.issues.map((issue) => issue.path).sort();

const countRows = async (patternId: string) =>
  (await db().select().from(t.classSessions).where(eq(t.classSessions.patternId, patternId))).length;

describe("schedule pattern CRUD", () => {
  it("creates a pattern with the class's defaults, the RRULE and the studio's time zone", async () => {
    const { klass, instructor } = await classWithInstructor();
    const res = await call("POST", BASE, { token: admin, body: weekly(klass.id, { defaultInstructorId: instructor.id }) });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      classId: klass.id,
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["MO"],
      count: 4,
      untilDate: null,
      durationMinutes: 75,
      maxStudents: 9,
      exceptionDates: [],
      defaultInstructorId: instructor.id,
      defaultAssistantIds: [],
      rrule: "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=4",
      timeZone: "Europe/London",
    });
    expect(res.json.id).toMatch(/^pat_/);

    const got = await call("GET", `${BASE}/${res.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(res.json);
  });

  it("lists patterns filtered by class, a page at a time", async () => {
    const { klass } = await classWithInstructor();
    const other = await classWithInstructor();
    for (let i = 0; i < 3; i++) await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    await call("POST", BASE, { token: admin, body: weekly(other.klass.id) });

    const first = await call("GET", `${BASE}?classId=${klass.id}&limit=2`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    const second = await call("GET", `${BASE}?classId=${klass.id}&limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    const all = [...first.json.data, ...second.json.data];
    expect(new Set(all.map((p: { id: string }) => p.id)).size).toBe(3);
    expect(all.every((p: { classId: string }) => p.classId === klass.id)).toBe(true);
  });

  it("updates a pattern; giving untilDate clears count", async () => {
    const { klass } = await classWithInstructor();
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const res = await call("PATCH", `${BASE}/${created.json.id}`, {
      token: admin,
      body: { untilDate: "2099-02-28", startTime: "07:15", location: "Room 2" },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ count: null, untilDate: "2099-02-28", startTime: "07:15", location: "Room 2", byWeekday: ["MO"] });
    expect(res.json.rrule).toBe("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=20990228T235959");
  });

  it("answers 404 for unknown ids", async () => {
    for (const [method, path] of [
      ["GET", `${BASE}/pat_nope`],
      ["PATCH", `${BASE}/pat_nope`],
      ["DELETE", `${BASE}/pat_nope`],
      ["POST", `${BASE}/pat_nope/preview`],
    ] as const) {
      const res = await call(method, path, { token: admin, ...(method === "PATCH" && { body: { startTime: "10:00" } }) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });
});

describe("schedule pattern validation", () => {
  it("reports bad dates, times and enums with field paths", async () => {
    const { klass } = await classWithInstructor();
    const res = await call("POST", BASE, {
      token: admin,
      body: weekly(klass.id, {
        startDate: "2026-02-30",
        startTime: "24:00",
        frequency: "YEARLY",
        byWeekday: ["MO", "XX"],
        exceptionDates: ["2026-13-01"],
        interval: 0,
      }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_FAILED");
    expect(issuePaths(res.json)).toEqual(["byWeekday.1", "exceptionDates.0", "frequency", "interval", "startDate", "startTime"]);
  });

  it("refuses count and untilDate together, and untilDate before startDate", async () => {
    const { klass } = await classWithInstructor();
    const both = await call("POST", BASE, { token: admin, body: weekly(klass.id, { untilDate: "2099-03-01" }) });
    expect(both.status).toBe(400);
    expect(issuePaths(both.json)).toEqual(["untilDate"]);
    expect(both.json.error.message).toMatch(/count or untilDate/);

    const backwards = await call("POST", BASE, { token: admin, body: weekly(klass.id, { count: null, untilDate: "2098-12-31" }) });
    expect(backwards.status).toBe(400);
    expect(issuePaths(backwards.json)).toEqual(["untilDate"]);

    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const patch = await call("PATCH", `${BASE}/${created.json.id}`, { token: admin, body: { count: 3, untilDate: "2099-03-01" } });
    expect(patch.status).toBe(400);
    expect(issuePaths(patch.json)).toEqual(["untilDate"]);
    const patchBackwards = await call("PATCH", `${BASE}/${created.json.id}`, { token: admin, body: { untilDate: "2098-01-01" } });
    expect(patchBackwards.status).toBe(400);
    expect(issuePaths(patchBackwards.json)).toEqual(["untilDate"]);
  });

  it("needs an existing class (422 INVALID_REFERENCE)", async () => {
    const res = await call("POST", BASE, { token: admin, body: weekly("cls_nope") });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("INVALID_REFERENCE");
    expect(res.json.error.details.field).toBe("classId");
  });

  it("refuses default staff who may not teach the class, naming who and why", async () => {
    const { klass, role } = await classWithInstructor();
    const inactive = await makeStaff([role.id], { active: false });
    const wrongRole = await makeStaff([(await makeRole()).id]);
    const res = await call("POST", BASE, {
      token: admin,
      body: weekly(klass.id, { defaultInstructorId: inactive.id, defaultAssistantIds: [wrongRole.id, "stf_ghost"] }),
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("STAFF_NOT_QUALIFIED");
    expect(res.json.error.details.staff).toEqual([
      { staffId: inactive.id, name: `${inactive.firstName} ${inactive.lastName}`, reason: "INACTIVE" },
      { staffId: wrongRole.id, name: `${wrongRole.firstName} ${wrongRole.lastName}`, reason: "MISSING_ROLE" },
      { staffId: "stf_ghost", name: null, reason: "NOT_FOUND" },
    ]);
    expect(res.json.error.message).toContain(inactive.id);

    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const patch = await call("PATCH", `${BASE}/${created.json.id}`, { token: admin, body: { defaultInstructorId: wrongRole.id } });
    expect(patch.status).toBe(422);
    expect(patch.json.error.code).toBe("STAFF_NOT_QUALIFIED");
  });

  it("refuses the instructor as their own assistant", async () => {
    const { klass, instructor } = await classWithInstructor();
    const res = await call("POST", BASE, {
      token: admin,
      body: weekly(klass.id, { defaultInstructorId: instructor.id, defaultAssistantIds: [instructor.id] }),
    });
    expect(res.status).toBe(400);
    expect(issuePaths(res.json)).toEqual(["defaultAssistantIds"]);
  });

  it("refuses a pattern with no occurrences", async () => {
    const { klass } = await classWithInstructor();
    const res = await call("POST", BASE, { token: admin, body: weekly(klass.id, { count: 1, exceptionDates: ["2099-01-05"] }) });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("INVALID_SCHEDULE");
  });
});

describe("the occurrence cap (MAX_OCCURRENCES_PER_PATTERN)", () => {
  it("allows 500 occurrences and refuses 501", async () => {
    expect(env.MAX_OCCURRENCES_PER_PATTERN).toBe("500");
    const { klass } = await classWithInstructor();
    const daily = { frequency: "DAILY", byWeekday: [], startDate: "2090-01-01" };
    const ok = await call("POST", BASE, { token: admin, body: weekly(klass.id, { ...daily, count: 500 }) });
    expect(ok.status).toBe(201);

    const tooMany = await call("POST", BASE, { token: admin, body: weekly(klass.id, { ...daily, count: 501 }) });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.error).toMatchObject({ code: "OCCURRENCE_LIMIT_EXCEEDED", details: { limit: 500 } });
    expect(tooMany.json.error.message).toMatch(/more than 500 occurrences/);

    // 500 weekdays out of a daily rule until a far date is still too many.
    const untilFar = await call("POST", BASE, { token: admin, body: weekly(klass.id, { ...daily, count: null, untilDate: "2099-12-31" }) });
    expect(untilFar.status).toBe(422);
    expect(untilFar.json.error.code).toBe("OCCURRENCE_LIMIT_EXCEEDED");
  });

  it("refuses an unbounded rule with a message that says so", async () => {
    const { klass } = await classWithInstructor();
    const res = await call("POST", BASE, { token: admin, body: weekly(klass.id, { count: undefined }) });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({ code: "OCCURRENCE_LIMIT_EXCEEDED", details: { limit: 500 } });
    expect(res.json.error.message).toMatch(/neither count nor untilDate/);
  });

  it("applies on PATCH too, and leaves the pattern as it was", async () => {
    const { klass } = await classWithInstructor();
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const res = await call("PATCH", `${BASE}/${created.json.id}`, { token: admin, body: { count: 501 } });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("OCCURRENCE_LIMIT_EXCEEDED");
    const unbounded = await call("PATCH", `${BASE}/${created.json.id}`, { token: admin, body: { count: null } });
    expect(unbounded.status).toBe(422);
    expect((await call("GET", `${BASE}/${created.json.id}`, { token: admin })).json.count).toBe(4);
  });
});

describe("POST /schedule-patterns/{id}/preview", () => {
  it("lists occurrences in UTC and studio-local time, across the clock change, and writes nothing", async () => {
    const { klass } = await classWithInstructor();
    // 2099: British Summer Time starts Sunday 29 March.
    const created = await call("POST", BASE, {
      token: admin,
      body: weekly(klass.id, { startDate: "2099-03-23", count: 3, exceptionDates: ["2099-03-30"] }),
    });
    const before = await db().select().from(t.classSessions).where(eq(t.classSessions.classId, klass.id));
    const patternBefore = await db().select().from(t.schedulePatterns).where(eq(t.schedulePatterns.id, created.json.id));

    const res = await call("POST", `${BASE}/${created.json.id}/preview`, { token: staff });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ patternId: created.json.id, timeZone: "Europe/London", rrule: "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=3" });
    expect(res.json.occurrences).toEqual([
      {
        startsAt: "2099-03-23T18:00:00.000Z",
        endsAt: "2099-03-23T19:15:00.000Z",
        localStart: "2099-03-23T18:00:00+00:00",
        localEnd: "2099-03-23T19:15:00+00:00",
        localDate: "2099-03-23",
      },
      {
        startsAt: "2099-04-06T17:00:00.000Z",
        endsAt: "2099-04-06T18:15:00.000Z",
        localStart: "2099-04-06T18:00:00+01:00",
        localEnd: "2099-04-06T19:15:00+01:00",
        localDate: "2099-04-06",
      },
    ]);

    expect(await db().select().from(t.classSessions).where(eq(t.classSessions.classId, klass.id))).toEqual(before);
    expect(before).toEqual([]);
    expect(await db().select().from(t.schedulePatterns).where(eq(t.schedulePatterns.id, created.json.id))).toEqual(patternBefore);
  });
});

describe("DELETE /schedule-patterns/{id}", () => {
  it("deletes the pattern and its future unbooked sessions, keeps past ones detached", async () => {
    const { klass } = await classWithInstructor();
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const id = created.json.id;
    await call("POST", `${BASE}/${id}/generate-sessions`, { token: admin });
    expect(await countRows(id)).toBe(4);
    const past = await makeSession(klass.id, { patternId: id, startsAt: new Date("2020-01-06T18:00:00Z") });
    const sessions = await db().select().from(t.classSessions).where(eq(t.classSessions.patternId, id)).orderBy(t.classSessions.startsAt);
    await makeCancelledBooking(sessions[1]!.id);

    const res = await call("DELETE", `${BASE}/${id}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deletedSessions: 3, cancelledSessions: 1, detachedSessions: 2 });
    expect((await call("GET", `${BASE}/${id}`, { token: admin })).status).toBe(404);
    const left = await db().select().from(t.classSessions).where(eq(t.classSessions.classId, klass.id)).orderBy(t.classSessions.startsAt);
    expect(left.map((row) => [row.id, row.patternId, row.status])).toEqual([
      [past.id, null, "scheduled"],
      [sessions[1]!.id, null, "cancelled"],
    ]);
  });

  it("is refused with 409 IN_USE while a session has confirmed bookings, and changes nothing", async () => {
    const { klass } = await classWithInstructor();
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const id = created.json.id;
    await call("POST", `${BASE}/${id}/generate-sessions`, { token: admin });
    const [first] = await db().select().from(t.classSessions).where(eq(t.classSessions.patternId, id)).orderBy(t.classSessions.startsAt);
    await makeBooking(first!.id);

    const res = await call("DELETE", `${BASE}/${id}`, { token: admin });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("IN_USE");
    expect(res.json.error.details.bookedSessionIds).toEqual([first!.id]);
    expect(await countRows(id)).toBe(4);
  });
});

describe("schedule pattern security", () => {
  it("needs a token (401), refuses customers (403) and staff on writes (403)", async () => {
    const { klass } = await classWithInstructor();
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id) });
    const id = created.json.id;
    const routes = [
      ["GET", BASE, false],
      ["POST", BASE, true],
      ["GET", `${BASE}/${id}`, false],
      ["PATCH", `${BASE}/${id}`, true],
      ["DELETE", `${BASE}/${id}`, true],
      ["POST", `${BASE}/${id}/preview`, false],
      ["POST", `${BASE}/${id}/generate-sessions`, true],
    ] as const;
    for (const [method, path, write] of routes) {
      const body = method === "POST" && path === BASE ? weekly(klass.id) : method === "PATCH" ? { location: "X" } : undefined;
      const anonymous = await call(method, path, { body });
      expect(anonymous.status, `${method} ${path} without a token`).toBe(401);
      const asCustomer = await call(method, path, { token: customer, body });
      expect(asCustomer.status, `${method} ${path} as customer`).toBe(403);
      const asStaff = await call(method, path, { token: staff, body });
      if (write) expect(asStaff.status, `${method} ${path} as staff`).toBe(403);
      else expect(asStaff.status, `${method} ${path} as staff`).toBe(200);
    }
    expect(await countRows(id)).toBe(0);
    expect((await call("GET", `${BASE}/${id}`, { token: admin })).json.location).toBeNull();
  });
});

describe("a studio in another zone", () => {
  it("reports the studio's zone and places occurrences in it", async () => {
    const studio = await makeStudio({ timeZone: "America/New_York" });
    const role = await makeRole();
    const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id });
    const created = await call("POST", BASE, { token: admin, body: weekly(klass.id, { startDate: "2099-07-06", count: 1 }) });
    expect(created.json.timeZone).toBe("America/New_York");
    const preview = await call("POST", `${BASE}/${created.json.id}/preview`, { token: admin });
    expect(preview.json.occurrences[0]).toMatchObject({ startsAt: "2099-07-06T22:00:00.000Z", localStart: "2099-07-06T18:00:00-04:00" });
  });
});
