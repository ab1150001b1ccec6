/**
 * Reports for staff: GET /api/v1/admin/reports/{name}?startDate=&endDate= over whole UTC days (both
 * included), as JSON or, with format=csv, as an RFC 4180 file of the rows (src/lib/csv.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { daysInRange, isCalendarDate } from "../../domain/metric-periods";
import { csvHeaders, openCsvStream } from "../../lib/csv";
import { createRouter, errorResponses } from "../../lib/openapi";
import { DEFAULT_TOP, MAX_REPORT_DAYS, MAX_TOP, REPORT_NAMES, REPORTS, runReport } from "../../services/reports";
import { staffOrAdmin } from "./access";

const tags = ["Admin: reports"];

const CalendarDate = (description: string) =>
  z.string().refine(isCalendarDate, "must be a calendar date, YYYY-MM-DD").openapi({ example: "2026-03-02", description });

const ReportQuery = z
  .object({
    startDate: CalendarDate("First UTC day, included"),
    endDate: CalendarDate(`Last UTC day, included; at most ${MAX_REPORT_DAYS} days from startDate`),
    format: z.enum(["json", "csv"]).default("json").openapi({ description: "csv: the rows as RFC 4180 CSV, header row first (no summary)" }),
    top: z.coerce.number().int().min(1).max(MAX_TOP).default(DEFAULT_TOP).openapi({ description: `customer-lifetime-value: customers listed, 1–${MAX_TOP}` }),
  })
  .superRefine((query, ctx) => {
    if (!isCalendarDate(query.startDate) || !isCalendarDate(query.endDate)) return;
    if (query.endDate < query.startDate) ctx.addIssue({ code: "custom", path: ["endDate"], message: "is before startDate" });
    else if (daysInRange(query.startDate, query.endDate) > MAX_REPORT_DAYS) {
      ctx.addIssue({ code: "custom", path: ["endDate"], message: `the range may cover at most ${MAX_REPORT_DAYS} days` });
    }
  });

const Cell = z.union([z.string(), z.number(), z.null()]);

const ReportSchema = z
  .object({
    report: z.string(),
    startDate: z.string(),
    endDate: z.string(),
    columns: z.array(z.string()).openapi({ description: "The keys of each row, in CSV column order" }),
    data: z.array(z.record(z.string(), Cell)),
    summary: z.record(z.string(), z.unknown()).optional().openapi({ description: "Figures about the whole range (distribution, totals) where the report has them" }),
    generatedAt: z.iso.datetime(),
  })
  .openapi("Report");

const reportGlossary = Object.entries(REPORTS)
  .map(([name, report]) => `- \`${name}\`: ${report.description}. Columns: ${report.columns.join(", ")}`)
  .join("\n");

export const reportRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{name}",
    tags,
    summary: "One report over a range of UTC days, as JSON or CSV",
    description: `Reports (an unknown name is 404 and lists them):\n${reportGlossary}\n\nMoney is integer pence, times ISO 8601 UTC, rates 0–1 with four decimals.`,
    ...staffOrAdmin,
    request: { params: z.object({ name: z.string().max(64).openapi({ param: { name: "name", in: "path" }, example: REPORT_NAMES[0] }) }), query: ReportQuery },
    responses: {
      200: {
        description: "The report (JSON), or its rows as CSV with format=csv",
        content: { "application/json": { schema: ReportSchema }, "text/csv": { schema: z.string().openapi({ description: "RFC 4180 CSV (UTF-8, CRLF), header row first" }) } },
      },
      ...errorResponses(400, 401, 403, 404, 503),
    },
  }),
  async (c) => {
    const { name } = c.req.valid("param");
    const query = c.req.valid("query");
    const result = await runReport(c.env.DB, name, query.startDate, query.endDate, { top: query.top, nowMs: Date.now() });
    if (query.format === "csv") {
      const rows = (async function* () {
        for (const row of result.data) yield result.columns.map((column) => row[column] ?? null);
      })();
      const file = `${name}-${query.startDate}-to-${query.endDate}.csv`;
      return c.body(await openCsvStream(result.columns, rows, file), 200, csvHeaders(file));
    }
    return c.json({ report: name, startDate: query.startDate, endDate: query.endDate, columns: [...result.columns], data: result.data, summary: result.summary, generatedAt: new Date().toISOString() }, 200);
  },
);
