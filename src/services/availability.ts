/** A session's live availability: the catalog facts from D1, the seat counts from its DO. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, classSessions } from "../db/schema";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { classRequirements, sessionSnapshot } from "./booking-context";

export async function sessionAvailability(env: Env, db: Db, sessionId: string) {
  const [row] = await db
    .select({ session: classSessions, pricePence: classes.pricePence })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .where(eq(classSessions.id, sessionId));
  if (!row) throw new ApiError("SESSION_NOT_FOUND", `Session ${sessionId} was not found`, { sessionId });
  const requirements = await classRequirements(db, row.session.classId);
  const live = await env.SESSION.getByName(sessionId).availability(sessionSnapshot(row.session, requirements));
  return {
    sessionId,
    capacity: live.capacity,
    booked: live.booked,
    held: live.held,
    availableSpots: live.availableSpots,
    status: live.status,
    isFull: live.isFull,
    pricePence: row.pricePence,
    currency: "GBP" as const,
    resources: live.resources.map(({ resourceId, name, perStudent, available }) => ({ resourceId, name, perStudent, available })),
    version: live.version,
  };
}
