/** Schedule patterns with their class and studio zone, for the console's patterns page. */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, schedulePatterns, studios } from "../db/schema";
import { toRRuleString } from "../domain/recurrence";

/** Every pattern (up to `limit`), by class name, each with its RRULE and the studio's zone. */
export async function patternsWithClasses(db: Db, limit = 500) {
  const rows = await db
    .select({ pattern: schedulePatterns, className: classes.name, timeZone: studios.timeZone })
    .from(schedulePatterns)
    .innerJoin(classes, eq(classes.id, schedulePatterns.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .orderBy(asc(classes.name), asc(schedulePatterns.startDate), asc(schedulePatterns.id))
    .limit(limit);
  return rows.map(({ pattern, className, timeZone }) => ({ ...pattern, className, timeZone, rrule: toRRuleString(pattern) }));
}
