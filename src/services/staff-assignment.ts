/**
 * Staff on sessions, against D1: qualification checks, clash lookups, and assignment writes that
 * stay correct under concurrency.
 *
 * D1 runs one statement at a time, so a read-then-write check can be overtaken by a parallel
 * request. Every write here is therefore conditional in SQL: it carries the "nobody it assigns
 * teaches an overlapping session" condition itself, and the caller looks at the rows it changed.
 * The cheap reads beforehand only produce good error messages.
 */
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { classes, classSessions, sessionAssistants, staff, staffTeachingRoles, teachingRoles } from "../db/schema";
import { ApiError, notFound } from "../errors";
import { assignmentProblem, describeUnqualified, overlaps, type StaffCandidate, type TimeWindow, unqualifiedStaff } from "../domain/staffing";

const dialect = new SQLiteAsyncDialect();

/**
 * Runs conditional write statements as one D1 batch (one transaction) and returns each one's
 * D1 result, whose `meta.changes` says whether its condition held. (drizzle cannot batch raw
 * `sql` with parameters, so this goes to the D1 binding.)
 */
export async function batchSql(db: Db, statements: SQL[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return db.$client.batch(
    statements.map((statement) => {
      const query = dialect.sqlToQuery(statement);
      return db.$client.prepare(query.sql).bind(...query.params);
    }),
  );
}

/** The session a clash check is about; with times when it is not (yet) in the table as such. */
export type SessionWindow = { sessionId: string } & Partial<TimeWindow>;

export interface StaffAssignment {
  instructorId: string | null;
  assistantIds: string[];
}

export interface Clash {
  staffId: string;
  sessionId: string;
  startsAt: Date;
  endsAt: Date;
}

/**
 * SQL condition: one of `people` is instructor or assistant of another non-cancelled session that
 * overlaps the window. Without explicit times, the window is the session's own row.
 */
export function clashSql(people: string[], window: SessionWindow): SQL {
  if (people.length === 0) return sql`0`;
  const start = window.startsAt ? sql`${window.startsAt.getTime()}` : sql`(SELECT starts_at FROM class_sessions WHERE id = ${window.sessionId})`;
  const end = window.endsAt ? sql`${window.endsAt.getTime()}` : sql`(SELECT ends_at FROM class_sessions WHERE id = ${window.sessionId})`;
  const ids = idList(people);
  return sql`EXISTS (SELECT 1 FROM class_sessions o
    WHERE o.id <> ${window.sessionId} AND o.status <> 'cancelled' AND o.starts_at < ${end} AND o.ends_at > ${start}
      AND (o.instructor_id IN ${ids} OR EXISTS (SELECT 1 FROM session_assistants a WHERE a.session_id = o.id AND a.staff_id IN ${ids})))`;
}

/**
 * `(SELECT value FROM json_each(?))`: a list of ids bound as one JSON parameter, so no statement
 * nears D1's limit of 100 bound parameters however many people it names.
 */
function idList(ids: string[]): SQL {
  return sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

/** SQL condition: every one of `people` is active staff holding `roleId`. */
export function qualifiedSql(people: string[], roleId: string): SQL {
  const unique = [...new Set(people)];
  if (unique.length === 0) return sql`1`;
  return sql`(SELECT COUNT(DISTINCT s.id) FROM staff s JOIN staff_teaching_roles r ON r.staff_id = s.id
    WHERE s.id IN ${idList(unique)} AND s.active = 1 AND r.role_id = ${roleId}) = ${unique.length}`;
}

/** Staff rows with their role ids, for the qualification rules. */
export async function loadCandidates(db: Db, ids: string[]): Promise<StaffCandidate[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const [people, roles] = await Promise.all([
    db.select().from(staff).where(inArray(staff.id, unique)),
    db.select().from(staffTeachingRoles).where(inArray(staffTeachingRoles.staffId, unique)),
  ]);
  return people.map((person) => ({
    id: person.id,
    firstName: person.firstName,
    lastName: person.lastName,
    active: person.active,
    roleIds: roles.filter((role) => role.staffId === person.id).map((role) => role.roleId),
  }));
}

/** Throws 422 STAFF_NOT_QUALIFIED naming everyone among `ids` who may not teach a class needing `roleId`. */
export async function assertQualified(db: Db, roleId: string, ids: string[]): Promise<void> {
  const problems = unqualifiedStaff(roleId, ids, await loadCandidates(db, ids));
  if (problems.length > 0) {
    throw new ApiError("STAFF_NOT_QUALIFIED", describeUnqualified(problems), { requiredRoleId: roleId, staff: problems });
  }
}

/**
 * Non-cancelled sessions other than `excludeSessionId` on which one of `people` teaches or assists
 * and that overlap one of `windows`. One query for any number of windows.
 */
export async function findClashes(db: Db, people: string[], windows: (TimeWindow & { sessionId: string })[]): Promise<Clash[]> {
  if (people.length === 0 || windows.length === 0) return [];
  const from = Math.min(...windows.map((w) => w.startsAt.getTime()));
  const to = Math.max(...windows.map((w) => w.endsAt.getTime()));
  const ids = idList(people);
  const rows = await db.all<{ staff_id: string; session_id: string; starts_at: number; ends_at: number }>(sql`
    SELECT p.staff_id, o.id AS session_id, o.starts_at, o.ends_at FROM class_sessions o
    JOIN (SELECT id AS session_id, instructor_id AS staff_id FROM class_sessions WHERE instructor_id IN ${ids}
          UNION SELECT session_id, staff_id FROM session_assistants WHERE staff_id IN ${ids}) p ON p.session_id = o.id
    WHERE o.status <> 'cancelled' AND o.starts_at < ${to} AND o.ends_at > ${from}
    ORDER BY o.starts_at, o.id`);
  const clashes: Clash[] = [];
  for (const window of windows) {
    for (const row of rows) {
      const other = { startsAt: new Date(row.starts_at), endsAt: new Date(row.ends_at) };
      if (row.session_id !== window.sessionId && overlaps(window, other)) {
        clashes.push({ staffId: row.staff_id, sessionId: row.session_id, ...other });
      }
    }
  }
  return clashes;
}

/** The 409 for a person who already teaches an overlapping session. */
export function doubleBooked(clash: Clash): ApiError {
  return new ApiError(
    "STAFF_DOUBLE_BOOKED",
    `Staff ${clash.staffId} is already assigned to session ${clash.sessionId}, which overlaps this one`,
    { staffId: clash.staffId, clashingSessionId: clash.sessionId, clashingStartsAt: clash.startsAt.toISOString(), clashingEndsAt: clash.endsAt.toISOString() },
  );
}

/** The session's class and required role, or 404. */
async function sessionWithRole(db: Db, sessionId: string) {
  const [row] = await db
    .select({ session: classSessions, requiredRoleId: classes.requiredRoleId })
    .from(classSessions)
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .where(eq(classSessions.id, sessionId));
  if (!row) throw notFound("Session", sessionId);
  return row;
}

/**
 * Replaces a session's instructor and assistants, all or nothing. Refuses with 422
 * STAFF_NOT_QUALIFIED (anyone inactive or without the class's role) or 409 STAFF_DOUBLE_BOOKED
 * (anyone on an overlapping non-cancelled session), also when a parallel request got there first.
 */
export async function assignStaff(db: Db, sessionId: string, assignment: StaffAssignment): Promise<StaffAssignment> {
  const problem = assignmentProblem(assignment.instructorId, assignment.assistantIds);
  if (problem) {
    throw new ApiError("VALIDATION_FAILED", `Invalid body. assistantIds: ${problem}`, {
      location: "json",
      issues: [{ path: "assistantIds", message: problem, code: "custom" }],
    });
  }
  const { session, requiredRoleId } = await sessionWithRole(db, sessionId);
  const people = [...(assignment.instructorId ? [assignment.instructorId] : []), ...assignment.assistantIds];
  const window = { sessionId, startsAt: session.startsAt, endsAt: session.endsAt };
  await assertQualified(db, requiredRoleId, people);
  const [clash] = await findClashes(db, people, [window]);
  if (clash) throw doubleBooked(clash);

  // Each statement repeats the whole condition; it reads only other sessions and the staff
  // tables, which this batch does not change, so it has one value for the whole transaction.
  const ok = sql`(${qualifiedSql(people, requiredRoleId)} AND NOT ${clashSql(people, { sessionId })})`;
  const now = Date.now();
  const [updated] = await batchSql(db, [
    sql`UPDATE class_sessions SET instructor_id = ${assignment.instructorId}, updated_at = ${now} WHERE id = ${sessionId} AND ${ok}`,
    sql`DELETE FROM session_assistants WHERE session_id = ${sessionId} AND ${ok}`,
    ...assignment.assistantIds.map((staffId) => sql`INSERT INTO session_assistants (session_id, staff_id) SELECT ${sessionId}, ${staffId} WHERE ${ok}`),
  ]);
  if (updated?.meta.changes === 1) return assignment;

  // Someone changed something between the checks above and the write: say what.
  await sessionWithRole(db, sessionId);
  await assertQualified(db, requiredRoleId, people);
  const [late] = await findClashes(db, people, [window]);
  if (late) throw doubleBooked(late);
  throw new ApiError("STAFF_DOUBLE_BOOKED", "The session's staff changed while assigning; try again", { sessionId });
}

/** A one-off session to create, with its times and capacity already resolved. */
export interface NewSession {
  id: string;
  classId: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  location: string | null;
}

/**
 * Creates a session (not from a pattern) together with its staff, all or nothing, under the same
 * rules and the same race-proof condition as `assignStaff`.
 */
export async function insertSessionWithStaff(db: Db, requiredRoleId: string, session: NewSession, assignment: StaffAssignment): Promise<void> {
  const people = [...(assignment.instructorId ? [assignment.instructorId] : []), ...assignment.assistantIds];
  const window = { sessionId: session.id, startsAt: session.startsAt, endsAt: session.endsAt };
  await assertQualified(db, requiredRoleId, people);
  const [clash] = await findClashes(db, people, [window]);
  if (clash) throw doubleBooked(clash);

  const ok = sql`(${qualifiedSql(people, requiredRoleId)} AND NOT ${clashSql(people, window)})`;
  const [inserted] = await batchSql(db, [
    sql`INSERT INTO class_sessions (id, class_id, pattern_id, starts_at, ends_at, capacity, location, instructor_id, status)
      SELECT ${session.id}, ${session.classId}, NULL, ${session.startsAt.getTime()}, ${session.endsAt.getTime()}, ${session.capacity},
        ${session.location}, ${assignment.instructorId}, 'scheduled'
      WHERE ${ok}`,
    ...assignment.assistantIds.map(
      (staffId) => sql`INSERT INTO session_assistants (session_id, staff_id)
        SELECT ${session.id}, ${staffId} WHERE EXISTS (SELECT 1 FROM class_sessions WHERE id = ${session.id})`,
    ),
  ]);
  if (inserted?.meta.changes === 1) return;

  await assertQualified(db, requiredRoleId, people);
  const [late] = await findClashes(db, people, [window]);
  if (late) throw doubleBooked(late);
  throw new ApiError("STAFF_DOUBLE_BOOKED", "The staff's other sessions changed while creating this one; try again", {});
}

/** The assistants of sessions (id and name), by session id. */
export async function staffOfSessions(db: Db, sessionIds: string[]) {
  const result = new Map<string, { id: string; firstName: string; lastName: string }[]>();
  for (let i = 0; i < sessionIds.length; i += 90) {
    const chunk = sessionIds.slice(i, i + 90);
    const rows = await db
      .select({ sessionId: sessionAssistants.sessionId, id: staff.id, firstName: staff.firstName, lastName: staff.lastName })
      .from(sessionAssistants)
      .innerJoin(staff, eq(staff.id, sessionAssistants.staffId))
      .where(inArray(sessionAssistants.sessionId, chunk))
      .orderBy(staff.lastName, staff.firstName, staff.id);
    for (const { sessionId, ...person } of rows) result.set(sessionId, [...(result.get(sessionId) ?? []), person]);
  }
  return result;
}

/** Active staff holding `roleId`, each with all their roles. */
export async function qualifiedStaffFor(db: Db, roleId: string) {
  const people = await db
    .select({ id: staff.id, email: staff.email, firstName: staff.firstName, lastName: staff.lastName })
    .from(staff)
    .innerJoin(staffTeachingRoles, and(eq(staffTeachingRoles.staffId, staff.id), eq(staffTeachingRoles.roleId, roleId)))
    .where(eq(staff.active, true))
    .orderBy(staff.lastName, staff.firstName, staff.id);
  const roles = people.length
    ? await db
        .select({ staffId: staffTeachingRoles.staffId, id: teachingRoles.id, name: teachingRoles.name })
        .from(staffTeachingRoles)
        .innerJoin(teachingRoles, eq(teachingRoles.id, staffTeachingRoles.roleId))
        .where(
          inArray(
            staffTeachingRoles.staffId,
            db.select({ id: staffTeachingRoles.staffId }).from(staffTeachingRoles).where(eq(staffTeachingRoles.roleId, roleId)),
          ),
        )
        .orderBy(teachingRoles.name)
    : [];
  return people.map((person) => ({
    ...person,
    roles: roles.filter((role) => role.staffId === person.id).map(({ id, name }) => ({ id, name })),
  }));
}

/** Of `people`, those with no overlapping assignment besides `window.sessionId` itself. */
export async function availableAmong(db: Db, people: string[], window: TimeWindow & { sessionId: string }): Promise<Set<string>> {
  const busy = new Set((await findClashes(db, people, [window])).map((clash) => clash.staffId));
  return new Set(people.filter((id) => !busy.has(id)));
}
