/**
 * Everything a hold or a booking needs to know from the catalog, read from D1 in one round trip:
 * which sessions, their class, studio and city, whether each has a qualified instructor, and the
 * resources each student uses. Also the snapshot each session's DO is configured from.
 */
import { and, asc, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { classes, classResourceRequirements, classSessions, resources, staff, staffTeachingRoles, studios, type BookingKind } from "../db/schema";
import type { SessionSnapshot } from "../durable-objects/session-contract";
import { ApiError } from "../errors";

/** Which sessions a request names: one session, a set of drop-ins, or a whole schedule. */
export type SessionSelection =
  | { registrationType: "SINGLE_SESSION"; sessionId: string }
  | { registrationType: "DROP_IN"; sessionIds: string[] }
  | { registrationType: "FULL_SCHEDULE"; patternId: string };

export interface BookableSession {
  id: string;
  startsAt: Date;
  endsAt: Date;
  cancelled: boolean;
  hasQualifiedInstructor: boolean;
  snapshot: SessionSnapshot;
}

export interface BookingContext {
  registrationType: BookingKind;
  patternId: string | null;
  class: typeof classes.$inferSelect;
  cityId: string;
  sessions: BookableSession[];
}

/** Loads the sessions a selection names, or throws SESSION_NOT_FOUND / BOOKING_KIND_NOT_ALLOWED. */
export async function loadBookingContext(db: Db, selection: SessionSelection): Promise<BookingContext> {
  const sessionRows = await selectSessions(db, selection);
  const first = sessionRows[0];
  if (!first) {
    throw new ApiError("SESSION_NOT_FOUND", "The schedule has no upcoming sessions to book", { patternId: "patternId" in selection ? selection.patternId : undefined });
  }
  const classIds = new Set(sessionRows.map((row) => row.classId));
  if (classIds.size > 1) {
    throw new ApiError("BOOKING_KIND_NOT_ALLOWED", "Drop-in sessions booked together must be of the same class", { classIds: [...classIds] });
  }

  const [classRow] = await db
    .select({ class: classes, cityId: studios.cityId })
    .from(classes)
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(classes.id, first.classId));
  if (!classRow) throw new ApiError("SESSION_NOT_FOUND", `Class ${first.classId} of the session no longer exists`);
  const klass = classRow.class;
  if (!klass.bookingKinds.includes(selection.registrationType)) {
    throw new ApiError("BOOKING_KIND_NOT_ALLOWED", `${klass.name} cannot be booked as ${selection.registrationType}`, {
      registrationType: selection.registrationType,
      allowed: klass.bookingKinds,
    });
  }

  const instructorIds = [...new Set(sessionRows.flatMap((row) => (row.instructorId ? [row.instructorId] : [])))];
  const [qualified, requirements] = await Promise.all([
    instructorIds.length === 0
      ? Promise.resolve([])
      : db
          .select({ id: staff.id })
          .from(staff)
          .innerJoin(staffTeachingRoles, and(eq(staffTeachingRoles.staffId, staff.id), eq(staffTeachingRoles.roleId, klass.requiredRoleId)))
          .where(and(inArray(staff.id, instructorIds), eq(staff.active, true))),
    classRequirements(db, klass.id),
  ]);
  const qualifiedIds = new Set(qualified.map((row) => row.id));

  return {
    registrationType: selection.registrationType,
    patternId: selection.registrationType === "FULL_SCHEDULE" ? selection.patternId : null,
    class: klass,
    cityId: classRow.cityId,
    sessions: sessionRows.map((row) => ({
      id: row.id,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      cancelled: row.status === "cancelled",
      hasQualifiedInstructor: row.instructorId !== null && qualifiedIds.has(row.instructorId),
      snapshot: sessionSnapshot(row, requirements),
    })),
  };
}

/** What a session's DO is configured from; `configVersion` is the row's last update. */
export function sessionSnapshot(
  row: Pick<typeof classSessions.$inferSelect, "id" | "capacity" | "startsAt" | "status" | "updatedAt">,
  requirements: SessionSnapshot["resources"],
): SessionSnapshot {
  return {
    sessionId: row.id,
    capacity: row.capacity,
    startsAt: row.startsAt.getTime(),
    cancelled: row.status === "cancelled",
    configVersion: row.updatedAt.getTime(),
    resources: requirements,
  };
}

/** The resources each student of a class uses, with the studio's stock of each. */
export async function classRequirements(db: Db, classId: string): Promise<SessionSnapshot["resources"]> {
  return db
    .select({ resourceId: resources.id, name: resources.name, quantity: resources.quantity, perStudent: classResourceRequirements.quantityPerStudent })
    .from(classResourceRequirements)
    .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
    .where(eq(classResourceRequirements.classId, classId));
}

async function selectSessions(db: Db, selection: SessionSelection) {
  if (selection.registrationType === "FULL_SCHEDULE") {
    // The whole course: every session of the pattern that has not been cancelled, past ones
    // included, so a course that has begun is refused rather than sold short.
    return db
      .select()
      .from(classSessions)
      .where(and(eq(classSessions.patternId, selection.patternId), ne(classSessions.status, "cancelled")))
      .orderBy(asc(classSessions.startsAt));
  }
  const ids = selection.registrationType === "SINGLE_SESSION" ? [selection.sessionId] : selection.sessionIds;
  const rows = await db.select().from(classSessions).where(inArray(classSessions.id, ids)).orderBy(asc(classSessions.startsAt));
  const missing = ids.filter((id) => !rows.some((row) => row.id === id));
  if (missing.length > 0) {
    throw new ApiError("SESSION_NOT_FOUND", `No such session: ${missing.join(", ")}`, { sessionIds: missing });
  }
  return rows;
}
