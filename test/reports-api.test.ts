/**
 * The reports route: who may call it, its errors, CSV output parsed back, and the query plan of
 * every report's main query (an index on bookings and events, never a scan of either; covering
 * indexes only for the reports that aggregate a whole range of bookings).
 */
import { env } from "cloudflare:workers";
import { parse } from "csv-parse/browser/esm/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { REPORT_NAMES, REPORTS, reportRange } from "../src/services/reports";
import { call, tokenFor } from "./helpers";
import { DAY, generateReportData, type ReportData } from "./reports-helpers";

const START = "2018-03-01";
const END = "2018-08-31";
const path = (name: string, query = `startDate=${START}&endDate=${END}`) => `/api/v1/admin/reports/${name}?${query}`;

let staff: string;
let admin: string;
let data: ReportData;

beforeAll(async () => {
  [staff, admin] = await Promise.all([tokenFor("staff"), tokenFor("admin")]);
  data = await generateReportData(7, Date.parse(`${START}T00:00:00Z`), Date.parse(`${END}T00:00:00Z`) + DAY);
});

describe("who may run reports", () => {
  it("staff and admins may; a customer is refused with 403 and an anonymous caller with 401", async () => {
    expect((await call("GET", path("geography"), { token: staff })).status).toBe(200);
    expect((await call("GET", path("geography"), { token: admin })).status).toBe(200);
    const customer = await call("GET", path("geography"), { token: await tokenFor("customer") });
    expect(customer.status).toBe(403);
    expect(customer.json.error.code).toBe("FORBIDDEN");
    const anonymous = await call("GET", path("geography"));
    expect(anonymous.status).toBe(401);
    expect((await call("GET", path("geography", `startDate=${START}&endDate=${END}&format=csv`))).status).toBe(401);
  });
});

describe("the reports route in the OpenAPI document", () => {
  it("is documented behind bearerAuth with every report, JSON and CSV answers and its errors", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const op = doc.paths["/api/v1/admin/reports/{name}"].get;
    expect(op.security).toEqual([{ bearerAuth: [] }]);
    for (const name of REPORT_NAMES) expect(op.description).toContain(`\`${name}\``);
    expect(Object.keys(op.responses["200"].content)).toEqual(["application/json", "text/csv"]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403", "404"]));
  });
});

describe("report errors", () => {
  const issuePaths = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((issue) => issue.path);

  it("an unknown report is 404 and lists the reports there are", async () => {
    const response = await call("GET", path("no-such-report"), { token: staff });
    expect(response.status).toBe(404);
    expect(response.json.error.code).toBe("NOT_FOUND");
    expect(response.json.error.details.reports).toEqual(REPORT_NAMES);
    expect(response.json.error.message).toContain("booking-frequency");
  });

  it("bad dates, a reversed range, too long a range and bad options are 400 with field paths", async () => {
    const cases: [string, string][] = [
      ["startDate=2018-02-30&endDate=2018-03-01", "startDate"],
      ["startDate=2018-03-01&endDate=03/04/2018", "endDate"],
      ["endDate=2018-03-01", "startDate"],
      ["startDate=2018-03-02&endDate=2018-03-01", "endDate"],
      ["startDate=2018-01-01&endDate=2019-02-05", "endDate"],
      [`startDate=${START}&endDate=${END}&format=xlsx`, "format"],
      [`startDate=${START}&endDate=${END}&top=0`, "top"],
      [`startDate=${START}&endDate=${END}&top=5000`, "top"],
    ];
    for (const [query, field] of cases) {
      const response = await call("GET", path("booking-frequency", query), { token: staff });
      expect(response.status, query).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(issuePaths(response.json), query).toContain(field);
    }
    // 400 days is the most a range may cover.
    expect((await call("GET", path("booking-frequency", "startDate=2018-01-01&endDate=2019-02-04"), { token: staff })).status).toBe(200);
  });
});

describe("reports as CSV", () => {
  it("every report's CSV has its columns as the header and the JSON rows as records", async () => {
    for (const name of REPORT_NAMES) {
      const [json, csv] = await Promise.all([call("GET", path(name), { token: staff }), call("GET", path(name, `startDate=${START}&endDate=${END}&format=csv`), { token: staff })]);
      expect(csv.status, name).toBe(200);
      expect(csv.headers.get("Content-Type")).toContain("text/csv");
      expect(csv.headers.get("Content-Disposition")).toContain(`${name}-${START}-to-${END}.csv`);
      const records = parse(csv.text, { columns: true }) as Record<string, string>[];
      expect(Object.keys(records[0] ?? Object.fromEntries(json.json.columns.map((c: string) => [c, ""])))).toEqual(json.json.columns);
      expect(records).toHaveLength(json.json.data.length);
      const asText = (value: unknown) => (value === null ? "" : typeof value === "string" && /^[=+\-@]/.test(value) ? `'${value}` : String(value));
      expect(records).toEqual(json.json.data.map((row: Record<string, unknown>) => Object.fromEntries(json.json.columns.map((c: string) => [c, asText(row[c])]))));
    }
  });

  it("formula-looking names are neutralised, CRLF ends each record", async () => {
    const csv = await call("GET", path("popular-courses", `startDate=${START}&endDate=${END}&format=csv`), { token: staff });
    const records = parse(csv.text, { columns: true }) as Record<string, string>[];
    const mine = records.filter((r) => data.classes.some((c) => c.id === r.classId));
    expect(mine.length).toBeGreaterThan(0);
    for (const record of mine) expect(record.className).toMatch(/^'=Report class \d$/);
    expect(csv.text.split("\r\n")[0]).toBe(REPORTS["popular-courses"].columns.join(","));

    const top = await call("GET", path("customer-lifetime-value", `startDate=${START}&endDate=${END}&format=csv&top=1000`), { token: staff });
    const hyperlinked = (parse(top.text, { columns: true }) as Record<string, string>[]).find((r) => r.customerId === data.customers[0]!.id);
    if (data.bookings.some((b) => b.customerId === data.customers[0]!.id && b.status === "confirmed" && b.confirmedAt >= Date.parse(`${START}T00:00:00Z`) && b.confirmedAt < Date.parse(`${END}T00:00:00Z`) + DAY)) {
      expect(hyperlinked?.firstName).toBe("'=HYPERLINK(1)");
    } else {
      expect(hyperlinked).toBeUndefined();
    }
  });
});

describe("query plans", () => {
  it("each report's main query searches an index on bookings, events and sessions; none scans them", async () => {
    const range = reportRange("2025-01-01", "2025-12-31");
    for (const name of REPORT_NAMES) {
      const query = REPORTS[name].mainQuery(range, { top: 100, nowMs: Date.now() });
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .bind(...query.params)
        .all<{ detail: string }>();
      const plan = results.map((row) => row.detail);
      console.log(`${name}:\n  ${plan.join("\n  ")}`);
      // Aliases of bookings (b, x, p), events (e), class_sessions (s) and session_attendance (a) in the report SQL, and the tables by name.
      const fullScans = plan.filter((line) => /^SCAN (a|b|x|p|e|s|bs|bookings|events|class_sessions|booking_sessions|session_attendance)\b/.test(line));
      expect(fullScans, name).toEqual([]);
      if (name !== "alert-resolution") expect(plan.join("\n"), name).toMatch(/USING (COVERING )?INDEX (bookings|events|class_sessions)_\w+/);
    }
  });

  // The reports that aggregate every booking (or line) of the range: the covering index each must
  // read, and the rule that neither bookings nor lines are read row by row beside it.
  const COVERED: Record<string, string[]> = {
    "booking-frequency": ["bookings_customer_value_idx"],
    "customer-lifetime-value": ["bookings_customer_value_idx"],
    retention: ["bookings_customer_value_idx"],
    "popular-courses": ["bookings_confirmed_at_idx", "bookings_customer_value_idx"],
    geography: ["bookings_confirmed_at_idx"],
    "revenue-by-source": ["bookings_confirmed_at_idx"],
    utilisation: ["booking_sessions_session_idx"],
  };

  it("the reports over all bookings of the range read covering indexes only: no row lookups, no line subquery per booking", async () => {
    const range = reportRange("2025-01-01", "2025-12-31");
    for (const [name, indexes] of Object.entries(COVERED)) {
      const query = REPORTS[name as keyof typeof REPORTS].mainQuery(range, { top: 100, nowMs: Date.now() });
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .bind(...query.params)
        .all<{ detail: string }>();
      const plan = results.map((row) => row.detail);
      const reads = plan.filter((line) => /^(SEARCH|SCAN) (b|bs)\b/.test(line));
      expect(reads.length, name).toBeGreaterThan(0);
      expect(reads.filter((line) => !line.includes("USING COVERING INDEX")), name).toEqual([]);
      expect(plan.filter((line) => /^SEARCH bs\b.*\(booking_id=\?\)/.test(line)), name).toEqual([]);
      for (const index of indexes) expect(reads.some((line) => line.includes(`COVERING INDEX ${index} `)), `${name} reads ${index}`).toBe(true);
    }
  });
});
