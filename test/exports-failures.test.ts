/**
 * CSV exports whose row source fails (src/lib/csv.ts): before the first row the client gets a 503
 * JSON error; after the headers are sent the download breaks (the stream errors, the response never
 * completes) instead of ending as a shorter file that looks whole. Failures are real D1 failures: the
 * table the export reads is renamed away while the request runs, and always put back.
 */
import { env, exports } from "cloudflare:workers";
import { parse } from "csv-parse/browser/esm/sync";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/errors";
import { csvStream, openCsvStream } from "../src/lib/csv";
import { EXPORT_PAGE_SIZE } from "../src/services/exports";
import { customerRow, suffix } from "./customers-fixtures";
import { uniqueEmail } from "./booking-helpers";
import { call, tokenFor } from "./helpers";
import { grantRole, signIn } from "./sign-in-helpers";

const PAD = "x".repeat(100);

/** `count` rows of about 100 bytes, then a throw. */
async function* failingAfter(count: number) {
  for (let n = 1; n <= count; n++) yield [n, PAD];
  throw new Error("page read failed");
}

/** Every chunk the reader gets, and how the stream ended. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ text: string; error: unknown }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

async function withTableOffline<T>(table: string, during: () => Promise<T>): Promise<T> {
  await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_offline`);
  try {
    return await during();
  } finally {
    await env.DB.exec(`ALTER TABLE ${table}_offline RENAME TO ${table}`);
  }
}

const quietly = () => vi.spyOn(console, "error").mockImplementation(() => {});

describe("src/lib/csv.ts when the rows fail", () => {
  it("errors the stream after the rows already sent (the reader rejects; no clean end), and logs one JSON line", async () => {
    const logged = quietly();
    try {
      // 1050 rows: five full chunks of 200, then 50 that are read but never sent.
      const { text, error } = await drain(csvStream(["n", "text"], failingAfter(1050), "test.csv"));
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe("page read failed");
      // Some rows went out before the failure (so the status was long sent), but never the last ones.
      const rows = parse(text.slice(0, text.lastIndexOf("\r\n") + 2)) as string[][];
      expect(rows[0]).toEqual(["n", "text"]);
      expect(rows.length).toBeGreaterThan(10);
      expect(rows.length).toBeLessThan(1051);
      expect(rows.slice(1).map(([n]) => Number(n))).toEqual(rows.slice(1).map((_, i) => i + 1));
      const line = JSON.parse(String(logged.mock.calls.at(-1)?.[0]));
      expect(line).toMatchObject({ level: "error", msg: "csv export failed", file: "test.csv", error: "Error: page read failed" });
      expect(line.rowsSent).toBe(rows.length - 1);
    } finally {
      logged.mockRestore();
    }
  });

  it("control: the same rows without the throw end cleanly with every row", async () => {
    async function* all() {
      for (let n = 1; n <= 1000; n++) yield [n, PAD];
    }
    const { text, error } = await drain(csvStream(["n", "text"], all()));
    expect(error).toBeUndefined();
    expect((parse(text) as string[][]).length).toBe(1001);
  });

  it("openCsvStream refuses with EXPORT_UNAVAILABLE (503) when the first row cannot be read, before any byte", async () => {
    const logged = quietly();
    try {
      const refused = await openCsvStream(["n"], failingAfter(0), "first.csv").catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ code: "EXPORT_UNAVAILABLE", status: 503 });
      expect((refused as ApiError).headers["Retry-After"]).toBe("5");
      expect(JSON.parse(String(logged.mock.calls.at(-1)?.[0]))).toMatchObject({ msg: "csv export failed", file: "first.csv", rowsSent: 0 });
    } finally {
      logged.mockRestore();
    }
  });

  it("openCsvStream keeps the first row it read, and a failure after it still breaks the stream", async () => {
    const logged = quietly();
    try {
      const { text, error } = await drain(await openCsvStream(["n", "text"], failingAfter(3), "later.csv"));
      expect((error as Error).message).toBe("page read failed");
      // Three small rows never fill a chunk: none is sent, and the client sees only a failed download.
      expect(text).toBe("");
      async function* three() {
        for (let n = 1; n <= 3; n++) yield [n, "t"];
      }
      expect(await new Response(await openCsvStream(["n", "text"], three(), "ok.csv")).text()).toBe("n,text\r\n1,t\r\n2,t\r\n3,t\r\n");
      expect(await new Response(await openCsvStream(["n"], (async function* () {})(), "empty.csv")).text()).toBe("n\r\n");
    } finally {
      logged.mockRestore();
    }
  });
});

describe("GET /api/v1/admin/customers/export.csv when D1 fails", () => {
  it("answers 503 EXPORT_UNAVAILABLE as JSON when the first page cannot be read", async () => {
    await customerRow();
    const admin = await tokenFor("admin");
    const logged = quietly();
    try {
      const response = await withTableOffline("customers", () => call("GET", "/api/v1/admin/customers/export.csv", { token: admin }));
      expect(response.status).toBe(503);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(response.json.error.code).toBe("EXPORT_UNAVAILABLE");
    } finally {
      logged.mockRestore();
    }
    // Control: with the table back the same call is a file.
    expect((await call("GET", "/api/v1/admin/customers/export.csv", { token: admin })).status).toBe(200);
  });

  it("breaks the download (the body rejects) when a later page fails after the 200 was sent", async () => {
    const tag = suffix();
    // More than two pages of customers, so the export must read D1 again after answering.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO customers (id, email, first_name, last_name) SELECT 'cus_bulk_' || ? || '_' || i, 'bulk-' || ? || '-' || i || '@example.test', 'Bulk', 'Row' FROM n`,
    )
      .bind(EXPORT_PAGE_SIZE * 2 + 10, tag, tag)
      .run();
    const admin = await tokenFor("admin");
    const request = () => new Request("http://localhost/api/v1/admin/customers/export.csv", { headers: { Authorization: `Bearer ${admin}` } });

    // Control: read to the end, the file is whole.
    const whole = await drain((await exports.default.fetch(request())).body!);
    expect(whole.error).toBeUndefined();
    expect((parse(whole.text, { columns: true }) as { email: string }[]).filter((row) => row.email.includes(tag))).toHaveLength(EXPORT_PAGE_SIZE * 2 + 10);

    const logged = quietly();
    try {
      // The first page is read before the 200; the next ones while the table is away.
      const response = await exports.default.fetch(request());
      expect(response.status).toBe(200);
      const broken = await withTableOffline("customers", () => drain(response.body!));
      expect(broken.error).toBeDefined();
      // What arrived is the start of the file (the header at least), but the body never completed.
      expect(broken.text.startsWith("customer_id,email,")).toBe(true);
      expect(broken.text.length).toBeLessThan(whole.text.length);
    } finally {
      logged.mockRestore();
    }
  });
});

describe("GET /admin/bookings.csv (console) when D1 fails", () => {
  it("answers 503 EXPORT_UNAVAILABLE instead of a header-only file when the first page cannot be read", async () => {
    const email = uniqueEmail("export-staff");
    await grantRole(email, "staff");
    const { cookie } = await signIn(email);
    const logged = quietly();
    try {
      const response = await withTableOffline("bookings", () => call("GET", "/admin/bookings.csv", { headers: { Cookie: cookie } }));
      expect(response.status).toBe(503);
      expect(response.headers.get("Content-Type")).not.toMatch(/^text\/csv/);
      expect(response.text).toContain("EXPORT_UNAVAILABLE");
    } finally {
      logged.mockRestore();
    }
    // Control: the same request with the table back is the file.
    const file = await call("GET", "/admin/bookings.csv", { headers: { Cookie: cookie } });
    expect(file.status).toBe(200);
    expect(file.headers.get("Content-Type")).toMatch(/^text\/csv/);
  });
});
