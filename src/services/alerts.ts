/**
 * Alerts for admins, against D1. At most one unresolved alert exists per (type, subjectKey): a
 * repeat is one upsert on the partial unique index alerts_unresolved_subject_uq that bumps the
 * existing alert's occurrences instead of adding a row, so parallel raises cannot duplicate it.
 */
import { and, desc, eq, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { ALERT_SEVERITIES, ALERT_STATUSES, alerts } from "../db/schema";

export type Alert = typeof alerts.$inferSelect;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface RaiseAlertInput {
  /** What kind of problem, e.g. `PROJECTION_DRIFT`. */
  type: string;
  severity: AlertSeverity;
  /** What the problem is about, e.g. `session:ses_…`; one unresolved alert per type and subject. */
  subjectKey: string;
  title: string;
  details?: Record<string, unknown>;
  now?: Date;
}

const severityRank = (column: unknown) => sql`(CASE ${column} WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END)`;

/**
 * Opens an alert, or, when an unresolved one exists for the same type and subject, counts one
 * more occurrence on it (latest title and details, severity raised if the new one is higher).
 */
export async function raiseAlert(db: Db, input: RaiseAlertInput): Promise<{ alert: Alert; created: boolean }> {
  const now = input.now ?? new Date();
  const id = `alr_${crypto.randomUUID().replaceAll("-", "")}`;
  const [alert] = await db
    .insert(alerts)
    .values({
      id,
      type: input.type,
      severity: input.severity,
      status: "open",
      subjectKey: input.subjectKey,
      title: input.title,
      details: input.details ?? null,
      occurrences: 1,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [alerts.type, alerts.subjectKey],
      targetWhere: sql`status <> 'resolved'`,
      set: {
        occurrences: sql`${alerts.occurrences} + 1`,
        updatedAt: sql`excluded.updated_at`,
        title: sql`excluded.title`,
        details: sql`excluded.details`,
        severity: sql`CASE WHEN ${severityRank(sql`excluded.severity`)} > ${severityRank(alerts.severity)} THEN excluded.severity ELSE ${alerts.severity} END`,
      },
    })
    .returning();
  return { alert: alert!, created: alert!.id === id };
}

/**
 * Marks an open alert acknowledged by `by`. Idempotent: an alert already acknowledged or resolved
 * is returned unchanged. Undefined when there is no such alert.
 */
export async function acknowledgeAlert(db: Db, id: string, by: string, now = new Date()): Promise<Alert | undefined> {
  const [updated] = await db
    .update(alerts)
    .set({ status: "acknowledged", acknowledgedAt: now, acknowledgedBy: by, updatedAt: now })
    .where(and(eq(alerts.id, id), eq(alerts.status, "open")))
    .returning();
  return updated ?? (await getAlert(db, id));
}

/**
 * Resolves an alert; a later raise for the same subject opens a new one. Idempotent: an alert
 * already resolved is returned unchanged. Undefined when there is no such alert.
 */
export async function resolveAlert(db: Db, id: string, by: string, now = new Date()): Promise<Alert | undefined> {
  const [updated] = await db
    .update(alerts)
    .set({
      status: "resolved",
      resolvedAt: now,
      updatedAt: now,
      resolvedBy: by,
    })
    .where(and(eq(alerts.id, id), ne(alerts.status, "resolved")))
    .returning();
  return updated ?? (await getAlert(db, id));
}

/** One alert by id. */
export function getAlert(db: Db, id: string): Promise<Alert | undefined> {
  return db.query.alerts.findFirst({ where: eq(alerts.id, id) });
}

export interface AlertFilter {
  /** One status, or "unresolved" (open and acknowledged). */
  status?: (typeof ALERT_STATUSES)[number] | "unresolved" | undefined;
  severity?: AlertSeverity | undefined;
  type?: string | undefined;
}

/**
 * Alerts matching the filter, newest first, up to `limit`, after `after` (the last of the previous
 * page). The admin API and the console's pages list alerts through this one query.
 */
export function listAlerts(db: Db, filter: AlertFilter, page: { limit: number; after?: { createdAt: Date; id: string } | undefined }): Promise<Alert[]> {
  const { after } = page;
  return db
    .select()
    .from(alerts)
    .where(
      and(
        filter.status === "unresolved" ? ne(alerts.status, "resolved") : filter.status ? eq(alerts.status, filter.status) : undefined,
        filter.severity ? eq(alerts.severity, filter.severity) : undefined,
        filter.type ? eq(alerts.type, filter.type) : undefined,
        after ? or(lt(alerts.createdAt, after.createdAt), and(eq(alerts.createdAt, after.createdAt), lt(alerts.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(page.limit);
}
