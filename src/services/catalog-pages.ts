/**
 * What the customer site's catalog and class pages show, loaded in a fixed number of statements:
 * the classes (the catalog API's query), each class's next sessions with whether each has a
 * qualified instructor (the NO_TRAINER rule of bookings, `hasQualifiedInstructor`), and each
 * session's seats left from its Durable Object (the same answer as /availability). Pages show
 * these; the live feed keeps the seats current afterwards.
 */
import { asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { getPublicClass, listPublicClasses } from "../db/catalog-queries";
import { cities, classes, classResourceRequirements, classSessions, customers, resources, studios } from "../db/schema";
import { publicDisplayName } from "../domain/display-name";
import { describeCancellationPolicy } from "../domain/booking-terms";
import type { SessionSnapshot } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { hasQualifiedInstructor, sessionSnapshot } from "./booking-context";
import { sessionObject } from "./session-client";

/** Sessions listed per class on the catalog; the class page lists up to CLASS_PAGE_SESSIONS. */
export const CATALOG_SESSIONS_PER_CLASS = 3;
export const CLASS_PAGE_SESSIONS = 50;

export interface SessionCard {
  id: string;
  classId: string;
  patternId: string | null;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  location: string | null;
  instructor: string | null;
  /** False: no qualified instructor, so it cannot be booked (NO_TRAINER); "Notify me" instead. */
  hasTrainer: boolean;
  availableSpots: number;
  status: "open" | "full" | "cancelled";
}

export interface CatalogFilter {
  cityId?: string | undefined;
  studioId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: { name: string; id: string } | undefined;
  limit: number;
}

/** The catalog: a page of classes with their next sessions, and the cities and studios to filter by. */
export async function catalogPage(env: Env, db: Db, filter: CatalogFilter, now = new Date()) {
  const [rows, places] = await Promise.all([listPublicClasses(db, { ...filter, now }), filterChoices(db)]);
  const hasMore = rows.length > filter.limit;
  const page = rows.slice(0, filter.limit);
  const from = new Date(Math.max(now.getTime(), filter.from?.getTime() ?? 0));
  const sessions = await sessionCards(env, db, page.map((row) => row.id), { from, to: filter.to }, CATALOG_SESSIONS_PER_CLASS + 1);
  const last = page[page.length - 1];
  return {
    ...places,
    classes: page.map((row) => {
      const own = sessions.filter((session) => session.classId === row.id);
      return {
        id: row.id,
        name: row.name,
        description: row.description,
        pricePence: row.pricePence,
        fullSchedulePricePence: row.fullSchedulePricePence,
        bookingKinds: row.bookingKinds,
        studio: row.studio,
        city: row.city,
        sessions: own.slice(0, CATALOG_SESSIONS_PER_CLASS),
        moreSessions: own.length > CATALOG_SESSIONS_PER_CLASS,
      };
    }),
    next: hasMore && last ? { name: last.name, id: last.id } : null,
  };
}

export type CatalogData = Awaited<ReturnType<typeof catalogPage>>;

/** Cities and studios, by name, for the catalog's filters. */
async function filterChoices(db: Db) {
  const [cityRows, studioRows] = await Promise.all([
    db.select({ id: cities.id, name: cities.name }).from(cities).orderBy(asc(cities.name)),
    db.select({ id: studios.id, name: studios.name, cityId: studios.cityId }).from(studios).orderBy(asc(studios.name)),
  ]);
  return { cities: cityRows, studios: studioRows };
}

/** A course of the class (a schedule pattern) that can still be bought whole: it has not begun. */
export interface CourseCard {
  patternId: string;
  startsAt: Date;
  sessionCount: number;
  capacity: number;
  /** Seats left in the course: the fewest any of its listed sessions has. */
  availableSpots: number;
  hasTrainer: boolean;
}

/** A class page: the class, its upcoming sessions with seats, its courses, and the visitor's details to prefill. */
export async function classPage(env: Env, db: Db, classId: string, email: string | undefined, now = new Date()) {
  const found = await getPublicClass(db, classId, { from: now, limit: 0 });
  if (!found) return undefined;
  const [sessions, courseRows, [customer]] = await Promise.all([
    sessionCards(env, db, [classId], { from: now }, CLASS_PAGE_SESSIONS),
    coursesOf(db, classId, now),
    email
      ? db.select({ firstName: customers.firstName, lastName: customers.lastName, phone: customers.phone }).from(customers).where(eq(customers.email, email.toLowerCase()))
      : Promise.resolve([]),
  ]);
  const courses: CourseCard[] = courseRows.map((row) => {
    const own = sessions.filter((session) => session.patternId === row.patternId);
    return {
      patternId: row.patternId,
      startsAt: new Date(Number(row.startsAt)),
      sessionCount: Number(row.sessionCount),
      capacity: own[0]?.capacity ?? Number(row.capacity),
      availableSpots: own.length > 0 ? Math.min(...own.map((session) => session.availableSpots)) : Number(row.capacity),
      hasTrainer: Number(row.untaught) === 0,
    };
  });
  const { sessions: _none, policy, ...details } = found;
  return {
    ...details,
    cancellationPolicy: describeCancellationPolicy(policy),
    sessions: sessions.slice(0, CLASS_PAGE_SESSIONS),
    courses,
    contact: email ? { email: email.toLowerCase(), firstName: customer?.firstName ?? "", lastName: customer?.lastName ?? "", phone: customer?.phone ?? "" } : undefined,
  };
}

export type ClassPageData = NonNullable<Awaited<ReturnType<typeof classPage>>>;

/**
 * Courses of a class that have not begun (a booking of a begun one is refused, src/services/bookings.ts):
 * the first start, the sessions, the capacity and how many sessions lack a qualified instructor.
 */
function coursesOf(db: Db, classId: string, now: Date) {
  return db.all<{ patternId: string; startsAt: number; sessionCount: number; capacity: number; untaught: number }>(sql`
    SELECT ${classSessions.patternId} AS patternId, min(${classSessions.startsAt}) AS startsAt, count(*) AS sessionCount,
           min(${classSessions.capacity}) AS capacity, sum(CASE WHEN ${hasQualifiedInstructor()} THEN 0 ELSE 1 END) AS untaught
    FROM ${classSessions} JOIN ${classes} ON ${classes.id} = ${classSessions.classId}
    WHERE ${classSessions.classId} = ${classId} AND ${classSessions.status} != 'cancelled' AND ${classSessions.patternId} IS NOT NULL
    GROUP BY ${classSessions.patternId}
    HAVING min(${classSessions.startsAt}) > ${now.getTime()}
    ORDER BY startsAt`);
}

interface SessionRow {
  id: string;
  classId: string;
  patternId: string | null;
  startsAt: number;
  endsAt: number;
  capacity: number;
  status: string;
  location: string | null;
  updatedAt: number;
  firstName: string | null;
  lastName: string | null;
  hasTrainer: number;
}

/**
 * The first `perClass` non-cancelled sessions of each class starting in [from, to), by start, in
 * one statement (ranked per class), with each session's seats left from its Durable Object.
 */
async function sessionCards(env: Env, db: Db, classIds: string[], window: { from: Date; to?: Date | undefined }, perClass: number): Promise<SessionCard[]> {
  if (classIds.length === 0) return [];
  const ids = sql.join(classIds.map((id) => sql`${id}`), sql`, `);
  const [rows, requirements] = await Promise.all([
    db.all<SessionRow>(sql`
      SELECT * FROM (
        SELECT ${classSessions.id} AS id, ${classSessions.classId} AS classId, ${classSessions.patternId} AS patternId,
               ${classSessions.startsAt} AS startsAt, ${classSessions.endsAt} AS endsAt, ${classSessions.capacity} AS capacity,
               ${classSessions.status} AS status, ${classSessions.location} AS location, ${classSessions.updatedAt} AS updatedAt,
               teacher.first_name AS firstName, teacher.last_name AS lastName, ${hasQualifiedInstructor()} AS hasTrainer,
               ROW_NUMBER() OVER (PARTITION BY ${classSessions.classId} ORDER BY ${classSessions.startsAt}, ${classSessions.id}) AS position
        FROM ${classSessions}
        JOIN ${classes} ON ${classes.id} = ${classSessions.classId}
        LEFT JOIN staff teacher ON teacher.id = ${classSessions.instructorId}
        WHERE ${classSessions.classId} IN (${ids}) AND ${classSessions.status} != 'cancelled'
          AND ${classSessions.startsAt} >= ${window.from.getTime()}
          ${window.to ? sql`AND ${classSessions.startsAt} < ${window.to.getTime()}` : sql``}
      ) WHERE position <= ${perClass}
      ORDER BY startsAt, id`),
    db
      .select({
        classId: classResourceRequirements.classId,
        resourceId: resources.id,
        name: resources.name,
        quantity: resources.quantity,
        perStudent: classResourceRequirements.quantityPerStudent,
      })
      .from(classResourceRequirements)
      .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
      .where(inArray(classResourceRequirements.classId, classIds)),
  ]);
  const needs = (classId: string): SessionSnapshot["resources"] =>
    requirements.filter((row) => row.classId === classId).map(({ classId: _c, ...resource }) => resource);
  return Promise.all(
    rows.map(async (row): Promise<SessionCard> => {
      const startsAt = new Date(Number(row.startsAt));
      const snapshot = sessionSnapshot(
        { id: row.id, capacity: row.capacity, startsAt, status: row.status as SessionRow["status"] & typeof classSessions.$inferSelect.status, updatedAt: new Date(Number(row.updatedAt)) },
        needs(row.classId),
      );
      const live = await sessionObject(env, row.id).availability(snapshot);
      return {
        id: row.id,
        classId: row.classId,
        patternId: row.patternId,
        startsAt,
        endsAt: new Date(Number(row.endsAt)),
        capacity: live.capacity,
        location: row.location,
        instructor: row.firstName !== null ? publicDisplayName(row.firstName, row.lastName ?? "") : null,
        hasTrainer: Boolean(row.hasTrainer),
        availableSpots: live.availableSpots,
        status: live.status,
      };
    }),
  );
}
