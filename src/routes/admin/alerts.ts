/**
 * Admin view of alerts: list (newest first), acknowledge, resolve, and run the hourly checks now.
 * Alerts are raised by jobs and by those checks, never written here by hand.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { ALERT_SEVERITIES, ALERT_STATUSES } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { configOf } from "../../config";
import { RULE_ALERT_TYPES } from "../../domain/alert-rules";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";
import { runAlertChecks } from "../../services/alert-checks";
import { acknowledgeAlert, type Alert, listAlerts, resolveAlert } from "../../services/alerts";

export const AlertSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ example: "PROJECTION_DRIFT" }),
    severity: z.enum(ALERT_SEVERITIES),
    status: z.enum(ALERT_STATUSES),
    subjectKey: z.string().openapi({ description: "What the alert is about; one unresolved alert per type and subject" }),
    title: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
    occurrences: z.number().int().openapi({ description: "How many times the problem was seen while the alert was unresolved" }),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.string().nullable(),
    resolvedAt: z.iso.datetime().nullable(),
    resolvedBy: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Alert");

const AlertQuery = PaginationQuery.extend({
  status: z.enum(ALERT_STATUSES).optional(),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  type: z.string().min(1).max(100).optional(),
});

const CheckBody = z
  .object({
    checkType: z
      .enum(RULE_ALERT_TYPES, { error: () => `must be one of ${RULE_ALERT_TYPES.join(", ")}` })
      .optional()
      .openapi({ description: "Run only this rule (its alert type); omitted: every rule" }),
  })
  .openapi("AlertCheckRequest");

const CheckOutcome = z.object({
  checkType: z.enum(RULE_ALERT_TYPES),
  ok: z.boolean().openapi({ description: "false: the rule's figures could not be gathered, so it raised and resolved nothing" }),
  firing: z.number().int().openapi({ description: "Subjects the rule fires for now" }),
  opened: z.number().int().openapi({ description: "Alerts opened anew" }),
  updated: z.number().int().openapi({ description: "Unresolved alerts that counted one more occurrence" }),
  resolved: z.number().int().openapi({ description: "Alerts resolved by system because their subject no longer fires" }),
  error: z.string().nullable(),
});

const CheckReport = z
  .object({
    ranAt: z.iso.datetime(),
    configProblem: z.string().nullable().openapi({ description: "Why ALERT_RULES could not be used (the defaults ran instead), or null" }),
    checks: z.array(CheckOutcome),
    totals: z.object({ opened: z.number().int(), updated: z.number().int(), resolved: z.number().int() }),
  })
  .openapi("AlertCheckReport");

/** What a rule that failed says here; the error itself is in the logs, not in the response. */
const RULE_FAILED = "The rule's figures could not be gathered (see the logs); it raised and resolved nothing";

const tags = ["Admin: alerts"];
const Params = IdParam("Alert", "alr_0123");

const iso = (date: Date | null) => date?.toISOString() ?? null;
const toAlert = (row: Alert) => ({
  ...row,
  details: row.details ?? null,
  acknowledgedAt: iso(row.acknowledgedAt),
  resolvedAt: iso(row.resolvedAt),
  resolvedBy: row.resolvedBy,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** A cursor that decodes but is not one of ours (the same answer decodeCursor gives). */
function badCursor(): ApiError {
  return new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
    location: "query",
    issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
  });
}

export const alertRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/check",
      tags,
      summary: "Run the hourly alert checks now: every rule, or the one named; answers what ran and the alerts opened, updated and resolved",
      description:
        "Admins only: it writes alerts and runs every rule's queries. The thresholds are the ALERT_RULES setting's, as for the hourly run. " +
        `Rules: ${RULE_ALERT_TYPES.join(", ")}.`,
      ...adminOnly,
      request: { body: { ...jsonBody(CheckBody), required: false } },
      responses: { 200: jsonResponse(CheckReport, "What ran"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { checkType } = c.req.valid("json") ?? {};
      const now = new Date();
      const report = await runAlertChecks(c.env.DB, getDb(c.env.DB), configOf(c.env).alertRules, now, { only: checkType });
      const checks = Object.entries(report.rules).map(([type, outcome]) =>
        "error" in outcome
          ? { checkType: type as (typeof RULE_ALERT_TYPES)[number], ok: false, firing: 0, opened: 0, updated: 0, resolved: 0, error: RULE_FAILED }
          : { checkType: type as (typeof RULE_ALERT_TYPES)[number], ok: true, ...outcome, error: null },
      );
      const total = (field: "opened" | "updated" | "resolved") => checks.reduce((sum, check) => sum + check[field], 0);
      return c.json(
        { ranAt: now.toISOString(), configProblem: report.configProblem, checks, totals: { opened: total("opened"), updated: total("updated"), resolved: total("resolved") } },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List alerts, newest first",
      ...staffOrAdmin,
      request: { query: AlertQuery },
      responses: { 200: jsonResponse(page(AlertSchema), "A page of alerts"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, status, severity, type } = c.req.valid("query");
      let after: { createdAt: Date; id: string } | undefined;
      if (cursor) {
        const [createdAtMs, id] = decodeCursor(cursor, 2);
        if (typeof createdAtMs !== "number" || !Number.isSafeInteger(createdAtMs) || typeof id !== "string") throw badCursor();
        after = { createdAt: new Date(createdAtMs), id: String(id) };
      }
      const rows = await listAlerts(getDb(c.env.DB), { status, severity, type }, { limit: limit + 1, after });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.createdAt.getTime(), row.id]);
      return c.json({ data: data.map(toAlert), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/acknowledge",
      tags,
      summary: "Acknowledge an alert (idempotent: acknowledging again changes nothing)",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(AlertSchema, "The alert"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const alert = await acknowledgeAlert(getDb(c.env.DB), id, c.get("principal")!.subject);
      if (!alert) throw notFound("Alert", id);
      return c.json(toAlert(alert), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/resolve",
      tags,
      summary: "Resolve an alert (idempotent); the next occurrence of the problem opens a new alert",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(AlertSchema, "The resolved alert"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const alert = await resolveAlert(getDb(c.env.DB), id, c.get("principal")!.subject);
      if (!alert) throw notFound("Alert", id);
      return c.json(toAlert(alert), 200);
    },
  );
