/**
 * Reads and writes of group bookings in D1: the group (its reference unique), the bookings it is
 * made of (booking_group_members) and the participants' names on their seats (booking_attendees,
 * shared with the projection and the roster: the projection only inserts missing seats, so names
 * written here stay). Lists go by bound JSON (`json_each`), so 50 participants cost one parameter.
 */
import { attendeeId } from "../domain/attendees";

export interface GroupRow {
  id: string;
  reference: string;
  name: string;
  company: string | null;
  organiserName: string;
  organiserEmail: string;
  payerName: string;
  payerEmail: string;
  classId: string;
  sessionId: string | null;
  status: "active" | "cancelled";
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface AttendeeRow {
  id: string;
  bookingId: string;
  position: number;
  name: string | null;
  email: string | null;
}

const GROUP_COLUMNS = `id, reference, name, company, organiser_name AS organiserName, organiser_email AS organiserEmail, payer_name AS payerName,
  payer_email AS payerEmail, class_id AS classId, session_id AS sessionId, status, created_by AS createdBy, created_at AS createdAt, updated_at AS updatedAt`;

/**
 * Inserts the group unless its id or reference exists. Returns "created", "exists" (this id: a
 * retry of the same request under its Idempotency-Key seed) or "taken" (another group has the reference).
 */
export async function insertGroup(d1: D1Database, group: Omit<GroupRow, "status" | "updatedAt">): Promise<"created" | "exists" | "taken"> {
  const inserted = await d1
    .prepare(
      `INSERT INTO booking_groups (id, reference, name, company, organiser_name, organiser_email, payer_name, payer_email, class_id, session_id, status, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
    )
    .bind(group.id, group.reference, group.name, group.company, group.organiserName, group.organiserEmail, group.payerName, group.payerEmail, group.classId, group.sessionId, group.createdBy, group.createdAt, group.createdAt)
    .first<{ id: string }>();
  if (inserted) return "created";
  const same = await d1.prepare(`SELECT reference FROM booking_groups WHERE id = ?`).bind(group.id).first<{ reference: string }>();
  return same?.reference === group.reference ? "exists" : "taken";
}

/** Takes back a group whose booking was refused, so its reference is free again (only while it has no bookings). */
export async function deleteEmptyGroup(d1: D1Database, groupId: string): Promise<void> {
  await d1.prepare(`DELETE FROM booking_groups WHERE id = ? AND NOT EXISTS (SELECT 1 FROM booking_group_members WHERE group_id = ?1)`).bind(groupId).run();
}

export async function groupById(d1: D1Database, groupId: string): Promise<GroupRow | null> {
  return d1.prepare(`SELECT ${GROUP_COLUMNS} FROM booking_groups WHERE id = ?`).bind(groupId).first<GroupRow>();
}

/** A page of groups, newest first, after the cursor `(createdAt, id)`, optionally of one class (each way on its own index). */
export async function listGroups(d1: D1Database, options: { classId?: string | undefined; limit: number; after?: { createdAt: number; id: string } | undefined }): Promise<GroupRow[]> {
  const after = options.after ? `AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))` : "";
  const where = options.classId === undefined ? `WHERE true ${after}` : `WHERE class_id = ?4 ${after}`;
  const params: (string | number)[] = [options.limit, options.after?.createdAt ?? 0, options.after?.id ?? ""];
  if (options.classId !== undefined) params.push(options.classId);
  const { results } = await d1
    .prepare(`SELECT ${GROUP_COLUMNS} FROM booking_groups ${where} ORDER BY created_at DESC, id DESC LIMIT ?1`)
    .bind(...params)
    .all<GroupRow>();
  return results;
}

/** The bookings of a group, the first (all participants) first. */
export async function groupBookingIds(d1: D1Database, groupId: string): Promise<string[]> {
  const { results } = await d1.prepare(`SELECT booking_id AS bookingId FROM booking_group_members WHERE group_id = ? ORDER BY created_at, booking_id`).bind(groupId).all<{ bookingId: string }>();
  return results.map((row) => row.bookingId);
}

/** The group a booking belongs to, if any. */
export async function groupOfBooking(d1: D1Database, bookingId: string): Promise<string | null> {
  const row = await d1.prepare(`SELECT group_id AS groupId FROM booking_group_members WHERE booking_id = ?`).bind(bookingId).first<{ groupId: string }>();
  return row?.groupId ?? null;
}

/** Named seats of some bookings, in booking then seat order. */
export async function attendeesOf(d1: D1Database, bookingIds: string[]): Promise<AttendeeRow[]> {
  if (bookingIds.length === 0) return [];
  const { results } = await d1
    .prepare(`SELECT id, booking_id AS bookingId, position, name, email FROM booking_attendees WHERE booking_id IN (SELECT value FROM json_each(?)) ORDER BY booking_id, position`)
    .bind(JSON.stringify(bookingIds))
    .all<AttendeeRow>();
  return results;
}

const UPSERT_NAMES = `INSERT INTO booking_attendees (id, booking_id, position, name, email, created_at, updated_at)
  SELECT json_extract(p.value, '$[0]'), ?2, json_extract(p.value, '$[1]'), json_extract(p.value, '$[2]'), json_extract(p.value, '$[3]'), ?3, ?3
  FROM json_each(?1) AS p WHERE true
  ON CONFLICT (booking_id, position) DO UPDATE SET name = excluded.name, email = excluded.email, updated_at = excluded.updated_at`;

/**
 * Links a booking to its group and names its seats 1..n after the participants, in one batch.
 * Repeatable: a retry writes the same rows.
 */
export async function linkBooking(d1: D1Database, groupId: string, bookingId: string, participants: { name: string; email: string | null }[], at: number): Promise<void> {
  const seats = participants.map((participant, index) => [attendeeId(bookingId, index + 1), index + 1, participant.name, participant.email]);
  await d1.batch([
    d1.prepare(`INSERT INTO booking_group_members (group_id, booking_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`).bind(groupId, bookingId, at),
    d1.prepare(UPSERT_NAMES).bind(JSON.stringify(seats), bookingId, at),
    d1.prepare(`UPDATE booking_groups SET updated_at = ? WHERE id = ?`).bind(at, groupId),
  ]);
}

/**
 * Takes a seat's participant off a booking that shrank from `fromSeats` to one seat fewer: the
 * last seat's participant moves into the freed position (so every remaining person keeps their
 * name, and positions stay 1..n as the projection expects), and the last position goes.
 */
export async function removeSeatName(d1: D1Database, bookingId: string, position: number, fromSeats: number, at: number): Promise<void> {
  const removed = attendeeId(bookingId, position);
  const statements = [
    d1.prepare(`DELETE FROM booking_attendees WHERE booking_id = ? AND position = ?`).bind(bookingId, position),
    // Check-in opens before the start: what was recorded for the person leaving goes with them.
    d1.prepare(`DELETE FROM session_attendance WHERE attendee_id = ?`).bind(removed),
  ];
  if (position < fromSeats) {
    const moved = attendeeId(bookingId, fromSeats);
    statements.push(
      d1.prepare(`UPDATE booking_attendees SET id = ?, position = ?, updated_at = ? WHERE booking_id = ? AND position = ?`).bind(removed, position, at, bookingId, fromSeats),
      d1.prepare(`UPDATE session_attendance SET attendee_id = ? WHERE attendee_id = ?`).bind(removed, moved),
    );
  }
  // Seats past the new count (a row the projection wrote for a seat given back) go too.
  statements.push(d1.prepare(`DELETE FROM booking_attendees WHERE booking_id = ? AND position >= ?`).bind(bookingId, fromSeats));
  await d1.batch(statements);
}

/** Marks the group changed (a participant's own booking was cancelled: the link stays, as history). */
export async function touchGroup(d1: D1Database, groupId: string, at: number): Promise<void> {
  await d1.prepare(`UPDATE booking_groups SET updated_at = ? WHERE id = ?`).bind(at, groupId).run();
}

/** Marks the group cancelled (once: the answer says whether this call did it). */
export async function markGroupCancelled(d1: D1Database, groupId: string, at: number): Promise<boolean> {
  const { meta } = await d1.prepare(`UPDATE booking_groups SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'active'`).bind(at, groupId).run();
  return meta.changes > 0;
}

/** The schedule patterns of a class (a course booked whole is one of them). */
export async function patternsOfClass(d1: D1Database, classId: string): Promise<string[]> {
  const { results } = await d1.prepare(`SELECT id FROM schedule_patterns WHERE class_id = ? ORDER BY id LIMIT 2`).bind(classId).all<{ id: string }>();
  return results.map((row) => row.id);
}
