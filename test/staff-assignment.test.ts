/**
 * Staffing: PUT /admin/sessions/{id}/staff (qualification, overlaps, the parallel race) and
 * GET /admin/classes/{id}/qualified-staff.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { assignmentProblem, overlaps, unqualifiedStaff } from "../src/domain/staffing";
import { findClashes } from "../src/services/staff-assignment";
import { addAssistant, makeClass, makeRole, makeSession, makeStaff } from "./fixtures";
import { call, tokenFor } from "./helpers";

const db = () => getDb(env.DB);
const hour = 3600_000;

let admin: string;
let staffToken: string;
let customer: string;
beforeAll(async () => {
  [admin, staffToken, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

/** A class with its role, and a session of it at `startsAt` (1 hour). */
async function classAndSession(startsAt = new Date("2031-05-05T10:00:00Z")) {
  const role = await makeRole();
  const klass = await makeClass({ requiredRoleId: role.id });
  const session = await makeSession(klass.id, { startsAt, endsAt: new Date(startsAt.getTime() + hour) });
  return { role, klass, session };
}

const putStaff = (sessionId: string, body: unknown, token = admin) => call("PUT", `/api/v1/admin/sessions/${sessionId}/staff`, { token, body });

describe("staffing rules (pure)", () => {
  const person = { id: "stf_a", firstName: "Ann", lastName: "Lee", active: true, roleIds: ["rol_yoga"] };

  it("names who may not teach and why", () => {
    expect(unqualifiedStaff("rol_yoga", ["stf_a"], [person])).toEqual([]);
    expect(
      unqualifiedStaff(
        "rol_yoga",
        ["stf_a", "stf_b", "stf_c", "stf_x"],
        [person, { ...person, id: "stf_b", active: false }, { ...person, id: "stf_c", roleIds: ["rol_pottery"] }],
      ),
    ).toEqual([
      { staffId: "stf_b", name: "Ann Lee", reason: "INACTIVE" },
      { staffId: "stf_c", name: "Ann Lee", reason: "MISSING_ROLE" },
      { staffId: "stf_x", name: null, reason: "NOT_FOUND" },
    ]);
  });

  it("treats touching sessions as not overlapping", () => {
    const at = (h: number) => new Date(Date.UTC(2031, 0, 1, h));
    expect(overlaps({ startsAt: at(10), endsAt: at(11) }, { startsAt: at(11), endsAt: at(12) })).toBe(false);
    expect(overlaps({ startsAt: at(10), endsAt: at(12) }, { startsAt: at(11), endsAt: at(13) })).toBe(true);
    expect(overlaps({ startsAt: at(10), endsAt: at(13) }, { startsAt: at(11), endsAt: at(12) })).toBe(true);
  });

  it("refuses duplicates and the instructor as an assistant", () => {
    expect(assignmentProblem("stf_a", ["stf_b"])).toBeNull();
    expect(assignmentProblem(null, ["stf_b", "stf_b"])).toMatch(/twice/);
    expect(assignmentProblem("stf_a", ["stf_a"])).toMatch(/instructor/);
  });
});

describe("PUT /admin/sessions/{id}/staff", () => {
  it("sets and replaces the instructor and assistants", async () => {
    const { role, session } = await classAndSession();
    const [lead, helperA, helperB] = await Promise.all([makeStaff([role.id]), makeStaff([role.id]), makeStaff([role.id])]);
    const res = await putStaff(session.id, { instructorId: lead.id, assistantIds: [helperA.id, helperB.id] });
    expect(res.status).toBe(200);
    expect(res.json.instructor).toEqual({ id: lead.id, firstName: lead.firstName, lastName: lead.lastName });
    expect(res.json.assistants.map((a: { id: string }) => a.id).sort()).toEqual([helperA.id, helperB.id].sort());

    const replaced = await putStaff(session.id, { instructorId: null, assistantIds: [helperB.id] });
    expect(replaced.status).toBe(200);
    expect(replaced.json.instructor).toBeNull();
    expect(replaced.json.assistants.map((a: { id: string }) => a.id)).toEqual([helperB.id]);
    const got = await call("GET", `/api/v1/admin/sessions/${session.id}`, { token: staffToken });
    expect(got.json.assistants.map((a: { id: string }) => a.id)).toEqual([helperB.id]);
  });

  it("refuses staff who are inactive, lack the class's role or do not exist (422), changing nothing", async () => {
    const { role, session } = await classAndSession();
    const good = await makeStaff([role.id]);
    await putStaff(session.id, { instructorId: good.id, assistantIds: [] });
    const inactive = await makeStaff([role.id], { active: false });
    const wrongRole = await makeStaff([(await makeRole()).id]);
    const res = await putStaff(session.id, { instructorId: inactive.id, assistantIds: [wrongRole.id, "stf_ghost"] });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("STAFF_NOT_QUALIFIED");
    expect(res.json.error.details).toMatchObject({
      requiredRoleId: role.id,
      staff: [
        { staffId: inactive.id, reason: "INACTIVE" },
        { staffId: wrongRole.id, reason: "MISSING_ROLE" },
        { staffId: "stf_ghost", reason: "NOT_FOUND" },
      ],
    });
    const [row] = await db().select().from(t.classSessions).where(eq(t.classSessions.id, session.id));
    expect(row!.instructorId).toBe(good.id);
  });

  it("refuses someone already teaching or assisting an overlapping session (409), naming it", async () => {
    const { role, klass, session } = await classAndSession(new Date("2031-05-06T10:00:00Z"));
    const person = await makeStaff([role.id]);
    const teaching = await makeSession(klass.id, {
      startsAt: new Date("2031-05-06T10:30:00Z"),
      endsAt: new Date("2031-05-06T11:30:00Z"),
      instructorId: person.id,
    });
    const asInstructor = await putStaff(session.id, { instructorId: person.id, assistantIds: [] });
    expect(asInstructor.status).toBe(409);
    expect(asInstructor.json.error).toMatchObject({ code: "STAFF_DOUBLE_BOOKED", details: { staffId: person.id, clashingSessionId: teaching.id } });

    const helper = await makeStaff([role.id]);
    const assisting = await makeSession(klass.id, { startsAt: new Date("2031-05-06T09:30:00Z"), endsAt: new Date("2031-05-06T10:30:00Z") });
    await addAssistant(assisting.id, helper.id);
    const asAssistant = await putStaff(session.id, { instructorId: null, assistantIds: [helper.id] });
    expect(asAssistant.status).toBe(409);
    expect(asAssistant.json.error.details.clashingSessionId).toBe(assisting.id);
  });

  it("allows back-to-back sessions and ignores cancelled ones", async () => {
    const { role, klass, session } = await classAndSession(new Date("2031-05-07T10:00:00Z"));
    const person = await makeStaff([role.id]);
    await makeSession(klass.id, { startsAt: new Date("2031-05-07T11:00:00Z"), endsAt: new Date("2031-05-07T12:00:00Z"), instructorId: person.id });
    await makeSession(klass.id, {
      startsAt: new Date("2031-05-07T10:00:00Z"),
      endsAt: new Date("2031-05-07T11:00:00Z"),
      instructorId: person.id,
      status: "cancelled",
    });
    expect((await putStaff(session.id, { instructorId: person.id, assistantIds: [] })).status).toBe(200);
  });

  it("validates the body with field paths", async () => {
    const { role, session } = await classAndSession();
    const person = await makeStaff([role.id]);
    const same = await putStaff(session.id, { instructorId: person.id, assistantIds: [person.id] });
    expect(same.status).toBe(400);
    expect(same.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual(["assistantIds"]);
    const missing = await putStaff(session.id, { assistantIds: "x" });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["assistantIds", "instructorId"]);
  });

  it("answers 404 for an unknown session", async () => {
    const res = await putStaff("ses_nope", { instructorId: null, assistantIds: [] });
    expect(res.status).toBe(404);
  });

  it("needs the admin role", async () => {
    const { session } = await classAndSession();
    const body = { instructorId: null, assistantIds: [] };
    expect((await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { body })).status).toBe(401);
    expect((await putStaff(session.id, body, customer)).status).toBe(403);
    expect((await putStaff(session.id, body, staffToken)).status).toBe(403);
  });
});

describe("the parallel-assignment race", () => {
  /** Two overlapping sessions of one class, and a person qualified to teach it. */
  async function overlappingPair(day: number) {
    const { role, klass, session } = await classAndSession(new Date(Date.UTC(2032, 0, day, 10)));
    const other = await makeSession(klass.id, { startsAt: new Date(Date.UTC(2032, 0, day, 10, 30)), endsAt: new Date(Date.UTC(2032, 0, day, 11, 30)) });
    return { first: session, second: other, person: await makeStaff([role.id]) };
  }

  it("control: a read-then-write check lets both parallel writers through", async () => {
    // Proves the interleaving is real: checking first and writing after is not enough.
    const { first, second, person } = await overlappingPair(5);
    const naive = async (session: typeof first) => {
      const clashes = await findClashes(db(), [person.id], [{ sessionId: session.id, startsAt: session.startsAt, endsAt: session.endsAt }]);
      if (clashes.length > 0) return false;
      await db().update(t.classSessions).set({ instructorId: person.id }).where(eq(t.classSessions.id, session.id));
      return true;
    };
    expect(await Promise.all([naive(first), naive(second)])).toEqual([true, true]);
  });

  it("two parallel PUTs of one instructor on overlapping sessions: exactly one wins", async () => {
    for (let day = 10; day < 16; day++) {
      const { first, second, person } = await overlappingPair(day);
      const body = { instructorId: person.id, assistantIds: [] };
      const results = await Promise.all([putStaff(first.id, body), putStaff(second.id, body)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.json.error.code).toBe("STAFF_DOUBLE_BOOKED");
      const rows = await db().select().from(t.classSessions).where(eq(t.classSessions.instructorId, person.id));
      expect(rows).toHaveLength(1);
    }
  });

  it("two parallel PUTs of one person as instructor here and assistant there: exactly one wins", async () => {
    for (let day = 20; day < 24; day++) {
      const { first, second, person } = await overlappingPair(day);
      const results = await Promise.all([
        putStaff(first.id, { instructorId: person.id, assistantIds: [] }),
        putStaff(second.id, { instructorId: null, assistantIds: [person.id] }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const asInstructor = await db().select().from(t.classSessions).where(eq(t.classSessions.instructorId, person.id));
      const asAssistant = await db().select().from(t.sessionAssistants).where(eq(t.sessionAssistants.staffId, person.id));
      expect(asInstructor.length + asAssistant.length).toBe(1);
    }
  });
});

describe("GET /admin/classes/{id}/qualified-staff", () => {
  it("lists active staff holding the class's role, with all their roles", async () => {
    const role = await makeRole();
    const extra = await makeRole();
    const klass = await makeClass({ requiredRoleId: role.id });
    const both = await makeStaff([role.id, extra.id], { lastName: "Aaa" });
    const only = await makeStaff([role.id], { lastName: "Bbb" });
    await makeStaff([role.id], { active: false });
    await makeStaff([extra.id]);

    const res = await call("GET", `/api/v1/admin/classes/${klass.id}/qualified-staff`, { token: staffToken });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ classId: klass.id, requiredRole: { id: role.id, name: role.name }, sessionId: null });
    expect(res.json.data.map((p: { id: string }) => p.id)).toEqual([both.id, only.id]);
    expect(res.json.data[0].roles.map((r: { id: string }) => r.id).sort()).toEqual([role.id, extra.id].sort());
    expect(res.json.data[0]).not.toHaveProperty("available");
  });

  it("with ?sessionId= says who is free for that session", async () => {
    const { role, klass, session } = await classAndSession(new Date("2031-06-02T10:00:00Z"));
    const [busy, free, assignedHere] = await Promise.all([
      makeStaff([role.id], { lastName: "A-busy" }),
      makeStaff([role.id], { lastName: "B-free" }),
      makeStaff([role.id], { lastName: "C-here" }),
    ]);
    const elsewhere = await makeSession(klass.id, { startsAt: new Date("2031-06-02T10:45:00Z"), endsAt: new Date("2031-06-02T11:45:00Z") });
    await addAssistant(elsewhere.id, busy.id);
    await putStaff(session.id, { instructorId: assignedHere.id, assistantIds: [] });

    const res = await call("GET", `/api/v1/admin/classes/${klass.id}/qualified-staff?sessionId=${session.id}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.json.sessionId).toBe(session.id);
    expect(res.json.data.map((p: { id: string; available: boolean }) => [p.id, p.available])).toEqual([
      [busy.id, false],
      [free.id, true],
      [assignedHere.id, true],
    ]);
  });

  it("answers 404 for an unknown class and 422 for a session of another class", async () => {
    expect((await call("GET", "/api/v1/admin/classes/cls_nope/qualified-staff", { token: admin })).status).toBe(404);
    const { klass } = await classAndSession();
    const other = await classAndSession();
    const res = await call("GET", `/api/v1/admin/classes/${klass.id}/qualified-staff?sessionId=${other.session.id}`, { token: admin });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("INVALID_REFERENCE");
  });

  it("needs a staff or admin token", async () => {
    const { klass } = await classAndSession();
    const path = `/api/v1/admin/classes/${klass.id}/qualified-staff`;
    expect((await call("GET", path)).status).toBe(401);
    expect((await call("GET", path, { token: customer })).status).toBe(403);
  });
});
