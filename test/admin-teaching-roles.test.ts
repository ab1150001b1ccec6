import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeClass, makeRole, makeStaff } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const paths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();

describe("admin teaching roles", () => {
  it("creates, reads, updates and deletes a teaching role", async () => {
    const name = `Wheel instructor ${unique()}`;
    const created = await call("POST", "/api/v1/admin/teaching-roles", { token: admin, body: { name, description: "Teaches the wheel" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name, description: "Teaches the wheel" });
    expect(created.json.id).toMatch(/^rol_/);

    const got = await call("GET", `/api/v1/admin/teaching-roles/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created.json);

    const updated = await call("PATCH", `/api/v1/admin/teaching-roles/${created.json.id}`, { token: admin, body: { description: null } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ name, description: null });

    const removed = await call("DELETE", `/api/v1/admin/teaching-roles/${created.json.id}`, { token: admin });
    expect(removed.status).toBe(204);
    expect((await call("GET", `/api/v1/admin/teaching-roles/${created.json.id}`, { token: admin })).status).toBe(404);
  });

  it("pages through the list with a cursor", async () => {
    for (let i = 0; i < 3; i++) await makeRole();
    const first = await call("GET", "/api/v1/admin/teaching-roles?limit=2", { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call("GET", `/api/v1/admin/teaching-roles?limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data.length).toBeGreaterThan(0);
    const firstIds = first.json.data.map((r: { id: string }) => r.id);
    for (const role of second.json.data) expect(firstIds).not.toContain(role.id);
    expect(second.json.data[0].id > firstIds[1]).toBe(true);
  });

  it("rejects invalid input with field paths and duplicate names with 409", async () => {
    const bad = await call("POST", "/api/v1/admin/teaching-roles", { token: admin, body: { name: "  ", description: 7 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(bad.json)).toEqual(["description", "name"]);

    const name = `Dup ${unique()}`;
    const first = await call("POST", "/api/v1/admin/teaching-roles", { token: admin, body: { name } });
    expect(first.status).toBe(201);
    const dup = await call("POST", "/api/v1/admin/teaching-roles", { token: admin, body: { name } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("ALREADY_EXISTS");

    const other = await makeRole();
    const renamed = await call("PATCH", `/api/v1/admin/teaching-roles/${other.id}`, { token: admin, body: { name } });
    expect(renamed.status).toBe(409);
    expect(renamed.json.error.code).toBe("ALREADY_EXISTS");
  });

  it("answers 404 for unknown ids", async () => {
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, "/api/v1/admin/teaching-roles/rol_missing", { token: admin, body: method === "PATCH" ? {} : undefined });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("refuses to delete a role a class requires (409 IN_USE), but deleting a held role unassigns it", async () => {
    const required = await makeRole();
    await makeClass({ requiredRoleId: required.id });
    const refused = await call("DELETE", `/api/v1/admin/teaching-roles/${required.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("IN_USE");

    const held = await makeRole();
    const person = await makeStaff([held.id]);
    expect((await call("DELETE", `/api/v1/admin/teaching-roles/${held.id}`, { token: admin })).status).toBe(204);
    const links = await env.DB.prepare("SELECT count(*) AS n FROM staff_teaching_roles WHERE staff_id = ?").bind(person.id).first<{ n: number }>();
    expect(links?.n).toBe(0);
  });

  it("needs a token (401), refuses customers (403) and lets only admins write (403 for staff)", async () => {
    const role = await makeRole();
    const body = { name: `Nope ${unique()}` };
    expect((await call("GET", "/api/v1/admin/teaching-roles")).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/teaching-roles", { body })).status).toBe(401);
    const asCustomer = await call("GET", "/api/v1/admin/teaching-roles", { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", "/api/v1/admin/teaching-roles", { token: staff, body })).status).toBe(403);
    expect((await call("PATCH", `/api/v1/admin/teaching-roles/${role.id}`, { token: staff, body })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/admin/teaching-roles/${role.id}`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/teaching-roles/${role.id}`, { token: admin })).json.name).toBe(role.name);
  });
});
