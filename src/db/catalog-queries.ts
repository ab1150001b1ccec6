/**
 * Read queries behind the public catalog. Each function answers one route in a fixed number of
 * statements (joins and correlated subqueries), never one query per row. Independent statements
 * run concurrently; they are not sent with `db.batch` because drizzle's D1 batch reads rows as
 * objects keyed by column name, which mixes up joined columns of the same name (`id`, `name`).
 */
import { and, asc, eq, exists, gt, gte, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import {
  bookingSessions,
  cities,
  classes,
  classResourceRequirements,
  classSessions,
  resources,
  sessionAssistants,
  staff,
  studios,
  teachingRoles,
} from "./schema";

/** Sessions a customer could still see on the timetable: anything not cancelled. */
const notCancelled = ne(classSessions.status, "cancelled");

/** What the public sees of a class, with its studio and city: shared by the list and the detail. */
const publicClassColumns = {
  id: classes.id,
  name: classes.name,
  description: classes.description,
  pricePence: classes.pricePence,
  fullSchedulePricePence: classes.fullSchedulePricePence,
  durationMinutes: classes.durationMinutes,
  bookingKinds: classes.bookingKinds,
  currency: studios.currency,
  studio: { id: studios.id, name: studios.name, timeZone: studios.timeZone },
  city: { id: cities.id, name: cities.name },
};
const { currency, studio, city, ...classSummaryColumns } = publicClassColumns;

export interface ClassListFilter {
  cityId?: string;
  studioId?: string;
  /** Only classes with a non-cancelled session starting in [from, to); either bound may be open. */
  from?: Date;
  to?: Date;
  /** Keyset position: the (name, id) of the last class on the previous page. */
  after?: { name: string; id: string };
  limit: number;
  now: Date;
}

/**
 * One page of classes ordered by (name, id), with studio, city and the next upcoming session.
 * Fetches `limit + 1` rows so the caller can tell whether there is another page.
 */
export async function listPublicClasses(db: Db, filter: ClassListFilter) {
  const nextSession = (column: typeof classSessions.id | typeof classSessions.startsAt) =>
    db
      .select({ value: column })
      .from(classSessions)
      .where(and(eq(classSessions.classId, classes.id), notCancelled, gt(classSessions.startsAt, filter.now)))
      .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
      .limit(1);

  const conditions: (SQL | undefined)[] = [
    filter.cityId ? eq(studios.cityId, filter.cityId) : undefined,
    filter.studioId ? eq(classes.studioId, filter.studioId) : undefined,
  ];
  if (filter.from || filter.to) {
    const inWindow = db
      .select({ one: sql`1` })
      .from(classSessions)
      .where(
        and(
          eq(classSessions.classId, classes.id),
          notCancelled,
          filter.from ? gte(classSessions.startsAt, filter.from) : undefined,
          filter.to ? lt(classSessions.startsAt, filter.to) : undefined,
        ),
      );
    conditions.push(exists(inWindow));
  }
  if (filter.after) {
    const { name, id } = filter.after;
    conditions.push(or(gt(classes.name, name), and(eq(classes.name, name), gt(classes.id, id))));
  }

  return db
    .select({
      ...publicClassColumns,
      nextSessionId: sql<string | null>`(${nextSession(classSessions.id)})`,
      nextSessionStartsAt: sql<number | null>`(${nextSession(classSessions.startsAt)})`,
    })
    .from(classes)
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .innerJoin(cities, eq(cities.id, studios.cityId))
    .where(and(...conditions))
    .orderBy(asc(classes.name), asc(classes.id))
    .limit(filter.limit + 1);
}

export interface SessionWindow {
  /** Inclusive lower bound on the start. */
  from: Date;
  /** Exclusive upper bound on the start, if any. */
  to?: Date;
  limit: number;
}

/**
 * A class with its studio, city, required teaching role, resource requirements and the
 * non-cancelled sessions starting in the window (at most `limit + 1`, ordered by start),
 * in three statements. Undefined when the class does not exist.
 */
export async function getPublicClass(db: Db, classId: string, window: SessionWindow) {
  const [classRows, requirements, sessions] = await Promise.all([
    db
      .select({
        ...publicClassColumns,
        requiredTeachingRole: { id: teachingRoles.id, name: teachingRoles.name },
        paymentMode: classes.paymentMode,
        policy: { freeCancellationHours: classes.freeCancellationHours, lateCancellationFeePercent: classes.lateCancellationFeePercent, selfCancelCutoffHours: classes.selfCancelCutoffHours },
      })
      .from(classes)
      .innerJoin(studios, eq(studios.id, classes.studioId))
      .innerJoin(cities, eq(cities.id, studios.cityId))
      .innerJoin(teachingRoles, eq(teachingRoles.id, classes.requiredRoleId))
      .where(eq(classes.id, classId)),
    db
      .select({
        resourceId: resources.id,
        name: resources.name,
        quantityPerStudent: classResourceRequirements.quantityPerStudent,
      })
      .from(classResourceRequirements)
      .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
      .where(eq(classResourceRequirements.classId, classId))
      .orderBy(asc(resources.name), asc(resources.id)),
    db
      .select({
        id: classSessions.id,
        startsAt: classSessions.startsAt,
        endsAt: classSessions.endsAt,
        capacity: classSessions.capacity,
        status: classSessions.status,
        location: classSessions.location,
        instructorId: staff.id,
        instructorFirstName: staff.firstName,
        instructorLastName: staff.lastName,
      })
      .from(classSessions)
      .leftJoin(staff, eq(staff.id, classSessions.instructorId))
      .where(
        and(
          eq(classSessions.classId, classId),
          notCancelled,
          gte(classSessions.startsAt, window.from),
          window.to ? lt(classSessions.startsAt, window.to) : undefined,
        ),
      )
      .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
      .limit(window.limit + 1),
  ]);
  const row = classRows[0];
  if (!row) return undefined;
  return { ...row, resourceRequirements: requirements, sessions };
}

/**
 * One session with its class, studio, city, instructor, assistants and the seats held by
 * confirmed bookings as projected into D1, in two statements. Undefined when it does not exist.
 */
export async function getPublicSession(db: Db, sessionId: string) {
  const seatsBooked = sql<number>`(
    select coalesce(sum(${bookingSessions.seats}), 0) from ${bookingSessions}
    where ${bookingSessions.sessionId} = ${classSessions.id} and ${bookingSessions.status} = 'confirmed'
  )`.mapWith(Number);

  const [sessionRows, assistants] = await Promise.all([
    db
      .select({
        id: classSessions.id,
        patternId: classSessions.patternId,
        startsAt: classSessions.startsAt,
        endsAt: classSessions.endsAt,
        capacity: classSessions.capacity,
        status: classSessions.status,
        location: classSessions.location,
        seatsBooked,
        class: classSummaryColumns,
        currency,
        studio,
        city,
        instructorId: staff.id,
        instructorFirstName: staff.firstName,
        instructorLastName: staff.lastName,
      })
      .from(classSessions)
      .innerJoin(classes, eq(classes.id, classSessions.classId))
      .innerJoin(studios, eq(studios.id, classes.studioId))
      .innerJoin(cities, eq(cities.id, studios.cityId))
      .leftJoin(staff, eq(staff.id, classSessions.instructorId))
      .where(eq(classSessions.id, sessionId)),
    db
      .select({ id: staff.id, firstName: staff.firstName, lastName: staff.lastName })
      .from(sessionAssistants)
      .innerJoin(staff, eq(staff.id, sessionAssistants.staffId))
      .where(eq(sessionAssistants.sessionId, sessionId))
      .orderBy(asc(staff.firstName), asc(staff.lastName), asc(staff.id)),
  ]);
  const row = sessionRows[0];
  if (!row) return undefined;
  return { ...row, assistants };
}
