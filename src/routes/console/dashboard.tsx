/** GET /admin: today's and the week's sessions with fill and warnings, and open alerts. */
import { Hono } from "hono";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { DashboardPage } from "../../pages/console/dashboard";
import { listAlerts } from "../../services/alerts";
import { pageUser, renderPage } from "../page-response";
import { CONSOLE_ZONE, dayStart, lowFillRule, NEAR_FULL_AT, sessionsBetween } from "./console-data";

export const consoleDashboard = new Hono<AppEnv>().get("/", async (c) => {
  const db = getDb(c.env.DB);
  const now = new Date();
  const today = dayStart(now);
  const [week, open] = await Promise.all([
    sessionsBetween(c.env, db, today.toJSDate(), today.plus({ days: 7 }).toJSDate(), now),
    listAlerts(db, { status: "unresolved" }, { limit: 20 }),
  ]);
  const tomorrow = today.plus({ days: 1 }).toMillis();
  const rule = lowFillRule(c.env);
  return renderPage(
    c,
    <DashboardPage
      user={pageUser(c)}
      zone={CONSOLE_ZONE}
      now={now.toISOString()}
      today={week.filter((s) => Date.parse(s.startsAt) < tomorrow)}
      week={week}
      alerts={open.map((a) => ({ id: a.id, type: a.type, severity: a.severity, status: a.status, title: a.title, occurrences: a.occurrences, createdAt: a.createdAt.toISOString() }))}
      nearFullAt={NEAR_FULL_AT}
      lowFill={{ below: rule.below, withinHours: rule.withinHours, enabled: rule.enabled }}
    />,
  );
});
