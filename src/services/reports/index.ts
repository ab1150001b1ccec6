/**
 * The reports staff can run (GET /api/v1/admin/reports/{name}): name → definition. Each is computed
 * in SQL on indexes from the projections (bookings, booking_sessions, class_sessions, customers),
 * the events table, attendance and alerts; see each definition's description for what it counts.
 */
import { ApiError } from "../../errors";
import { customerLifetimeValue, bookingFrequency, retention } from "./customers";
import { geography, popularCourses, utilisation } from "./courses";
import { cancellations, noShows, waitlist } from "./operations";
import { type ReportDefinition, type ReportOptions, type ReportResult, reportRange } from "./report";
import { alertResolution, revenueBySource } from "./revenue-and-alerts";

export { DEFAULT_TOP, MAX_REPORT_DAYS, MAX_TOP, type ReportRange, reportRange } from "./report";

export const REPORTS = {
  "booking-frequency": bookingFrequency,
  "customer-lifetime-value": customerLifetimeValue,
  retention,
  "popular-courses": popularCourses,
  geography,
  utilisation,
  waitlist,
  cancellations,
  "no-shows": noShows,
  "revenue-by-source": revenueBySource,
  "alert-resolution": alertResolution,
} satisfies Record<string, ReportDefinition>;

export type ReportName = keyof typeof REPORTS;
export const REPORT_NAMES = Object.keys(REPORTS) as ReportName[];

/** The definition of `name`, or 404 listing the reports there are. */
export function reportNamed(name: string): ReportDefinition {
  if (!Object.hasOwn(REPORTS, name)) {
    throw new ApiError("NOT_FOUND", `There is no report ${name}; the reports are ${REPORT_NAMES.join(", ")}`, { resource: "report", id: name, reports: REPORT_NAMES });
  }
  return REPORTS[name as ReportName];
}

/** Runs a report over UTC days startDate … endDate (both included; validated by the caller). */
export async function runReport(db: D1Database, name: string, startDate: string, endDate: string, options: ReportOptions): Promise<ReportResult & { columns: readonly string[] }> {
  const report = reportNamed(name);
  const result = await report.run(db, reportRange(startDate, endDate), options);
  return { ...result, columns: report.columns };
}
