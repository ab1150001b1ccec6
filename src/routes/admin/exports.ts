/**
 * CSV exports for staff: bookings booked in a date range, and every customer. Streamed (src/lib/csv.ts):
 * RFC 4180 with CRLF line ends, a header row, and text cells that would start a spreadsheet formula
 * prefixed with `'`. Mounted before /bookings and /customers, so `export.csv` is never read as an id.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { DateTime } from "luxon";
import { getDb } from "../../db/client";
import { createRouter, errorResponses, validationError } from "../../lib/openapi";
import { csvHeaders, openCsvStream } from "../../lib/csv";
import { BOOKING_EXPORT_COLUMNS, bookingExportRows, CUSTOMER_EXPORT_COLUMNS, customerExportRows } from "../../services/exports";
import { CONSOLE_ZONE } from "../console/console-data";
import { staffOrAdmin } from "./access";

const tags = ["Admin: exports"];

/** The longest range one bookings export may cover, in days (both ends included). */
export const MAX_EXPORT_DAYS = 366;

/** Dates are whole days in the studio's zone, the console's (Europe/London). */
export const EXPORT_ZONE = CONSOLE_ZONE;

const Day = (what: string) =>
  z.iso.date().openapi({ description: `${what}, a date (YYYY-MM-DD) in the studio's zone (${EXPORT_ZONE}), included`, example: "2026-01-31" });

const BookingExportQuery = z.object({ from: Day("Booked from"), to: Day("Booked until") });

const csvResponse = (description: string) => ({
  description,
  content: { "text/csv": { schema: z.string().openapi({ description: "RFC 4180 CSV (UTF-8, CRLF), header row first" }) } },
});

const rangeProblem = (path: "from" | "to", message: string, input: string) => validationError(new z.ZodError([{ code: "custom", path: [path], message, input }]), "query");

const today = () => DateTime.now().setZone(EXPORT_ZONE).toFormat("yyyy-LL-dd");

export const exportRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/bookings/export.csv",
      tags,
      summary: `Bookings booked between two dates (studio zone, both included; at most ${MAX_EXPORT_DAYS} days), oldest first, as CSV`,
      description:
        `Columns: ${BOOKING_EXPORT_COLUMNS.join(", ")}. Times are ISO 8601 UTC; money integer pence. Cancelled bookings are included with their status. ` +
        "Text cells starting with = + - @ tab or CR are prefixed with an apostrophe so spreadsheets show them as text.",
      ...staffOrAdmin,
      request: { query: BookingExportQuery },
      responses: { 200: csvResponse("The bookings, streamed"), ...errorResponses(400, 401, 403, 503) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const from = DateTime.fromISO(query.from, { zone: EXPORT_ZONE }).startOf("day");
      const until = DateTime.fromISO(query.to, { zone: EXPORT_ZONE }).startOf("day");
      if (!from.isValid) throw rangeProblem("from", "not a calendar date", query.from);
      if (!until.isValid) throw rangeProblem("to", "not a calendar date", query.to);
      if (until < from) throw rangeProblem("to", "must be on or after from", query.to);
      if (until.diff(from, "days").days + 1 > MAX_EXPORT_DAYS) throw rangeProblem("to", `at most ${MAX_EXPORT_DAYS} days after from`, query.to);
      const range = { from: from.toJSDate(), to: until.plus({ days: 1 }).toJSDate() };
      const file = `bookings-${query.from}-to-${query.to}.csv`;
      return c.body(await openCsvStream(BOOKING_EXPORT_COLUMNS, bookingExportRows(getDb(c.env.DB), range), file), 200, csvHeaders(file));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/customers/export.csv",
      tags,
      summary: "Every customer, by email, as CSV (staff notes and preferences included: staff only)",
      description: `Columns: ${CUSTOMER_EXPORT_COLUMNS.join(", ")}. Preferences are a JSON object; times ISO 8601 UTC. Formula-looking text is neutralised as for bookings.`,
      ...staffOrAdmin,
      responses: { 200: csvResponse("The customers, streamed"), ...errorResponses(401, 403, 503) },
    }),
    async (c) => {
      const file = `customers-${today()}.csv`;
      return c.body(await openCsvStream(CUSTOMER_EXPORT_COLUMNS, customerExportRows(getDb(c.env.DB)), file), 200, csvHeaders(file));
    },
  );
