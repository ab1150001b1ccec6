/** The D1 statement counter the benchmarks read (src/middleware/d1-statements.ts). */
import { env } from "cloudflare:workers";
import { count, eq, inArray } from "drizzle-orm";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { cities } from "../src/db/schema";
import type { AppEnv } from "../src/env";

/** A request asks for the count (the setting alone is not enough). */
const ASK = { "X-Count-D1": "1" };
import { d1Statements, isWriteStatement } from "../src/middleware/d1-statements";

const suffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

/** A tiny app: the middleware and routes doing one read and one batch of two writes, raw or through drizzle. */
function testApp() {
  const app = new Hono<AppEnv>();
  app.use(d1Statements());
  app.post("/raw", async (c) => {
    const db = c.env.DB;
    const before = await db.prepare("SELECT count(*) AS n FROM cities").first<{ n: number }>();
    const [a, b] = [suffix(), suffix()];
    const insert = db.prepare("INSERT INTO cities (id, name, country_code) VALUES (?1, ?2, 'GB')");
    await db.batch([insert.bind(`cty_${a}`, `D1 count ${a}`), insert.bind(`cty_${b}`, `D1 count ${b}`)]);
    return c.json({ before: before?.n, ids: [`cty_${a}`, `cty_${b}`], secret: typeof c.env.JWT_SECRET });
  });
  app.post("/drizzle", async (c) => {
    const db = getDb(c.env.DB);
    const [a, b] = [suffix(), suffix()];
    await db.select({ n: count() }).from(cities);
    await db.batch([
      db.insert(cities).values({ id: `cty_${a}`, name: `D1 drizzle ${a}`, countryCode: "GB" }),
      db.update(cities).set({ countryCode: "IE" }).where(eq(cities.id, `cty_${a}`)),
    ]);
    const rows = await db.select().from(cities).where(inArray(cities.id, [`cty_${a}`, `cty_${b}`]));
    return c.json({ rows: rows.map((row) => [row.id, row.countryCode]) });
  });
  app.get("/fails", async (c) => {
    await c.env.DB.prepare("SELECT 1").first();
    throw new Error("boom");
  });
  app.onError((_err, c) => c.json({ error: "failed" }, 500));
  return app;
}

const withSetting = (value: string | undefined) => ({ ...env, EXPOSE_D1_STATEMENTS: value });

describe("d1Statements middleware", () => {
  it("counts one read and a batch of two writes", async () => {
    const response = await testApp().request("/raw", { method: "POST", headers: ASK }, withSetting("true"));
    expect(response.status).toBe(200);
    expect(response.headers.get("X-D1-Statements")).toBe("3");
    expect(response.headers.get("X-D1-Writes")).toBe("2");
    const body = (await response.json()) as { ids: string[]; secret: string };
    // The shallow copy keeps every other binding and setting.
    expect(body.secret).toBe("string");
    const stored = await env.DB.prepare(`SELECT count(*) AS n FROM cities WHERE id IN (?1, ?2)`).bind(...body.ids).first<{ n: number }>();
    expect(stored?.n).toBe(2);
  });

  it("works through drizzle (prepare, bind, all/raw/run, batch)", async () => {
    const response = await testApp().request("/drizzle", { method: "POST", headers: ASK }, withSetting("true"));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { rows: string[][] }).rows).toEqual([[expect.stringMatching(/^cty_/), "IE"]]);
    expect(response.headers.get("X-D1-Statements")).toBe("4");
    expect(response.headers.get("X-D1-Writes")).toBe("2");
  });

  it('takes "true" in any case', async () => {
    const response = await testApp().request("/raw", { method: "POST", headers: ASK }, withSetting(" TRUE "));
    expect(response.headers.get("X-D1-Statements")).toBe("3");
  });

  it("counts the statements of a request that fails", async () => {
    const response = await testApp().request("/fails", { headers: ASK }, withSetting("true"));
    expect(response.status).toBe(500);
    expect(response.headers.get("X-D1-Statements")).toBe("1");
    expect(response.headers.get("X-D1-Writes")).toBe("0");
  });

  it("sets no header when the setting is off or absent", async () => {
    for (const setting of ["false", undefined, env.EXPOSE_D1_STATEMENTS]) {
      const response = await testApp().request("/raw", { method: "POST", headers: ASK }, withSetting(setting));
      expect(response.status).toBe(200);
      expect(response.headers.has("X-D1-Statements")).toBe(false);
      expect(response.headers.has("X-D1-Writes")).toBe(false);
    }
  });

  it("counts only a request that asks, so a bench can count a sample", async () => {
    const response = await testApp().request("/raw", { method: "POST" }, withSetting("true"));
    expect(response.status).toBe(200);
    expect(response.headers.has("X-D1-Statements")).toBe(false);
  });

  it("tells reads from writes by their first keyword", () => {
    expect(isWriteStatement("  SELECT 1")).toBe(false);
    expect(isWriteStatement("pragma table_info(cities)")).toBe(false);
    expect(isWriteStatement("WITH x AS (SELECT 1) SELECT * FROM x")).toBe(false);
    expect(isWriteStatement("with x as (select 1) insert into t select * from x")).toBe(true);
    expect(isWriteStatement("insert into cities values (1)")).toBe(true);
    expect(isWriteStatement("UPDATE cities SET name = 'x'")).toBe(true);
    expect(isWriteStatement("")).toBe(true);
  });
});
