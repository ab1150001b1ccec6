import { beforeAll, describe, expect, it } from "vitest";
import { makeCity, makeClass, makeResource, makeStudio } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const paths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();

describe("admin studios", () => {
  it("creates, reads, updates and deletes a studio", async () => {
    const city = await makeCity();
    const name = `Clay ${unique()}`;
    const created = await call("POST", "/api/v1/admin/studios", {
      token: admin,
      body: { name, cityId: city.id, timeZone: "Europe/London", address: "1 Kiln Lane" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name, cityId: city.id, timeZone: "Europe/London", currency: "GBP", address: "1 Kiln Lane" });
    expect(created.json.id).toMatch(/^stu_/);
    expect(new Date(created.json.createdAt).toISOString()).toBe(created.json.createdAt);

    const got = await call("GET", `/api/v1/admin/studios/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created.json);

    const otherCity = await makeCity();
    const updated = await call("PATCH", `/api/v1/admin/studios/${created.json.id}`, {
      token: admin,
      body: { cityId: otherCity.id, timeZone: "America/New_York", address: null },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ name, cityId: otherCity.id, timeZone: "America/New_York", currency: "GBP", address: null });

    const removed = await call("DELETE", `/api/v1/admin/studios/${created.json.id}`, { token: admin });
    expect(removed.status).toBe(204);
    const gone = await call("GET", `/api/v1/admin/studios/${created.json.id}`, { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe("NOT_FOUND");
  });

  it("defaults the currency to GBP and the address to null", async () => {
    const city = await makeCity();
    const created = await call("POST", "/api/v1/admin/studios", {
      token: admin,
      body: { name: `Bare ${unique()}`, cityId: city.id, timeZone: "UTC" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ currency: "GBP", address: null });
  });

  it("filters by city and pages with a cursor", async () => {
    const city = await makeCity();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await makeStudio({ cityId: city.id })).id);
    await makeStudio(); // elsewhere

    const first = await call("GET", `/api/v1/admin/studios?cityId=${city.id}&limit=2`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call("GET", `/api/v1/admin/studios?cityId=${city.id}&limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    const seen = [...first.json.data, ...second.json.data].map((s: { id: string }) => s.id);
    expect(seen.sort()).toEqual(ids.sort());
  });

  it("rejects invalid input with field paths", async () => {
    const city = await makeCity();
    const bad = await call("POST", "/api/v1/admin/studios", {
      token: admin,
      body: { name: "", cityId: city.id, timeZone: "Mars/Olympus_Mons", currency: "EUR" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(paths(bad.json)).toEqual(["currency", "name", "timeZone"]);

    const studio = await makeStudio();
    const badPatch = await call("PATCH", `/api/v1/admin/studios/${studio.id}`, { token: admin, body: { timeZone: "Europe/Londres" } });
    expect(badPatch.status).toBe(400);
    expect(paths(badPatch.json)).toEqual(["timeZone"]);

    const badCursor = await call("GET", "/api/v1/admin/studios?cursor=nonsense", { token: admin });
    expect(badCursor.status).toBe(400);
    expect(paths(badCursor.json)).toEqual(["cursor"]);
  });

  it("refuses an unknown city with 422 naming the field, and unknown studios with 404", async () => {
    const created = await call("POST", "/api/v1/admin/studios", {
      token: admin,
      body: { name: `Lost ${unique()}`, cityId: "cty_missing", timeZone: "Europe/London" },
    });
    expect(created.status).toBe(422);
    expect(created.json.error.code).toBe("INVALID_REFERENCE");
    expect(created.json.error.details).toMatchObject({ field: "cityId", missing: ["cty_missing"] });

    const studio = await makeStudio();
    const patched = await call("PATCH", `/api/v1/admin/studios/${studio.id}`, { token: admin, body: { cityId: "cty_missing" } });
    expect(patched.status).toBe(422);
    expect(patched.json.error.details.field).toBe("cityId");

    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await call(method, "/api/v1/admin/studios/stu_missing", { token: admin, body: method === "PATCH" ? {} : undefined });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("refuses to delete a studio that still has classes or resources (409 IN_USE)", async () => {
    const withClass = await makeStudio();
    await makeClass({ studioId: withClass.id });
    const a = await call("DELETE", `/api/v1/admin/studios/${withClass.id}`, { token: admin });
    expect(a.status).toBe(409);
    expect(a.json.error.code).toBe("IN_USE");

    const withResource = await makeStudio();
    await makeResource(withResource.id);
    const b = await call("DELETE", `/api/v1/admin/studios/${withResource.id}`, { token: admin });
    expect(b.status).toBe(409);
    expect(b.json.error.code).toBe("IN_USE");
    expect((await call("GET", `/api/v1/admin/studios/${withResource.id}`, { token: admin })).status).toBe(200);
  });

  it("needs a token (401), refuses customers (403) and lets only admins write (403 for staff)", async () => {
    const city = await makeCity();
    const studio = await makeStudio();
    const body = { name: `Nope ${unique()}`, cityId: city.id, timeZone: "Europe/London" };
    expect((await call("GET", "/api/v1/admin/studios")).status).toBe(401);
    expect((await call("POST", "/api/v1/admin/studios", { body })).status).toBe(401);
    const asCustomer = await call("GET", `/api/v1/admin/studios/${studio.id}`, { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", "/api/v1/admin/studios", { token: staff, body })).status).toBe(403);
    expect((await call("PATCH", `/api/v1/admin/studios/${studio.id}`, { token: staff, body: { name: "x" } })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/admin/studios/${studio.id}`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/admin/studios/${studio.id}`, { token: admin })).status).toBe(200);
  });
});
