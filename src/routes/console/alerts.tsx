/** GET /admin/alerts: the alerts list with a GET filter form; the buttons call the admin alerts API. */
import { Hono } from "hono";
import { z } from "zod";
import { getDb } from "../../db/client";
import { ALERT_SEVERITIES, ALERT_STATUSES } from "../../db/schema";
import type { AppEnv } from "../../env";
import { decodeCursor, encodeCursor } from "../../lib/pagination";
import { AlertsPage } from "../../pages/console/alerts";
import { listAlerts } from "../../services/alerts";
import { pageUser, renderPage } from "../page-response";
import { CONSOLE_ZONE } from "./console-data";

const PAGE_SIZE = 50;

/** A filter value that is not one of the choices is ignored (shown as "Any"), never an error page. */
const Filter = z.object({
  status: z.enum([...ALERT_STATUSES, "unresolved"]).optional().catch(undefined),
  severity: z.enum(ALERT_SEVERITIES).optional().catch(undefined),
  type: z.string().trim().min(1).max(100).optional().catch(undefined),
  cursor: z.string().max(512).optional().catch(undefined),
});

function afterOf(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = decodeCursor(cursor, 2);
    return typeof at === "number" && typeof id === "string" ? { createdAt: new Date(at), id } : undefined;
  } catch {
    return undefined;
  }
}

export const consoleAlertPages = new Hono<AppEnv>().get("/", async (c) => {
  const filter = Filter.parse(c.req.query());
  const rows = await listAlerts(getDb(c.env.DB), filter, { limit: PAGE_SIZE + 1, after: afterOf(filter.cursor) });
  const shown = rows.slice(0, PAGE_SIZE);
  const last = shown[shown.length - 1];
  let nextPage: string | null = null;
  if (rows.length > PAGE_SIZE && last) {
    const query = new URLSearchParams();
    for (const key of ["status", "severity", "type"] as const) if (filter[key]) query.set(key, filter[key]!);
    query.set("cursor", encodeCursor([last.createdAt.getTime(), last.id]));
    nextPage = query.toString();
  }
  const user = pageUser(c);
  return renderPage(
    c,
    <AlertsPage
      user={user}
      zone={CONSOLE_ZONE}
      filter={filter}
      statuses={ALERT_STATUSES}
      severities={ALERT_SEVERITIES}
      alerts={shown.map((a) => ({ id: a.id, type: a.type, severity: a.severity, status: a.status, title: a.title, occurrences: a.occurrences, createdAt: a.createdAt.toISOString() }))}
      nextPage={nextPage}
      canResolve={user?.role === "admin"}
    />,
  );
});
