import { beforeAll, describe, expect, it } from "vitest";
import { call, tokenFor, unique } from "./helpers";

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

describe("admin cities", () => {
  it("creates, reads, updates, lists and deletes a city", async () => {
    const name = `Bristol ${unique()}`;
    const created = await call("POST", "/api/v1/admin/cities", { token: admin, body: { name, countryCode: "GB" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name, countryCode: "GB" });
    expect(created.json.id).toMatch(/^cty_/);

    const got = await call("GET", `/api/v1/admin/cities/${created.json.id}`, { token: staff });
    expect(got.status).toBe(200);

    const updated = await call("PATCH", `/api/v1/admin/cities/${created.json.id}`, { token: admin, body: { name: `${name}!` } });
    expect(updated.json.name).toBe(`${name}!`);

    const removed = await call("DELETE", `/api/v1/admin/cities/${created.json.id}`, { token: admin });
    expect(removed.status).toBe(204);
    const gone = await call("GET", `/api/v1/admin/cities/${created.json.id}`, { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe("NOT_FOUND");
  });

  it("pages through the list with a cursor", async () => {
    for (let i = 0; i < 3; i++) {
      await call("POST", "/api/v1/admin/cities", { token: admin, body: { name: `Page ${unique()}`, countryCode: "GB" } });
    }
    const first = await call("GET", "/api/v1/admin/cities?limit=2", { token: admin });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await call("GET", `/api/v1/admin/cities?limit=2&cursor=${first.json.nextCursor}`, { token: admin });
    const firstIds = first.json.data.map((c: { id: string }) => c.id);
    for (const city of second.json.data) expect(firstIds).not.toContain(city.id);
  });

  it("rejects invalid input with field paths and duplicates with 409", async () => {
    const bad = await call("POST", "/api/v1/admin/cities", { token: admin, body: { name: "", countryCode: "gb" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["countryCode", "name"]);

    const name = `Dup ${unique()}`;
    await call("POST", "/api/v1/admin/cities", { token: admin, body: { name, countryCode: "GB" } });
    const dup = await call("POST", "/api/v1/admin/cities", { token: admin, body: { name, countryCode: "GB" } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("ALREADY_EXISTS");
  });

  it("needs a token (401) and the admin role to write (403)", async () => {
    const body = { name: `Nope ${unique()}`, countryCode: "GB" };
    expect((await call("POST", "/api/v1/admin/cities", { body })).status).toBe(401);
    const asCustomer = await call("GET", "/api/v1/admin/cities", { token: customer });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.json.error.code).toBe("FORBIDDEN");
    expect((await call("POST", "/api/v1/admin/cities", { token: staff, body })).status).toBe(403);
  });
});
