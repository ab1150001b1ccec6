/**
 * The CSV exports (GET /admin/bookings/export.csv, /admin/customers/export.csv) and the helper in
 * src/lib/csv.ts: parsed back with csv-parse, RFC 4180 (CRLF, quoting), formula-looking text
 * neutralised, streamed a page at a time.
 */
import { parse } from "csv-parse/browser/esm/sync";
import { env } from "cloudflare:workers";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { csvStream, neutraliseFormula } from "../src/lib/csv";
import { bookingExportRows } from "../src/services/exports";
import { bookingRow, customerRow, suffix } from "./customers-fixtures";
import { makeClass, makeSession } from "./fixtures";
import { call, tokenFor } from "./helpers";

const LONDON = "Europe/London";
const day = (at: Date) => DateTime.fromJSDate(at).setZone(LONDON).toFormat("yyyy-LL-dd");
const rowsOf = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

describe("src/lib/csv.ts", () => {
  it("writes RFC 4180: CRLF after every record, quotes around commas, quotes and line breaks", async () => {
    async function* rows() {
      yield ["O'Brien, Pat", 'Say "hi"', "line one\nline two", -250, null, true, new Date(Date.UTC(2026, 0, 2))];
      yield ["plain", "", "carriage\rreturn", 0, undefined, false, "x"];
    }
    const text = await new Response(csvStream(["a", "b", "c", "d", "e", "f", "g"], rows())).text();
    expect(text).toBe(
      'a,b,c,d,e,f,g\r\n"O\'Brien, Pat","Say ""hi""","line one\nline two",-250,,true,2026-01-02T00:00:00.000Z\r\nplain,,"carriage\rreturn",0,,false,x\r\n',
    );
    expect(parse(text)).toEqual([
      ["a", "b", "c", "d", "e", "f", "g"],
      ["O'Brien, Pat", 'Say "hi"', "line one\nline two", "-250", "", "true", "2026-01-02T00:00:00.000Z"],
      ["plain", "", "carriage\rreturn", "0", "", "false", "x"],
    ]);
  });

  it("prefixes text that would start a formula with an apostrophe, and leaves numbers and other text alone", () => {
    for (const risky of ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx", "\uFF1D1"]) expect(neutraliseFormula(risky)).toBe(`'${risky}`);
    for (const safe of ["Ada", "", "1=1", "a@b.c", "'quoted"]) expect(neutraliseFormula(safe)).toBe(safe);
  });

  it("pulls rows only as the reader asks, and closes the source when the reader goes away", async () => {
    let produced = 0;
    let closed = false;
    async function* endless() {
      try {
        for (;;) {
          produced++;
          yield [produced, "x".repeat(100)];
        }
      } finally {
        closed = true;
      }
    }
    const reader = csvStream(["n", "text"], endless()).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).startsWith("n,text\r\n1,")).toBe(true);
    // One chunk is about 16 KiB: some hundreds of rows, not the endless rest.
    expect(produced).toBeLessThan(1000);
    await reader.cancel();
    expect(closed).toBe(true);
  });
});

describe("GET /api/v1/admin/bookings/export.csv", () => {
  it("exports the bookings booked in the range (studio days, both included), oldest first, parseable, formulas neutralised", async () => {
    const klass = await makeClass({ name: `=HYPERLINK("http://evil.example","x") ${suffix()}` });
    const session = await makeSession(klass.id);
    const risky = await customerRow({ firstName: '=HYPERLINK("http://evil.example","Click")', lastName: 'Smith, "Jr"', phone: "+44 20 7946 0000" });
    // A day far from every other test's bookings, so the range holds only these.
    const base = new Date(Date.UTC(2001, 5, 10, 9, 0) + Math.floor(Math.random() * 1000) * 24 * 3600_000);
    const early = await bookingRow(risky.id, klass.id, [{ sessionId: session.id, status: "confirmed", pricePence: 2500 }], {
      confirmedAt: base,
      notes: "first line\r\nsecond line, with comma",
      source: "phone",
      bookedBy: "staff:ana@example.test",
    });
    const late = await bookingRow(risky.id, klass.id, [{ sessionId: session.id, status: "cancelled", pricePence: 1800 }], {
      confirmedAt: new Date(base.getTime() + 24 * 3600_000),
      source: null,
    });
    await bookingRow(risky.id, klass.id, [{ sessionId: session.id, status: "confirmed", pricePence: 100 }], { confirmedAt: new Date(base.getTime() + 2 * 24 * 3600_000) });

    const response = await call("GET", `/api/v1/admin/bookings/export.csv?from=${day(base)}&to=${day(late.confirmedAt)}`, { token: await tokenFor("staff") });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="bookings-${day(base)}-to-${day(late.confirmedAt)}.csv"`);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(response.text.split("\r\n")[0]).toMatch(/^booking_id,status,source,booked_by,/);
    const rows = rowsOf(response.text);
    expect(rows.map((row) => row.booking_id)).toEqual([early.id, late.id]);
    expect(rows[0]).toMatchObject({
      status: "confirmed",
      source: "phone",
      booked_by: "staff:ana@example.test",
      customer_email: risky.email,
      customer_first_name: `'=HYPERLINK("http://evil.example","Click")`,
      customer_last_name: 'Smith, "Jr"',
      customer_phone: "'+44 20 7946 0000",
      class: `'${klass.name}`,
      sessions: "1",
      first_session_start_utc: session.startsAt.toISOString(),
      total_pence: "2500",
      notes: "first line\r\nsecond line, with comma",
      booked_at_utc: base.toISOString(),
    });
    expect(rows[1]).toMatchObject({ status: "cancelled", source: "website", total_pence: "1800" });
    // No cell the spreadsheet would run as a formula.
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+@\t\r]|^-(?!\d)/);
  });

  it("reads D1 a page at a time, in order, without repeating or skipping a row", async () => {
    const klass = await makeClass();
    const session = await makeSession(klass.id);
    const customer = await customerRow();
    const at = new Date(Date.UTC(1999, 0, 1) + Math.floor(Math.random() * 300) * 24 * 3600_000);
    // Seven bookings, two pairs at the same instant (the id breaks the tie), read three at a time.
    const made = [];
    for (const offset of [0, 0, 1, 2, 2, 3, 4]) {
      made.push(await bookingRow(customer.id, klass.id, [{ sessionId: session.id, status: "confirmed", pricePence: 100 }], { confirmedAt: new Date(at.getTime() + offset) }));
    }
    const ids: string[] = [];
    for await (const row of bookingExportRows(getDb(env.DB), { from: at, to: new Date(at.getTime() + 5) }, 3)) ids.push(row[0] as string);
    const expected = [...made].sort((a, b) => a.confirmedAt.getTime() - b.confirmedAt.getTime() || (a.id < b.id ? -1 : 1)).map((b) => b.id);
    expect(ids).toEqual(expected);
  });

  it("refuses a missing, malformed, reversed or too long range with 400 and the field's path", async () => {
    const token = await tokenFor("admin");
    for (const [query, field] of [
      ["to=2026-01-01", "from"],
      ["from=2026-01-01", "to"],
      ["from=2026-02-30&to=2026-03-01", "from"],
      ["from=01/02/2026&to=2026-03-01", "from"],
      ["from=2026-03-02&to=2026-03-01", "to"],
      ["from=2025-01-01&to=2026-01-02", "to"],
    ]) {
      const response = await call("GET", `/api/v1/admin/bookings/export.csv?${query}`, { token });
      expect(response.status, query).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues[0].path, query).toBe(field);
    }
    // A single day, and exactly the longest range, are fine.
    expect((await call("GET", "/api/v1/admin/bookings/export.csv?from=2026-03-01&to=2026-03-01", { token })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/bookings/export.csv?from=2025-01-01&to=2026-01-01", { token })).status).toBe(200);
  });

  it("answers 401 without a token and 403 to a customer (not caught by /bookings/{id})", async () => {
    const path = "/api/v1/admin/bookings/export.csv?from=2026-01-01&to=2026-01-02";
    expect((await call("GET", path)).status).toBe(401);
    const customer = await call("GET", path, { token: await tokenFor("customer") });
    expect(customer.status).toBe(403);
    expect(customer.json.error.code).toBe("FORBIDDEN");
  });
});

describe("GET /api/v1/admin/customers/export.csv", () => {
  it("exports every customer by email, with staff notes (line breaks kept) and preferences, formulas neutralised", async () => {
    const tag = suffix();
    const risky = await customerRow({
      email: `aaa-export-${tag}-a@example.test`,
      firstName: "=HYPERLINK(\"http://evil.example\",\"Click\")",
      lastName: 'Doe, "Jane"',
      staffNotes: "Line one\nLine two, \"quoted\"",
      preferences: { seat: "front", steps: false },
    });
    const plain = await customerRow({ email: `aaa-export-${tag}-b@example.test`, firstName: "Plain", lastName: "Person" });
    const response = await call("GET", "/api/v1/admin/customers/export.csv", { token: await tokenFor("admin") });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = rowsOf(response.text);
    const emails = rows.map((row) => row.email);
    expect(emails).toEqual([...emails].sort());
    const mine = rows.filter((row) => row.email?.includes(tag));
    expect(mine).toEqual([
      expect.objectContaining({
        customer_id: risky.id,
        first_name: `'=HYPERLINK("http://evil.example","Click")`,
        last_name: 'Doe, "Jane"',
        staff_notes: "Line one\nLine two, \"quoted\"",
        preferences: JSON.stringify({ seat: "front", steps: false }),
      }),
      expect.objectContaining({ customer_id: plain.id, first_name: "Plain", staff_notes: "", preferences: "" }),
    ]);
  });

  it("is not read as a customer id, and answers 401 without a token and 403 to a customer", async () => {
    expect((await call("GET", "/api/v1/admin/customers/export.csv")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/customers/export.csv", { token: await tokenFor("customer") })).status).toBe(403);
    const staff = await call("GET", "/api/v1/admin/customers/export.csv", { token: await tokenFor("staff") });
    expect(staff.headers.get("Content-Type")).toMatch(/^text\/csv/);
  });
});
