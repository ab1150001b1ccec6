/** GET /api/v1/admin/customers?q=: case-insensitive prefix search on email, names and phone, on their indexes, in cursor pages. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { prefixUpperBound, searchCustomers } from "../src/db/customer-queries";
import { customerRow, suffix } from "./customers-fixtures";
import { call, tokenFor } from "./helpers";

async function search(q: string, extra = "") {
  const response = await call("GET", `/api/v1/admin/customers?q=${encodeURIComponent(q)}${extra}`, { token: await tokenFor("staff") });
  expect(response.status, response.text).toBe(200);
  return response.json as { data: { id: string; email: string }[]; nextCursor: string | null };
}

const idsOf = (page: { data: { id: string }[] }) => page.data.map((customer) => customer.id);

describe("GET /api/v1/admin/customers", () => {
  it("finds by the start of an email, a first or last name, both names, or a phone number, ignoring case", async () => {
    const tag = suffix().replace(/\d/g, "q");
    const ada = await customerRow({ email: `ada.${tag}@example.test`, firstName: `Ada${tag}`, lastName: `Lovelace${tag}`, phone: `+44 20 7${tag.length}46 0001` });
    const grace = await customerRow({ email: `grace.${tag}@example.test`, firstName: `Grace${tag}`, lastName: `Hopper${tag}`, phone: "+1 555 0100 22" });
    const mary = await customerRow({ email: `m.${tag}@example.test`, firstName: `Mary${tag}`, lastName: `Ada${tag}son` });

    expect(idsOf(await search(`ADA.${tag.toUpperCase()}@`))).toEqual([ada.id]);
    expect(idsOf(await search(`ada${tag}`)).sort()).toEqual([ada.id, mary.id].sort());
    expect(idsOf(await search(`LOVELACE${tag.toUpperCase()}`))).toEqual([ada.id]);
    expect(idsOf(await search(`grace${tag} hop`))).toEqual([grace.id]);
    expect(idsOf(await search(`grace${tag} love`))).toEqual([]);
    expect(idsOf(await search("+1 555 0100"))).toContain(grace.id);
    expect(idsOf(await search(`+44 20 7${tag.length}46`))).toContain(ada.id);
    // A prefix, not a substring: the middle of a name or an address finds nothing.
    expect(idsOf(await search(`ovelace${tag}`))).toEqual([]);
    expect(idsOf(await search(`${tag}@example`))).toEqual([]);
    // LIKE's wildcards are letters here.
    expect(idsOf(await search(`ada%${tag}`))).toEqual([]);
    expect(idsOf(await search(`ad_${tag}`))).toEqual([]);
  });

  it("pages through every match once, by email, with the cursor", async () => {
    const tag = `pg${suffix().replace(/\d/g, "x")}`;
    const made = await Promise.all(Array.from({ length: 5 }, (_, i) => customerRow({ email: `${tag}.${i}@example.test`, lastName: `Page${tag}` })));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search(tag, `&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((customer) => customer.email));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(made.map((customer) => customer.email).sort());
    expect(pages).toBe(3);
  });

  it("refuses a bad cursor, limit or query with 400 and the field's path", async () => {
    const token = await tokenFor("admin");
    for (const [query, field] of [
      ["cursor=not-a-cursor", "cursor"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      [`q=${"a".repeat(255)}`, "q"],
    ]) {
      const response = await call("GET", `/api/v1/admin/customers?${query}`, { token });
      expect(response.status, query).toBe(400);
      expect(response.json.error.details.issues[0].path).toBe(field);
    }
  });

  it("answers 401 without a token and 403 to a customer", async () => {
    expect((await call("GET", "/api/v1/admin/customers?q=a")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/customers?q=a", { token: await tokenFor("customer") })).status).toBe(403);
  });

  it("reads through the indexes on email, lower(first_name), lower(last_name) and phone, never a scan", async () => {
    const db = getDb(env.DB);
    const plans: Record<string, string> = {};
    for (const q of ["ada@exa", "ada", "ada love", "+44 20"]) {
      const { sql, params } = searchCustomers(db, q, { limit: 21, afterEmail: "a" }).toSQL();
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<{ detail: string }>();
      plans[q] = results.map((row) => row.detail).join(" | ");
      expect(plans[q], q).not.toMatch(/SCAN customers(?! USING)/);
    }
    expect(plans["ada@exa"]).toMatch(/customers_email_unique/);
    for (const q of ["ada", "ada love"]) {
      expect(plans[q]).toMatch(/customers_first_name_idx/);
      expect(plans[q]).toMatch(/customers_last_name_idx/);
      expect(plans[q]).toMatch(/customers_email_unique/);
    }
    expect(plans["+44 20"]).toMatch(/customers_phone_idx/);
  });

  it("bounds a prefix by the next string up, so every string with the prefix is inside the range and the bound is not", () => {
    for (const prefix of ["ada", "z", "é", "\uD7FF"]) {
      const upper = prefixUpperBound(prefix);
      for (const inside of [prefix, `${prefix}a`, `${prefix}zzz`, `${prefix}\uFFFF`]) expect(inside >= prefix && inside < upper, JSON.stringify(inside)).toBe(true);
      expect(upper.startsWith(prefix)).toBe(false);
    }
  });
});
