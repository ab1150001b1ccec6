/** A session's live availability: the catalog facts from D1, the seat counts from its DO. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, classSessions } from "../db/schema";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { classRequirements, sessionSnapshot } from "./booking-context";
import type { SeatGuard } from "./session-generation";
import { sessionObject } from "./session-client";

export async function sessionAvailability(env: Env, db: Db, sessionId: string) {
  const [row] = await db
    .select({ session: classSessions, pricePence: classes.pricePence })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .where(eq(classSessions.id, sessionId));
  if (!row) throw new ApiError("SESSION_NOT_FOUND", `Session ${sessionId} was not found`, { sessionId });
  const requirements = await classRequirements(db, row.session.classId);
  const live = await sessionObject(env, sessionId).availability(sessionSnapshot(row.session, requirements));
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
    waitlistLength: live.waitlistLength,
    version: live.version,
  };
}

/**
 * Changes a session's capacity through its DO, the only place that knows the seats taken
 * (confirmed and held): refused with 409 IN_USE below them. D1 follows with the same version, so
 * a booking still carrying the old snapshot cannot undo the change in the DO.
 */
export async function changeCapacity(env: Env, db: Db, sessionId: string, capacity: number, at: Date): Promise<void> {
  const [session] = await db.select().from(classSessions).where(eq(classSessions.id, sessionId));
  if (!session) throw new ApiError("NOT_FOUND", `Session ${sessionId} was not found`, { resource: "Session", id: sessionId });
  const requirements = await classRequirements(db, session.classId);
  const result = await sessionObject(env, sessionId).reconfigure(sessionSnapshot({ ...session, capacity, updatedAt: at }, requirements));
  if (!result.ok) {
    throw new ApiError("IN_USE", `Capacity ${capacity} is below the ${result.booked + result.held} seats booked or held on this session`, {
      capacity,
      seatsBooked: result.booked,
      seatsHeld: result.held,
    });
  }
}

/** The guard session generation consults: each session's DO accepts or refuses the change. */
export function sessionSeatGuard(env: Env, db: Db): SeatGuard {
  return {
    async retire(sessionId) {
      return (await sessionObject(env, sessionId).retire()).ok;
    },
    async bookedSeats(sessionId) {
      return (await sessionObject(env, sessionId).availability()).booked;
    },
    async reconfigure(sessionId, change, version) {
      const [session] = await db.select().from(classSessions).where(eq(classSessions.id, sessionId));
      if (!session) return true;
      const requirements = await classRequirements(db, session.classId);
      const snapshot = sessionSnapshot({ ...session, capacity: change.capacity, startsAt: change.startsAt, updatedAt: version }, requirements);
      return (await sessionObject(env, sessionId).reconfigure(snapshot)).ok;
    },
  };
}
