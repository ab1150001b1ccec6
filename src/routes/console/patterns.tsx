/** GET /admin/patterns: schedule patterns with preview and generate buttons (they call the pattern routes). */
import { Hono } from "hono";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { PatternsPage } from "../../pages/console/patterns";
import { patternsWithClasses } from "../../services/schedule-pattern-list";
import { pageUser, renderPage } from "../page-response";

export const consolePatternPages = new Hono<AppEnv>().get("/", async (c) => {
  const patterns = await patternsWithClasses(getDb(c.env.DB));
  const user = pageUser(c);
  return renderPage(
    c,
    <PatternsPage
      user={user}
      isAdmin={user?.role === "admin"}
      patterns={patterns.map((p) => ({
        id: p.id,
        className: p.className,
        rrule: p.rrule,
        startDate: p.startDate,
        startTime: p.startTime,
        durationMinutes: p.durationMinutes,
        maxStudents: p.maxStudents,
        timeZone: p.timeZone,
        exceptionDates: p.exceptionDates,
      }))}
    />,
  );
});
