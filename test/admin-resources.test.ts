import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeClass, makeResource, makeStudio } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const paths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();

/** Makes `classId` require `resourceId` (directly in D1, so this file depends only on the resource routes). */
async function requireResource(classId: string, resourceId: string) {
  await env.DB.prepare("INSERT INTO class_resource_requirements (class_id, resource_id, quantity_per_student) VALUES (?, ?, 1)")
    .bind(classId, resourceId)
    .run();
}

describe("admin resources", () => {
  it("creates, reads, updates and deletes a resource", async () => {
    const studio = await makeStudio();
    const name = `Wheel ${unique()}`;
    const created = await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: studio.id, name, quantity: 6 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ studioId: studio.id, name, quantity: 6 });
    expect(created.json.id).toMatch(/^res_/);

    const got = await call("GET", `/api/v1/admin/resources/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created.json);

    const otherStudio = await makeStudio();
    const updated = await call("PATCH", `/api/v1/admin/resources/${created.json.id}`, {
      token: admin,
      body: { quantity: 0, studioId: otherStudio.id },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ name, quantity: 0, studioId: otherStudio.id });

    expect((await call("DELETE", `/api/v1/admin/resources/${created.json.id}`, { token: admin })).status).toBe(204);
    expect((await call("GET", `/api/v1/admin/resources/${created.json.id}`, { token: admin })).status).toBe(404);
  });

  it("filters by studio and pages with a cursor", async () => {
    const studio = await makeStudio();
    const made = [await makeResource(studio.id), await makeResource(studio.id), await makeResource(studio.id)];
    await makeResource((await makeStudio()).id);

    const first = await call("GET", `/api/v1/admin/resources?studioId=${studio.id}&limit=2`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    const second = await call("GET", `/api/v1/admin/resources?studioId=${studio.id}&limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    const seen = [...first.json.data, ...second.json.data].map((r: { id: string }) => r.id);
    expect(seen.sort()).toEqual(made.map((r) => r.id).sort());
  });

  it("rejects invalid input with field paths", async () => {
    const studio = await makeStudio();
    const bad = await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: studio.id, name: "", quantity: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(bad.json)).toEqual(["name", "quantity"]);

    const resource = await makeResource(studio.id);
    const fractional = await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: admin, body: { quantity: 1.5 } });
    expect(fractional.status).toBe(400);
    expect(paths(fractional.json)).toEqual(["quantity"]);

    const wrongType = await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: admin, body: { quantity: "3" } });
    expect(paths(wrongType.json)).toEqual(["quantity"]);
  });

  it("keeps names unique per studio (409), but lets two studios use the same name", async () => {
    const [a, b] = [await makeStudio(), await makeStudio()];
    const name = `Kiln ${unique()}`;
    expect((await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: a.id, name, quantity: 1 } })).status).toBe(201);
    const dup = await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: a.id, name, quantity: 2 } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("ALREADY_EXISTS");
    expect((await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: b.id, name, quantity: 1 } })).status).toBe(201);

    const other = await makeResource(a.id);
    const renamed = await call("PATCH", `/api/v1/admin/resources/${other.id}`, { token: admin, body: { name } });
    expect(renamed.status).toBe(409);
  });

  it("refuses unknown studios (422) and unknown resources (404)", async () => {
    const created = await call("POST", "/api/v1/admin/resources", { token: admin, body: { studioId: "stu_missing", name: "Wheel", quantity: 1 } });
    expect(created.status).toBe(422);
    expect(created.json.error.code).toBe("INVALID_REFERENCE");
    expect(created.json.error.details).toMatchObject({ field: "studioId", missing: ["stu_missing"] });

    const resource = await makeResource((await makeStudio()).id);
    const moved = await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: admin, body: { studioId: "stu_missing" } });
    expect(moved.status).toBe(422);
    expect(moved.json.error.details.field).toBe("studioId");

    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, "/api/v1/admin/resources/res_missing", { token: admin, body: method === "PATCH" ? {} : undefined });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("refuses to delete, or move to another studio, a resource a class requires (409 IN_USE)", async () => {
    const studio = await makeStudio();
    const resource = await makeResource(studio.id);
    const cls = await makeClass({ studioId: studio.id });
    await requireResource(cls.id, resource.id);

    const removed = await call("DELETE", `/api/v1/admin/resources/${resource.id}`, { token: admin });
    expect(removed.status).toBe(409);
    expect(removed.json.error.code).toBe("IN_USE");
    expect(removed.json.error.details).toEqual({ classId: cls.id });

    const moved = await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: admin, body: { studioId: (await makeStudio()).id } });
    expect(moved.status).toBe(409);
    expect(moved.json.error.code).toBe("IN_USE");

    const same = await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: admin, body: { studioId: studio.id, quantity: 3 } });
    expect(same.status).toBe(200);
    expect(same.json.quantity).toBe(3);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM class_resource_requirements WHERE resource_id = ?").bind(resource.id).first<{ n: number }>();
    expect(left?.n).toBe(1);
  });

  it("needs a token (401), refuses customers (403) and lets only admins write (403 for staff)", async () => {
    const studio = await makeStudio();
    const resource = await makeResource(studio.id);
    const body = { studioId: studio.id, name: `Nope ${unique()}`, quantity: 1 };
    expect((await call("GET", "/api/v1/admin/resources")).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/resources", { body })).status).toBe(401);
    const asCustomer = await call("GET", "/api/v1/admin/resources", { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", "/api/v1/admin/resources", { token: staff, body })).status).toBe(403);
    expect((await call("PATCH", `/api/v1/admin/resources/${resource.id}`, { token: staff, body: { quantity: 1 } })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/admin/resources/${resource.id}`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/resources/${resource.id}`, { token: admin })).json.quantity).toBe(resource.quantity);
  });
});
