/**
 * Course-level "notify me": customers who could not buy a course because no trainer is assigned
 * ask to hear when they can. When an upcoming session of that course (in their city) gets a
 * qualified instructor, each of them is notified once.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { cities, classes, courseInterest, customers, studios } from "../db/schema";
import { domainEvent } from "../domain/events";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { jsonBatchesTo, sendWithRetry } from "../lib/queue-send";
import { invalidReference } from "../lib/references";
import { emitEvents } from "./events";
import type { NotificationRequest } from "./notifications";

export interface InterestRequest {
  courseId: string;
  cityId: string | null;
  email: string;
}

/**
 * Registers interest once per course, city and email: a repeat answers with the registration
 * that exists. A new one is a NOTIFY_ME_REGISTERED event (a WAITLIST demand signal).
 */
export async function registerInterest(env: Env, db: Db, request: InterestRequest, defer: (work: Promise<unknown>) => void) {
  const email = request.email.toLowerCase();
  const [[course], [city], [customer]] = await db.batch([
    db
      .select({ id: classes.id, cityId: studios.cityId })
      .from(classes)
      .innerJoin(studios, eq(studios.id, classes.studioId))
      .where(eq(classes.id, request.courseId)),
    db.select({ id: cities.id }).from(cities).where(eq(cities.id, request.cityId ?? "")),
    db.select({ id: customers.id }).from(customers).where(eq(customers.email, email)),
  ]);
  if (!course) throw new ApiError("NOT_FOUND", `Course ${request.courseId} was not found`, { resource: "Class", id: request.courseId });
  if (request.cityId && !city) throw invalidReference("cityId", `no such city: ${request.cityId}`, { missing: [request.cityId] });
  // A course is taught at one studio: interest in another city could never be answered.
  if (request.cityId && request.cityId !== course.cityId) {
    throw invalidReference("cityId", `course ${request.courseId} is not taught in ${request.cityId}`, { courseCityId: course.cityId });
  }

  const cityKey = request.cityId ?? "";
  const inserted = await db
    .insert(courseInterest)
    .values({ id: newId("interest"), courseId: request.courseId, cityKey, email, customerId: customer?.id ?? null })
    .onConflictDoNothing()
    .returning();
  const registration =
    inserted[0] ??
    (await db.query.courseInterest.findFirst({
      where: and(eq(courseInterest.courseId, request.courseId), eq(courseInterest.cityKey, cityKey), eq(courseInterest.email, email)),
    }))!;
  if (inserted[0]) {
    defer(
      emitEvents(env, [
        domainEvent("NOTIFY_ME_REGISTERED", {
          classId: request.courseId,
          cityId: request.cityId,
          customerId: registration.customerId,
          email,
          code: "NO_TRAINER",
          data: { interestId: registration.id },
        }),
      ]),
    );
  }
  return { created: inserted.length > 0, registration: toInterestView(registration) };
}

/** An email's registrations for a course (any city). */
export async function interestOf(db: Db, courseId: string, email: string) {
  const rows = await db
    .select()
    .from(courseInterest)
    .where(and(eq(courseInterest.courseId, courseId), eq(courseInterest.email, email.toLowerCase())));
  return rows.map(toInterestView);
}

function toInterestView(row: typeof courseInterest.$inferSelect) {
  return {
    courseId: row.courseId,
    cityId: row.cityKey === "" ? null : row.cityKey,
    email: row.email,
    registeredAt: row.createdAt.toISOString(),
    notifiedAt: row.notifiedAt?.toISOString() ?? null,
  };
}

type PendingInterest = {
  interestId: string;
  email: string;
  courseId: string;
  className: string;
  cityId: string;
  cityName: string;
  studioName: string;
  timeZone: string;
  sessionId: string;
  startsAt: number;
};

/**
 * Notifies everyone still waiting to hear about a course that now has an upcoming session with a
 * qualified instructor in their city (or any city, if they did not name one), then marks them
 * notified. The request id is the registration's, so two runs racing send once: the consumer
 * drops a repeated id. Without `courseId`, every course is swept (the hourly job).
 */
export async function notifyInterestedCustomers(env: Env, db: Db, now: Date, courseId?: string): Promise<number> {
  // One row per registration: its course's earliest bookable session (SQLite takes the bare
  // columns from the row that holds min()).
  const pending = await db.all<PendingInterest>(sql`
    SELECT ci.id AS interestId, ci.email AS email, ci.course_id AS courseId, c.name AS className, st.city_id AS cityId,
           ct.name AS cityName, st.name AS studioName, st.time_zone AS timeZone, s.id AS sessionId, min(s.starts_at) AS startsAt
    FROM course_interest ci
    JOIN classes c ON c.id = ci.course_id
    JOIN studios st ON st.id = c.studio_id
    JOIN cities ct ON ct.id = st.city_id
    JOIN class_sessions s ON s.class_id = ci.course_id AND s.status = 'scheduled' AND s.starts_at > ${now.getTime()}
    WHERE ci.notified_at IS NULL
      AND (ci.city_key = '' OR ci.city_key = st.city_id)
      ${courseId ? sql`AND ci.course_id = ${courseId}` : sql``}
      AND EXISTS (SELECT 1 FROM staff i JOIN staff_teaching_roles r ON r.staff_id = i.id
                  WHERE i.id = s.instructor_id AND i.active = 1 AND r.role_id = c.required_role_id)
    GROUP BY ci.id
    LIMIT 500`);
  if (pending.length === 0) return 0;

  const requests: NotificationRequest[] = pending.map((row) => ({
    id: `trainer-available:${row.interestId}`,
    kind: "TRAINER_AVAILABLE",
    recipient: { email: row.email },
    sessionId: row.sessionId,
    classId: row.courseId,
    requestedAt: now.getTime(),
    data: {
      className: row.className,
      cityName: row.cityName,
      studioName: row.studioName,
      sessionStartsAt: new Date(row.startsAt).toISOString(),
      timeZone: row.timeZone,
      bookLinkPath: `/api/v1/classes/${row.courseId}`,
    },
  }));
  // Sent before marking: what the Queue did not take stays pending for the next run, never marked unsent.
  const { lost } = await sendWithRetry(jsonBatchesTo(env.NOTIFICATIONS), requests);
  const lostIds = new Set(lost.map((request) => request.id));
  const sent = pending.filter((_, index) => !lostIds.has(requests[index]!.id));
  if (sent.length === 0) return 0;
  const marks = sent.map((row) =>
    db
      .update(courseInterest)
      .set({ notifiedAt: now, notifiedSessionId: row.sessionId })
      .where(and(eq(courseInterest.id, row.interestId), isNull(courseInterest.notifiedAt))),
  );
  await db.batch(marks as [(typeof marks)[number], ...(typeof marks)[number][]]);
  return sent.length;
}

/**
 * After a staffing change to a course: notify whoever is waiting to hear about it. Failures are
 * logged, not thrown (the change itself succeeded); the hourly sweep tries again.
 */
export async function notifyInterestAfterStaffing(env: Env, db: Db, courseId: string): Promise<void> {
  try {
    await notifyInterestedCustomers(env, db, new Date(), courseId);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not notify interested customers", courseId, error: String(error) }));
  }
}
