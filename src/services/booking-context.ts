/**
 * Everything a hold or a booking needs to know from the catalog, read from D1 in one batch (one
 * round trip): which sessions, their class and city, whether each has a qualified instructor and
 * the resources each student uses, and the snapshot each session's DO is configured from. Reads
 * only: the customer is named by an id derived from the email, and the projection creates or
 * matches the profile later (nothing is written to D1 on a booking's way).
 */
import { and, asc, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { type BookingKind, classes, classResourceRequirements, classSessions, resources, schedulePatterns, studios } from "../db/schema";
import { type CancellationPolicy, type PaymentMode, policyOf } from "../domain/booking-terms";
import { customerIdFromDigest } from "../domain/projection";
import type { SessionSnapshot } from "../durable-objects/session-contract";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/tokens";
import { catalogCache } from "./edge-cache";

/** Which sessions a request names: one session, a set of drop-ins, or a whole schedule. */
export type SessionSelection =
  | { registrationType: "SINGLE_SESSION"; sessionId: string }
  | { registrationType: "DROP_IN"; sessionIds: string[] }
  | { registrationType: "FULL_SCHEDULE"; patternId: string };

export interface Contact {
  email: string;
  firstName: string;
  lastName: string;
  phone?: string | undefined;
}

export interface BookableSession {
  id: string;
  startsAt: Date;
  endsAt: Date;
  cancelled: boolean;
  hasQualifiedInstructor: boolean;
  snapshot: SessionSnapshot;
}

export interface BookableClass {
  id: string;
  name: string;
  pricePence: number;
  fullSchedulePricePence: number | null;
  bookingKinds: BookingKind[];
  paymentMode: PaymentMode;
  cancellationPolicy: CancellationPolicy;
}

export interface BookingContext {
  registrationType: BookingKind;
  patternId: string | null;
  class: BookableClass;
  studioId: string;
  cityId: string;
  studioName: string;
  /** The studio's IANA zone, for showing times the way customers see them. */
  timeZone: string;
  sessions: BookableSession[];
  customerId: string;
}

/**
 * Loads the sessions a selection names and matches the customer, or throws SESSION_NOT_FOUND /
 * BOOKING_KIND_NOT_ALLOWED. Columns are picked one by one with distinct names: a D1 batch hands
 * rows back keyed by column name.
 */
export async function loadBookingContext(db: Db, selection: SessionSelection, contact: Contact, cacheMs = 0): Promise<BookingContext> {
  const [[sessionRows, requirements], customerId] = await Promise.all([cachedRows(db, selection, cacheMs), customerIdFor(contact.email)]);
  return contextOf(selection, sessionRows, requirements, customerId);
}

/** The catalog rows of a selection, from this Worker's short-lived cache when `cacheMs` allows. */
async function cachedRows(db: Db, selection: SessionSelection, cacheMs: number): Promise<ContextRows> {
  const key = JSON.stringify(selection);
  const cached = catalogCache.get(key) as ContextRows | undefined;
  if (cached) return cached;
  const rows = await loadRows(db, selection);
  if (rows[0].length > 0) catalogCache.set(key, rows, cacheMs);
  return rows;
}

/** A session's own columns a booking (or a move to it) reads: what its object's snapshot and the checks need. */
export const BOOKABLE_SESSION_COLUMNS = {
  id: classSessions.id,
  classId: classSessions.classId,
  startsAt: classSessions.startsAt,
  endsAt: classSessions.endsAt,
  capacity: classSessions.capacity,
  status: classSessions.status,
  updatedAt: classSessions.updatedAt,
};

function loadRows(db: Db, selection: SessionSelection) {
  return db.batch([
    db
      .select({
        ...BOOKABLE_SESSION_COLUMNS,
        className: sql<string>`${classes.name}`.as("class_name"),
        pricePence: classes.pricePence,
        fullSchedulePricePence: classes.fullSchedulePricePence,
        bookingKinds: classes.bookingKinds,
        paymentMode: classes.paymentMode,
        freeCancellationHours: classes.freeCancellationHours,
        lateCancellationFeePercent: classes.lateCancellationFeePercent,
        selfCancelCutoffHours: classes.selfCancelCutoffHours,
        studioId: classes.studioId,
        cityId: studios.cityId,
        timeZone: studios.timeZone,
        studioName: sql<string>`${studios.name}`.as("studio_name"),
        hasQualifiedInstructor: hasQualifiedInstructor().as("has_qualified_instructor"),
      })
      .from(classSessions)
      .innerJoin(classes, eq(classes.id, classSessions.classId))
      .innerJoin(studios, eq(studios.id, classes.studioId))
      .where(sessionsOf(selection))
      .orderBy(asc(classSessions.startsAt)),
    db
      .select({
        resourceId: resources.id,
        name: resources.name,
        quantity: resources.quantity,
        perStudent: classResourceRequirements.quantityPerStudent,
      })
      .from(classResourceRequirements)
      .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
      .where(eq(classResourceRequirements.classId, classOf(selection))),
  ]);
}

type ContextRows = Awaited<ReturnType<typeof loadRows>>;

/**
 * Whether a session (joined with its class) has a qualified instructor: assigned, active and
 * holding the class's required teaching role. The one statement of the NO_TRAINER rule, shared
 * by bookings and the pages that offer "Notify me" instead of "Book".
 */
export function hasQualifiedInstructor() {
  return sql<number>`EXISTS (SELECT 1 FROM staff s JOIN staff_teaching_roles r ON r.staff_id = s.id
          WHERE s.id = ${classSessions.instructorId} AND s.active = 1 AND r.role_id = ${classes.requiredRoleId})`;
}

function contextOf(selection: SessionSelection, sessionRows: ContextRows[0], requirements: ContextRows[1], customerId: string): BookingContext {
  const first = sessionRows[0];
  if (selection.registrationType !== "FULL_SCHEDULE") {
    const wanted = selection.registrationType === "SINGLE_SESSION" ? [selection.sessionId] : selection.sessionIds;
    const missing = wanted.filter((id) => !sessionRows.some((row) => row.id === id));
    if (missing.length > 0) throw new ApiError("SESSION_NOT_FOUND", `No such session: ${missing.join(", ")}`, { sessionIds: missing });
  }
  if (!first) {
    throw new ApiError("SESSION_NOT_FOUND", "The schedule has no sessions to book", {
      patternId: selection.registrationType === "FULL_SCHEDULE" ? selection.patternId : undefined,
    });
  }
  const classIds = new Set(sessionRows.map((row) => row.classId));
  if (classIds.size > 1) {
    throw new ApiError("BOOKING_KIND_NOT_ALLOWED", "Drop-in sessions booked together must be of the same class", { classIds: [...classIds] });
  }
  if (!first.bookingKinds.includes(selection.registrationType)) {
    throw new ApiError("BOOKING_KIND_NOT_ALLOWED", `${first.className} cannot be booked as ${selection.registrationType}`, {
      registrationType: selection.registrationType,
      allowed: first.bookingKinds,
    });
  }

  return {
    registrationType: selection.registrationType,
    patternId: selection.registrationType === "FULL_SCHEDULE" ? selection.patternId : null,
    class: {
      id: first.classId,
      name: first.className,
      pricePence: first.pricePence,
      fullSchedulePricePence: first.fullSchedulePricePence,
      bookingKinds: first.bookingKinds,
      paymentMode: first.paymentMode,
      cancellationPolicy: policyOf(first),
    },
    studioId: first.studioId,
    cityId: first.cityId,
    studioName: first.studioName,
    timeZone: first.timeZone,
    customerId,
    sessions: sessionRows.map((row) => ({
      id: row.id,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      cancelled: row.status === "cancelled",
      hasQualifiedInstructor: Boolean(row.hasQualifiedInstructor),
      snapshot: sessionSnapshot(row, requirements),
    })),
  };
}

/** The customer id of an email, the same everywhere (src/domain/projection.ts). */
export async function customerIdFor(email: string): Promise<string> {
  return customerIdFromDigest(await sha256Hex(`customer:${email.trim().toLowerCase()}`));
}

/**
 * The sessions a selection covers. A full schedule is every session of the pattern not cancelled,
 * past ones included, so a course that has begun is refused rather than sold short.
 */
function sessionsOf(selection: SessionSelection): SQL | undefined {
  switch (selection.registrationType) {
    case "FULL_SCHEDULE":
      return and(eq(classSessions.patternId, selection.patternId), ne(classSessions.status, "cancelled"));
    case "SINGLE_SESSION":
      return eq(classSessions.id, selection.sessionId);
    case "DROP_IN":
      return inArray(classSessions.id, selection.sessionIds);
  }
}

/** The class a selection is of, as a subquery (so requirements load in the same batch). */
function classOf(selection: SessionSelection): SQL {
  switch (selection.registrationType) {
    case "FULL_SCHEDULE":
      return sql`(SELECT ${schedulePatterns.classId} FROM ${schedulePatterns} WHERE ${schedulePatterns.id} = ${selection.patternId})`;
    case "SINGLE_SESSION":
      return sql`(SELECT ${classSessions.classId} FROM ${classSessions} WHERE ${classSessions.id} = ${selection.sessionId})`;
    case "DROP_IN":
      return sql`(SELECT ${classSessions.classId} FROM ${classSessions} WHERE ${classSessions.id} = ${selection.sessionIds[0]!})`;
  }
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

/** Where a class is taught, and what messages about it name. */
export interface ClassPlace {
  studioId: string;
  cityId: string;
  className: string;
  studioName: string;
  timeZone: string;
  /** The class's cancellation policy: what a customer's own cancellation is held to. */
  cancellationPolicy: CancellationPolicy;
}

/** Where a class is taught: its studio and the studio's city, with their names (undefined for an unknown class). */
export async function classPlace(db: Db, classId: string): Promise<ClassPlace | undefined> {
  const [row] = await db
    .select({
      studioId: classes.studioId,
      cityId: studios.cityId,
      className: classes.name,
      studioName: studios.name,
      timeZone: studios.timeZone,
      freeCancellationHours: classes.freeCancellationHours,
      lateCancellationFeePercent: classes.lateCancellationFeePercent,
      selfCancelCutoffHours: classes.selfCancelCutoffHours,
    })
    .from(classes)
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(classes.id, classId));
  return row && { studioId: row.studioId, cityId: row.cityId, className: row.className, studioName: row.studioName, timeZone: row.timeZone, cancellationPolicy: policyOf(row) };
}
