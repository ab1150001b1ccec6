import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeClass, makeResource, makeRole, makeSession, makeStudio } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const paths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();

/** A studio, a teaching role and two of the studio's resources, and a valid class body using them. */
async function setup() {
  const studio = await makeStudio();
  const role = await makeRole();
  const wheel = await makeResource(studio.id, { name: `A wheel ${unique()}` });
  const kiln = await makeResource(studio.id, { name: `B kiln ${unique()}` });
  const body = {
    studioId: studio.id,
    name: `Wheel throwing ${unique()}`,
    description: "Six weeks on the wheel",
    pricePence: 3500,
    fullSchedulePricePence: 18000,
    durationMinutes: 120,
    defaultCapacity: 8,
    requiredRoleId: role.id,
    bookingKinds: ["SINGLE_SESSION", "FULL_SCHEDULE"],
    resourceRequirements: [
      { resourceId: kiln.id, quantityPerStudent: 1 },
      { resourceId: wheel.id, quantityPerStudent: 2 },
    ],
  };
  return { studio, role, wheel, kiln, body };
}

const create = (body: unknown) => call("POST", "/api/v1/admin/classes", { token: admin, body });
const patch = (id: string, body: unknown) => call("PATCH", `/api/v1/admin/classes/${id}`, { token: admin, body });

describe("admin classes", () => {
  it("creates a class with resource requirements, reads, updates and deletes it", async () => {
    const { studio, role, wheel, kiln, body } = await setup();
    const created = await create(body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      studioId: studio.id,
      name: body.name,
      description: "Six weeks on the wheel",
      pricePence: 3500,
      fullSchedulePricePence: 18000,
      currency: "GBP",
      durationMinutes: 120,
      defaultCapacity: 8,
      requiredRoleId: role.id,
      bookingKinds: ["SINGLE_SESSION", "FULL_SCHEDULE"],
      resourceRequirements: [
        { resourceId: wheel.id, name: wheel.name, quantityPerStudent: 2 },
        { resourceId: kiln.id, name: kiln.name, quantityPerStudent: 1 },
      ],
    });
    expect(created.json.id).toMatch(/^cls_/);

    const got = await call("GET", `/api/v1/admin/classes/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created.json);

    const renamed = await patch(created.json.id, { name: `${body.name}!`, pricePence: 4000 });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ name: `${body.name}!`, pricePence: 4000, fullSchedulePricePence: 18000 });
    expect(renamed.json.resourceRequirements).toHaveLength(2); // untouched without resourceRequirements

    const replaced = await patch(created.json.id, { resourceRequirements: [{ resourceId: kiln.id, quantityPerStudent: 3 }] });
    expect(replaced.status).toBe(200);
    expect(replaced.json.resourceRequirements).toEqual([{ resourceId: kiln.id, name: kiln.name, quantityPerStudent: 3 }]);

    const cleared = await patch(created.json.id, { resourceRequirements: [] });
    expect(cleared.json.resourceRequirements).toEqual([]);

    expect((await call("DELETE", `/api/v1/admin/classes/${created.json.id}`, { token: admin })).status).toBe(204);
    expect((await call("GET", `/api/v1/admin/classes/${created.json.id}`, { token: admin })).status).toBe(404);
  });

  it("fills optional fields and lets fullSchedulePricePence be null without FULL_SCHEDULE", async () => {
    const { body } = await setup();
    const { description: _d, fullSchedulePricePence: _f, resourceRequirements: _r, ...minimal } = body;
    const created = await create({ ...minimal, bookingKinds: ["DROP_IN"] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ description: "", fullSchedulePricePence: null, resourceRequirements: [], bookingKinds: ["DROP_IN"] });
  });

  it("filters by studio and pages with a cursor", async () => {
    const studio = await makeStudio();
    const made = [await makeClass({ studioId: studio.id }), await makeClass({ studioId: studio.id }), await makeClass({ studioId: studio.id })];
    await makeClass();
    const { body } = await setup();
    const withRequirements = await create({ ...body, studioId: studio.id, resourceRequirements: [] });
    made.push(withRequirements.json);

    const first = await call("GET", `/api/v1/admin/classes?studioId=${studio.id}&limit=3`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(3);
    const second = await call("GET", `/api/v1/admin/classes?studioId=${studio.id}&limit=3&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    const seen = [...first.json.data, ...second.json.data];
    expect(seen.map((c: { id: string }) => c.id).sort()).toEqual(made.map((c) => c.id).sort());
    for (const cls of seen) expect(cls).toMatchObject({ currency: "GBP", resourceRequirements: [] });
  });

  it("lists resource requirements for every class on a page", async () => {
    const { studio, body, wheel } = await setup();
    const a = await create({ ...body, resourceRequirements: [{ resourceId: wheel.id, quantityPerStudent: 1 }] });
    const b = await create({ ...body, name: `Other ${unique()}` });
    const list = await call("GET", `/api/v1/admin/classes?studioId=${studio.id}`, { token: admin });
    const byId = new Map(list.json.data.map((c: { id: string }) => [c.id, c]));
    expect(byId.get(a.json.id)).toEqual(a.json);
    expect(byId.get(b.json.id)).toEqual(b.json);
  });

  it("rejects invalid fields with their paths", async () => {
    const { body, wheel } = await setup();
    const bad = await create({
      ...body,
      name: "",
      pricePence: 10.5,
      fullSchedulePricePence: -1,
      durationMinutes: 1441,
      defaultCapacity: 0,
      bookingKinds: ["SINGLE_SESSION", "SINGLE_SESSION"],
      resourceRequirements: [{ resourceId: wheel.id, quantityPerStudent: 0 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(bad.json)).toEqual([
      "bookingKinds",
      "defaultCapacity",
      "durationMinutes",
      "fullSchedulePricePence",
      "name",
      "pricePence",
      "resourceRequirements.0.quantityPerStudent",
    ]);

    expect(paths((await create({ ...body, bookingKinds: [] })).json)).toEqual(["bookingKinds"]);
    expect(paths((await create({ ...body, bookingKinds: ["WEEKLY"] })).json)).toEqual(["bookingKinds.0"]);
    expect(paths((await create({ ...body, durationMinutes: 0 })).json)).toEqual(["durationMinutes"]);
    expect(paths((await create({ ...body, pricePence: "35.00" })).json)).toEqual(["pricePence"]);
    const twice = await create({
      ...body,
      resourceRequirements: [
        { resourceId: wheel.id, quantityPerStudent: 1 },
        { resourceId: wheel.id, quantityPerStudent: 2 },
      ],
    });
    expect(paths(twice.json)).toEqual(["resourceRequirements"]);

    const notJson = await call("POST", "/api/v1/admin/classes", { token: admin, rawBody: "{" });
    expect(notJson.status).toBe(400);
  });

  it("requires fullSchedulePricePence with FULL_SCHEDULE, on create and on the merged result of a PATCH", async () => {
    const { body } = await setup();
    const missing = await create({ ...body, fullSchedulePricePence: undefined });
    expect(missing.status).toBe(400);
    expect(paths(missing.json)).toEqual(["fullSchedulePricePence"]);
    expect(paths((await create({ ...body, fullSchedulePricePence: null })).json)).toEqual(["fullSchedulePricePence"]);

    const single = await create({ ...body, bookingKinds: ["SINGLE_SESSION"], fullSchedulePricePence: null });
    expect(single.status).toBe(201);
    const addKind = await patch(single.json.id, { bookingKinds: ["SINGLE_SESSION", "FULL_SCHEDULE"] });
    expect(addKind.status).toBe(400);
    expect(addKind.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(addKind.json)).toEqual(["fullSchedulePricePence"]);
    expect((await call("GET", `/api/v1/admin/classes/${single.json.id}`, { token: admin })).json.bookingKinds).toEqual(["SINGLE_SESSION"]);

    const both = await patch(single.json.id, { bookingKinds: ["SINGLE_SESSION", "FULL_SCHEDULE"], fullSchedulePricePence: 9000 });
    expect(both.status).toBe(200);
    expect(both.json).toMatchObject({ bookingKinds: ["SINGLE_SESSION", "FULL_SCHEDULE"], fullSchedulePricePence: 9000 });

    const dropPrice = await patch(single.json.id, { fullSchedulePricePence: null });
    expect(dropPrice.status).toBe(400);
    expect(paths(dropPrice.json)).toEqual(["fullSchedulePricePence"]);
    const dropBoth = await patch(single.json.id, { bookingKinds: ["DROP_IN"], fullSchedulePricePence: null });
    expect(dropBoth.status).toBe(200);
    expect(dropBoth.json.fullSchedulePricePence).toBeNull();
  });

  it("refuses unknown studios, roles and resources with 422 naming the field, and writes nothing", async () => {
    const { body } = await setup();
    const studio = await create({ ...body, studioId: "stu_missing" });
    expect(studio.status).toBe(422);
    expect(studio.json.error.code).toBe("INVALID_REFERENCE");
    expect(studio.json.error.details).toMatchObject({ field: "studioId", missing: ["stu_missing"] });

    const role = await create({ ...body, requiredRoleId: "rol_missing" });
    expect(role.status).toBe(422);
    expect(role.json.error.details).toMatchObject({ field: "requiredRoleId", missing: ["rol_missing"] });

    const resource = await create({ ...body, resourceRequirements: [...body.resourceRequirements, { resourceId: "res_missing", quantityPerStudent: 1 }] });
    expect(resource.status).toBe(422);
    expect(resource.json.error.details).toMatchObject({ field: "resourceRequirements", missing: ["res_missing"] });

    const count = await env.DB.prepare("SELECT count(*) AS n FROM classes WHERE name = ?").bind(body.name).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("only lets a class use its own studio's resources, also after a PATCH moves it", async () => {
    const { body, wheel } = await setup();
    const foreign = await makeResource((await makeStudio()).id);
    const refused = await create({ ...body, resourceRequirements: [{ resourceId: foreign.id, quantityPerStudent: 1 }] });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe("INVALID_REFERENCE");
    expect(refused.json.error.details).toMatchObject({ field: "resourceRequirements", otherStudio: [foreign.id] });

    const created = await create({ ...body, resourceRequirements: [{ resourceId: wheel.id, quantityPerStudent: 1 }] });
    const addForeign = await patch(created.json.id, { resourceRequirements: [{ resourceId: foreign.id, quantityPerStudent: 1 }] });
    expect(addForeign.status).toBe(422);

    const moved = await patch(created.json.id, { studioId: foreign.studioId });
    expect(moved.status).toBe(422);
    expect(moved.json.error.details).toMatchObject({ field: "resourceRequirements", otherStudio: [wheel.id] });

    const movedWithResources = await patch(created.json.id, {
      studioId: foreign.studioId,
      resourceRequirements: [{ resourceId: foreign.id, quantityPerStudent: 2 }],
    });
    expect(movedWithResources.status).toBe(200);
    expect(movedWithResources.json).toMatchObject({
      studioId: foreign.studioId,
      resourceRequirements: [{ resourceId: foreign.id, name: foreign.name, quantityPerStudent: 2 }],
    });

    expect((await patch(created.json.id, { studioId: "stu_missing" })).json.error.details.field).toBe("studioId");
    expect((await patch(created.json.id, { requiredRoleId: "rol_missing" })).json.error.details.field).toBe("requiredRoleId");
  });

  it("answers 404 for unknown ids", async () => {
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, "/api/v1/admin/classes/cls_missing", { token: admin, body: method === "PATCH" ? { name: "x" } : undefined });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("refuses to delete a class with sessions (409 IN_USE); deleting one without drops its requirements", async () => {
    const cls = await makeClass();
    await makeSession(cls.id);
    const refused = await call("DELETE", `/api/v1/admin/classes/${cls.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("IN_USE");
    expect((await call("GET", `/api/v1/admin/classes/${cls.id}`, { token: admin })).status).toBe(200);

    const { body, wheel } = await setup();
    const created = await create(body);
    expect((await call("DELETE", `/api/v1/admin/classes/${created.json.id}`, { token: admin })).status).toBe(204);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM class_resource_requirements WHERE class_id = ?").bind(created.json.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
    expect((await call("GET", `/api/v1/admin/resources/${wheel.id}`, { token: admin })).status).toBe(200);
  });

  it("needs a token (401), refuses customers (403) and lets only admins write (403 for staff)", async () => {
    const { body } = await setup();
    const cls = await makeClass();
    expect((await call("GET", "/api/v1/admin/classes")).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/classes", { body })).status).toBe(401);
    const asCustomer = await call("GET", `/api/v1/admin/classes/${cls.id}`, { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("GET", "/api/v1/admin/classes", { token: customer })).status).toBe(403);
    expect((await call("POST", "/api/v1/admin/classes", { token: staff, body })).status).toBe(403);
    expect((await call("PATCH", `/api/v1/admin/classes/${cls.id}`, { token: staff, body: { name: "x" } })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/admin/classes/${cls.id}`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/classes/${cls.id}`, { token: admin })).json.name).toBe(cls.name);
  });
});

describe("class prices", () => {
  it("must be at least 1p, since a total of zero is only accepted through a 100% promo code", async () => {
    const admin = await tokenFor("admin");
    const response = await call("POST", "/api/v1/admin/classes", { token: admin, body: { pricePence: 0, fullSchedulePricePence: 0 } });
    expect(response.status).toBe(400);
    const paths = response.json.error.details.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["pricePence", "fullSchedulePricePence"]));
  });
});
