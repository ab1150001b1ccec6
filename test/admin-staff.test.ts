import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { schedulePatterns } from "../src/db/schema";
import { makeClass, makeRole, makeSession, makeStaff } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const paths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();
const email = () => `Sam.${unique()}@Example.TEST`;
const ids = (json: { data: { id: string }[] }) => json.data.map((s) => s.id);

describe("admin staff", () => {
  it("creates a staff member with roles, reads, updates (replacing roles) and deletes", async () => {
    const [wheel, glaze] = [await makeRole({ name: `A wheel ${unique()}` }), await makeRole({ name: `B glaze ${unique()}` })];
    const address = email();
    const created = await call("POST", "/api/v1/admin/staff", {
      token: admin,
      body: { email: address, firstName: "Sam", lastName: "Potter", roleIds: [glaze.id, wheel.id] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      email: address.toLowerCase(),
      firstName: "Sam",
      lastName: "Potter",
      active: true,
      teachingRoles: [
        { id: wheel.id, name: wheel.name },
        { id: glaze.id, name: glaze.name },
      ],
    });
    expect(created.json.id).toMatch(/^stf_/);

    const got = await call("GET", `/api/v1/admin/staff/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created.json);

    const renamed = await call("PATCH", `/api/v1/admin/staff/${created.json.id}`, { token: admin, body: { lastName: "Thrower", active: false } });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ lastName: "Thrower", active: false });
    expect(renamed.json.teachingRoles).toHaveLength(2); // untouched without roleIds

    const replaced = await call("PATCH", `/api/v1/admin/staff/${created.json.id}`, { token: admin, body: { roleIds: [glaze.id] } });
    expect(replaced.status).toBe(200);
    expect(replaced.json.teachingRoles).toEqual([{ id: glaze.id, name: glaze.name }]);

    const cleared = await call("PATCH", `/api/v1/admin/staff/${created.json.id}`, { token: admin, body: { roleIds: [] } });
    expect(cleared.json.teachingRoles).toEqual([]);

    expect((await call("DELETE", `/api/v1/admin/staff/${created.json.id}`, { token: admin })).status).toBe(204);
    expect((await call("GET", `/api/v1/admin/staff/${created.json.id}`, { token: admin })).status).toBe(404);
  });

  it("filters by role and by active, and pages with a cursor", async () => {
    const role = await makeRole();
    const holders = [await makeStaff([role.id]), await makeStaff([role.id]), await makeStaff([role.id], { active: false })];
    await makeStaff(); // holds nothing

    const all = await call("GET", `/api/v1/admin/staff?roleId=${role.id}`, { token: staff });
    expect(all.status).toBe(200);
    expect(ids(all.json).sort()).toEqual(holders.map((h) => h.id).sort());
    for (const person of all.json.data) expect(person.teachingRoles).toEqual([{ id: role.id, name: role.name }]);

    const inactive = await call("GET", `/api/v1/admin/staff?roleId=${role.id}&active=false`, { token: staff });
    expect(ids(inactive.json)).toEqual([holders[2]!.id]);
    const active = await call("GET", `/api/v1/admin/staff?roleId=${role.id}&active=true`, { token: staff });
    expect(ids(active.json).sort()).toEqual([holders[0]!.id, holders[1]!.id].sort());

    const first = await call("GET", `/api/v1/admin/staff?roleId=${role.id}&limit=2`, { token: staff });
    expect(first.json.data).toHaveLength(2);
    const second = await call("GET", `/api/v1/admin/staff?roleId=${role.id}&limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    expect([...ids(first.json), ...ids(second.json)].sort()).toEqual(holders.map((h) => h.id).sort());

    const badFilter = await call("GET", "/api/v1/admin/staff?active=yes", { token: staff });
    expect(badFilter.status).toBe(400);
    expect(paths(badFilter.json)).toEqual(["active"]);
  });

  it("rejects invalid input with field paths", async () => {
    const role = await makeRole();
    const bad = await call("POST", "/api/v1/admin/staff", {
      token: admin,
      body: { email: "not-an-email", firstName: "", lastName: "Potter", active: "yes", roleIds: [role.id, role.id] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(bad.json)).toEqual(["active", "email", "firstName", "roleIds"]);

    const missing = await call("POST", "/api/v1/admin/staff", { token: admin, body: {} });
    expect(paths(missing.json)).toEqual(["email", "firstName", "lastName"]);

    const person = await makeStaff();
    const badPatch = await call("PATCH", `/api/v1/admin/staff/${person.id}`, { token: admin, body: { roleIds: "rol_x" } });
    expect(badPatch.status).toBe(400);
    expect(paths(badPatch.json)).toEqual(["roleIds"]);
  });

  it("refuses duplicate emails in any case with 409", async () => {
    const address = email();
    const body = { email: address, firstName: "Sam", lastName: "Potter" };
    expect((await call("POST", "/api/v1/admin/staff", { token: admin, body })).status).toBe(201);
    const dup = await call("POST", "/api/v1/admin/staff", { token: admin, body: { ...body, email: address.toUpperCase() } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("ALREADY_EXISTS");

    const other = await makeStaff();
    const taken = await call("PATCH", `/api/v1/admin/staff/${other.id}`, { token: admin, body: { email: address } });
    expect(taken.status).toBe(409);
  });

  it("refuses unknown roles with 422 and changes nothing", async () => {
    const role = await makeRole();
    const address = email();
    const created = await call("POST", "/api/v1/admin/staff", {
      token: admin,
      body: { email: address, firstName: "Sam", lastName: "Potter", roleIds: [role.id, "rol_missing"] },
    });
    expect(created.status).toBe(422);
    expect(created.json.error.code).toBe("INVALID_REFERENCE");
    expect(created.json.error.details).toMatchObject({ field: "roleIds", missing: ["rol_missing"] });
    const row = await env.DB.prepare("SELECT id FROM staff WHERE email = ?").bind(address.toLowerCase()).first();
    expect(row).toBeNull();

    const person = await makeStaff([role.id]);
    const patched = await call("PATCH", `/api/v1/admin/staff/${person.id}`, {
      token: admin,
      body: { lastName: "Changed", roleIds: ["rol_missing"] },
    });
    expect(patched.status).toBe(422);
    const after = await call("GET", `/api/v1/admin/staff/${person.id}`, { token: admin });
    expect(after.json.lastName).toBe(person.lastName);
    expect(after.json.teachingRoles).toEqual([{ id: role.id, name: role.name }]);
  });

  it("answers 404 for unknown ids", async () => {
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, "/api/v1/admin/staff/stf_missing", { token: admin, body: method === "PATCH" ? { roleIds: [] } : undefined });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("refuses to delete staff who teach a session or assist in a schedule pattern (409 IN_USE)", async () => {
    const role = await makeRole();
    const instructor = await makeStaff([role.id]);
    const cls = await makeClass({ requiredRoleId: role.id });
    await makeSession(cls.id, { instructorId: instructor.id });
    const teaching = await call("DELETE", `/api/v1/admin/staff/${instructor.id}`, { token: admin });
    expect(teaching.status).toBe(409);
    expect(teaching.json.error.code).toBe("IN_USE");

    const assistant = await makeStaff();
    await getDb(env.DB)
      .insert(schedulePatterns)
      .values({
        id: `pat_${unique()}`,
        classId: cls.id,
        frequency: "WEEKLY",
        byWeekday: ["MO"],
        startDate: "2030-01-07",
        startTime: "18:00",
        durationMinutes: 60,
        maxStudents: 10,
        exceptionDates: [],
        defaultAssistantIds: [assistant.id],
      });
    const assisting = await call("DELETE", `/api/v1/admin/staff/${assistant.id}`, { token: admin });
    expect(assisting.status).toBe(409);
    expect(assisting.json.error.code).toBe("IN_USE");
    expect((await call("GET", `/api/v1/admin/staff/${assistant.id}`, { token: admin })).status).toBe(200);
  });

  it("needs a token (401), refuses customers (403) and lets only admins write (403 for staff)", async () => {
    const person = await makeStaff();
    const body = { email: email(), firstName: "No", lastName: "Body" };
    expect((await call("GET", "/api/v1/admin/staff")).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/staff", { body })).status).toBe(401);
    const asCustomer = await call("GET", `/api/v1/admin/staff/${person.id}`, { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", "/api/v1/admin/staff", { token: staff, body })).status).toBe(403);
    expect((await call("PATCH", `/api/v1/admin/staff/${person.id}`, { token: staff, body: { active: false } })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/admin/staff/${person.id}`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/staff/${person.id}`, { token: admin })).json.active).toBe(true);
  });
});
