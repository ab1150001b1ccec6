import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { redeemPromo } from "../src/services/promos";
import { makePromo } from "./fixtures";
import { call, eventuallyPasses, tokenFor, unique } from "./helpers";

const PROMOS = "/api/v1/admin/promo-codes";
const db = getDb(env.DB);
const code = () => `CODE_${unique().toUpperCase()}`;

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

const issuePaths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((i) => i.path).sort();

describe("admin promo codes", () => {
  it("creates a code upper-cased, reads it with its uses, and lists it", async () => {
    const raw = `spring-${unique()}`;
    const created = await call("POST", PROMOS, {
      token: admin,
      body: {
        code: raw,
        kind: "percent",
        value: 15,
        validFrom: "2026-03-01T00:00:00Z",
        validUntil: "2026-04-01T00:00:00+01:00",
        maxUses: 100,
        maxUsesPerEmail: 1,
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      code: raw.toUpperCase(),
      kind: "percent",
      value: 15,
      validFrom: "2026-03-01T00:00:00.000Z",
      validUntil: "2026-03-31T23:00:00.000Z",
      maxUses: 100,
      maxUsesPerEmail: 1,
      active: true,
      uses: 0,
    });
    expect(created.json.id).toMatch(/^prm_/);

    const promo = (await db.query.promoCodes.findFirst({ where: (p, { eq }) => eq(p.id, created.json.id) }))!;
    await redeemPromo(env, { promo, bookingId: `bkg_${unique()}`, email: `a-${unique()}@example.test`, now: new Date("2026-03-15T00:00:00Z") });
    await redeemPromo(env, { promo, bookingId: `bkg_${unique()}`, email: `b-${unique()}@example.test`, now: new Date("2026-03-15T00:00:00Z") });

    // The uses reach D1 (which the listing reads) through the projection.
    await eventuallyPasses(async () => {
      const response = await call("GET", `${PROMOS}/${created.json.id}`, { token: staff });
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ id: created.json.id, uses: 2 });
    });

    const listed = await call("GET", `${PROMOS}?limit=1&cursor=${cursorFor(raw.toUpperCase().slice(0, -1))}`, { token: staff });
    expect(listed.status).toBe(200);
    expect(listed.json.data).toEqual([expect.objectContaining({ id: created.json.id, code: raw.toUpperCase(), uses: 2 })]);
  });

  it("defaults to active with no limits or window, and accepts fixed pence discounts", async () => {
    const created = await call("POST", PROMOS, { token: admin, body: { code: code(), kind: "fixed", value: 500 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: "fixed", value: 500, active: true, validFrom: null, validUntil: null, maxUses: null, maxUsesPerEmail: null });
  });

  it("pages through the list by code with a cursor", async () => {
    const prefix = `PAGE${unique().toUpperCase()}`;
    for (const suffix of ["A", "B", "C"]) await makePromo({ code: `${prefix}${suffix}` });
    // Start just before our codes so the page is deterministic whatever other tests created.
    const first = await call("GET", `${PROMOS}?limit=2&cursor=${cursorFor(`${prefix}`)}`, { token: admin });
    expect(first.status).toBe(200);
    expect(first.json.data.map((p: { code: string }) => p.code)).toEqual([`${prefix}A`, `${prefix}B`]);
    const second = await call("GET", `${PROMOS}?limit=2&cursor=${first.json.nextCursor}`, { token: admin });
    expect(second.json.data[0].code).toBe(`${prefix}C`);
  });

  it("rejects invalid input with field paths", async () => {
    const bad = await call("POST", PROMOS, { token: admin, body: { code: "a b", kind: "bogus", value: 0, maxUses: 0, validFrom: "yesterday" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(issuePaths(bad.json)).toEqual(["code", "kind", "maxUses", "validFrom", "value"]);

    const tooShort = await call("POST", PROMOS, { token: admin, body: { code: "ab", kind: "percent", value: 10 } });
    expect(issuePaths(tooShort.json)).toEqual(["code"]);

    const percent = await call("POST", PROMOS, { token: admin, body: { code: code(), kind: "percent", value: 101 } });
    expect(percent.status).toBe(400);
    expect(issuePaths(percent.json)).toEqual(["value"]);

    const window = await call("POST", PROMOS, {
      token: admin,
      body: { code: code(), kind: "fixed", value: 100, validFrom: "2026-05-01T00:00:00Z", validUntil: "2026-05-01T00:00:00Z" },
    });
    expect(window.status).toBe(400);
    expect(issuePaths(window.json)).toEqual(["validUntil"]);

    const fractional = await call("POST", PROMOS, { token: admin, body: { code: code(), kind: "fixed", value: 9.99 } });
    expect(issuePaths(fractional.json)).toEqual(["value"]);
  });

  it("answers 409 ALREADY_EXISTS for a code that exists in another case", async () => {
    const taken = code();
    expect((await call("POST", PROMOS, { token: admin, body: { code: taken, kind: "percent", value: 10 } })).status).toBe(201);
    const dup = await call("POST", PROMOS, { token: admin, body: { code: taken.toLowerCase(), kind: "fixed", value: 100 } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("ALREADY_EXISTS");
  });

  it("updates active, validUntil and maxUses, but never maxUses below the current uses", async () => {
    const promo = await makePromo({ maxUses: 10, validFrom: new Date("2026-01-01T00:00:00Z") });
    for (let i = 0; i < 3; i++) {
      await redeemPromo(env, { promo, bookingId: `bkg_${unique()}`, email: `p${i}-${unique()}@example.test`, now: new Date("2026-02-01T00:00:00Z") });
    }
    const updated = await call("PATCH", `${PROMOS}/${promo.id}`, { token: admin, body: { active: false, validUntil: "2026-12-31T23:59:59Z", maxUses: 3 } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ active: false, validUntil: "2026-12-31T23:59:59.000Z", maxUses: 3, uses: 3 });

    const below = await call("PATCH", `${PROMOS}/${promo.id}`, { token: admin, body: { maxUses: 2 } });
    expect(below.status).toBe(400);
    expect(below.json.error.code).toBe("VALIDATION_FAILED");
    expect(issuePaths(below.json)).toEqual(["maxUses"]);
    expect(below.json.error.details.uses).toBe(3);

    const beforeFrom = await call("PATCH", `${PROMOS}/${promo.id}`, { token: admin, body: { validUntil: "2025-12-31T00:00:00Z" } });
    expect(beforeFrom.status).toBe(400);
    expect(issuePaths(beforeFrom.json)).toEqual(["validUntil"]);

    const cleared = await call("PATCH", `${PROMOS}/${promo.id}`, { token: admin, body: { maxUses: null, validUntil: null } });
    expect(cleared.json).toMatchObject({ maxUses: null, validUntil: null, active: false });

    const unknownField = await call("PATCH", `${PROMOS}/${promo.id}`, { token: admin, body: { maxUses: "lots" } });
    expect(unknownField.status).toBe(400);
    expect(issuePaths(unknownField.json)).toEqual(["maxUses"]);
  });

  it("answers 404 for an unknown id", async () => {
    const missing = `prm_missing_${unique()}`;
    expect((await call("GET", `${PROMOS}/${missing}`, { token: admin })).json.error.code).toBe("NOT_FOUND");
    const patched = await call("PATCH", `${PROMOS}/${missing}`, { token: admin, body: { active: false } });
    expect(patched.status).toBe(404);
  });

  it("needs a token (401), staff or admin to read and admin to write (403)", async () => {
    const body = { code: code(), kind: "percent", value: 10 };
    expect((await call("POST", PROMOS, { body })).status).toBe(401);
    expect((await call("GET", PROMOS)).status).toBe(401);
    expect((await call("GET", PROMOS, { token: customer })).status).toBe(403);
    expect((await call("GET", PROMOS, { token: staff })).status).toBe(200);
    const asStaff = await call("POST", PROMOS, { token: staff, body });
    expect(asStaff.status).toBe(403);
    expect(asStaff.json.error.code).toBe("FORBIDDEN");
    const promo = await makePromo();
    expect((await call("PATCH", `${PROMOS}/${promo.id}`, { token: staff, body: { active: false } })).status).toBe(403);
  });
});

/** A cursor positioned just after `code` (the list's sort key), as the API itself would encode it. */
function cursorFor(code: string): string {
  return btoa(JSON.stringify([code])).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}
