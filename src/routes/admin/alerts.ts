/** Admin view of alerts: list (newest first), acknowledge, resolve. Alerts are raised by jobs, not here. */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { ALERT_SEVERITIES, ALERT_STATUSES } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";
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
