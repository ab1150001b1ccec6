/**
 * Issuing certificates (the cron, src/jobs/certificates.ts): finds attendees of certificate-giving
 * classes whose booking's last session has ended and who were checked in at enough of its
 * sessions, and issues one certificate per (attendee, class), once (the unique index decides a
 * race). The number's sequence is taken inside the insert itself, so numbers never repeat.
 *
 * Each new certificate is a CERTIFICATE_ISSUED event and, when the holder has an email, a message
 * with the certificate and verification links. Both have deterministic ids, and a certificate whose
 * event has not reached D1 an hour later is announced again, so a lost Queue send is made good.
 * Work per run is bounded (ISSUE_BATCH certificates, the rest on the next run).
 */
import { sql } from "drizzle-orm";
import { configOf } from "../config";
import type { Db } from "../db/client";
import { certificateIssuedId, expiryOf, numberPrefix } from "../domain/certificates";
import { domainEvent, type DomainEvent } from "../domain/events";
import type { NotificationRequest } from "../domain/notifications";
import type { Env } from "../env";
import { newId } from "../lib/ids";
import { randomToken } from "../lib/tokens";
import { customerIdFor } from "./booking-context";
import { emitEvents } from "./events";
import { queueNotifications } from "./notifications";

/** Certificates issued per run at most. */
export const ISSUE_BATCH = 200;
/** Check-ins older than this are not looked at again (a booking is certified soon after it ends). */
const ATTENDANCE_LOOKBACK_MS = 60 * 86_400_000;
/** A certificate's event missing from D1 this long after issue is sent again (deliveries take seconds). */
const ANNOUNCE_AGAIN_AFTER_MS = 3_600_000;
const ANNOUNCE_AGAIN_WITHIN_MS = 7 * 86_400_000;

interface Completion {
  attendeeId: string;
  bookingId: string;
  classId: string;
  bookingCustomerId: string;
  validityDays: number;
  position: number | null;
  attendeeName: string | null;
  attendeeEmail: string | null;
  customerEmail: string | null;
  customerFirstName: string | null;
  customerLastName: string | null;
  /** The profile of a named guest's email, when they have one. */
  guestCustomerId: string | null;
}

/**
 * Attendees who completed a booking and hold no certificate of its class yet, in SQL: checked in
 * at ≥ the class's percent (or the default) of the booking's sessions that were not cancelled, and
 * the last of those has ended. Candidates come from recent check-ins (session_attendance's status
 * index), so a run reads only what changed lately.
 */
function completions(db: Db, now: number, defaultPercent: number) {
  return db.all<Completion>(sql`
    WITH candidates AS (
      SELECT DISTINCT attendee_id, booking_id FROM session_attendance
      WHERE status = 'checked_in' AND recorded_at > ${now - ATTENDANCE_LOOKBACK_MS}
    ),
    measured AS (
      SELECT c.attendee_id AS attendeeId, b.id AS bookingId, b.class_id AS classId, b.customer_id AS bookingCustomerId,
        k.certificate_validity_days AS validityDays, coalesce(k.completion_attendance_percent, ${defaultPercent}) AS percent,
        (SELECT count(*) FROM session_attendance a JOIN class_sessions s ON s.id = a.session_id AND s.status <> 'cancelled'
          JOIN booking_sessions l ON l.booking_id = a.booking_id AND l.session_id = a.session_id AND l.status = 'confirmed'
          WHERE a.booking_id = b.id AND a.attendee_id = c.attendee_id AND a.status = 'checked_in') AS attended,
        (SELECT count(*) FROM booking_sessions l JOIN class_sessions s ON s.id = l.session_id AND s.status <> 'cancelled'
          WHERE l.booking_id = b.id AND l.status = 'confirmed') AS total,
        (SELECT max(s.ends_at) FROM booking_sessions l JOIN class_sessions s ON s.id = l.session_id AND s.status <> 'cancelled'
          WHERE l.booking_id = b.id AND l.status = 'confirmed') AS lastEndsAt
      FROM candidates c
      JOIN bookings b ON b.id = c.booking_id AND b.status = 'confirmed'
      JOIN classes k ON k.id = b.class_id AND k.certificate_validity_days IS NOT NULL
      WHERE NOT EXISTS (SELECT 1 FROM certificates x WHERE x.attendee_id = c.attendee_id AND x.class_id = b.class_id)
    )
    SELECT m.attendeeId, m.bookingId, m.classId, m.bookingCustomerId, m.validityDays,
      p.position AS position, p.name AS attendeeName, p.email AS attendeeEmail,
      cu.email AS customerEmail, cu.first_name AS customerFirstName, cu.last_name AS customerLastName, ge.id AS guestCustomerId
    FROM measured m
    LEFT JOIN booking_attendees p ON p.booking_id = m.bookingId AND ('atd_' || substr(m.bookingId, 5) || '.' || p.position) = m.attendeeId
    LEFT JOIN customers cu ON cu.id = m.bookingCustomerId
    LEFT JOIN customers ge ON ge.email = lower(p.email)
    WHERE m.total > 0 AND m.lastEndsAt <= ${now} AND m.attended * 100 >= m.percent * m.total
    ORDER BY m.lastEndsAt, m.attendeeId
    LIMIT ${ISSUE_BATCH}`);
}

/**
 * Inserts a certificate numbered one past the highest number of its year (`CERT-2026-` + seven
 * digits, so text order is number order and the unique index on number finds the highest), unless
 * the attendee already holds one of the class.
 */
const INSERT_CERTIFICATE = `INSERT INTO certificates (id, number, verification_code, customer_id, holder_name, class_id, booking_id, attendee_id, status, issued_at, expires_at)
  VALUES (?1, ?2 || printf('%07d', coalesce((SELECT CAST(substr(number, ?3) AS INTEGER) FROM certificates WHERE number >= ?4 AND number < ?5 ORDER BY number DESC LIMIT 1), 0) + 1),
    ?6, ?7, ?8, ?9, ?10, ?11, 'valid', ?12, ?13)
  ON CONFLICT (attendee_id, class_id) DO NOTHING`;

/** Who a certificate is for: the attendee as named, else (the booker's seat) the booking's customer. */
async function holderOf(row: Completion): Promise<{ name: string; email: string | null; customerId: string } | null> {
  const booker = row.position === null ? row.attendeeId.endsWith(".1") : row.position === 1;
  const customerName = [row.customerFirstName, row.customerLastName].filter((part) => part && part.trim()).join(" ").trim();
  const name = row.attendeeName?.trim() || (booker ? customerName : "");
  // An unnamed guest cannot be printed on a certificate: it is issued once someone names them.
  if (!name) return null;
  const email = row.attendeeEmail ?? (booker ? row.customerEmail : null);
  const customerId = booker || !row.attendeeEmail ? row.bookingCustomerId : (row.guestCustomerId ?? (await customerIdFor(row.attendeeEmail)));
  return { name, email: email ? email.toLowerCase() : null, customerId };
}

export interface IssuedCertificate {
  id: string;
  number: string;
  verificationCode: string;
  customerId: string;
  holderName: string;
  holderEmail: string | null;
  classId: string;
  bookingId: string;
  attendeeId: string;
  issuedAt: number;
  expiresAt: number | null;
}

/** Issues what is due at `now`; returns the certificates this run issued. */
export async function issueDueCertificates(env: Env, db: Db, now: Date): Promise<IssuedCertificate[]> {
  const at = now.getTime();
  const rows = await completions(db, at, configOf(env).certificateCompletionPercent);
  const planned: Omit<IssuedCertificate, "number">[] = [];
  for (const row of rows) {
    const holder = await holderOf(row);
    if (!holder) continue;
    planned.push({
      id: newId("certificate"),
      verificationCode: randomToken(),
      customerId: holder.customerId,
      holderName: holder.name.slice(0, 200),
      holderEmail: holder.email,
      classId: row.classId,
      bookingId: row.bookingId,
      attendeeId: row.attendeeId,
      issuedAt: at,
      expiresAt: expiryOf(at, row.validityDays),
    });
  }
  if (planned.length === 0) return [];
  const prefix = numberPrefix(at);
  // One statement per certificate in one batch (a transaction): each takes the next number of its year.
  const insert = env.DB.prepare(INSERT_CERTIFICATE);
  await env.DB.batch(
    planned.map((c) =>
      insert.bind(c.id, prefix, prefix.length + 1, prefix, `${prefix}~`, c.verificationCode, c.customerId, c.holderName, c.classId, c.bookingId, c.attendeeId, c.issuedAt, c.expiresAt),
    ),
  );
  const stored = await db.all<{ id: string; number: string }>(sql`SELECT id, number FROM certificates WHERE id IN (${sql.join(planned.map((c) => sql`${c.id}`), sql`, `)})`);
  const numbers = new Map(stored.map((row) => [row.id, row.number]));
  // A certificate another run issued first is that run's to announce.
  const issued = planned.filter((c) => numbers.has(c.id)).map((c) => ({ ...c, number: numbers.get(c.id)! }));
  await announce(env, db, issued);
  return issued;
}

/** The event and message of newly issued certificates (deterministic ids: sending twice is harmless). */
async function announce(env: Env, db: Db, issued: IssuedCertificate[]): Promise<void> {
  if (issued.length === 0) return;
  const places = await db.all<{ id: string; className: string; studioName: string; timeZone: string }>(sql`
    SELECT k.id AS id, k.name AS className, st.name AS studioName, st.time_zone AS timeZone FROM classes k JOIN studios st ON st.id = k.studio_id
    WHERE k.id IN (${sql.join([...new Set(issued.map((c) => c.classId))].map((id) => sql`${id}`), sql`, `)})`);
  const placeOf = new Map(places.map((place) => [place.id, place]));
  const events: DomainEvent[] = issued.map((c) => ({
    ...domainEvent("CERTIFICATE_ISSUED", {
      occurredAt: c.issuedAt,
      classId: c.classId,
      bookingId: c.bookingId,
      customerId: c.customerId,
      data: { certificateId: c.id, number: c.number, attendeeId: c.attendeeId },
    }),
    id: issuedEventId(c.id),
  }));
  const messages: NotificationRequest[] = issued
    .filter((c) => c.holderEmail !== null && placeOf.has(c.classId))
    .map((c) => {
      const place = placeOf.get(c.classId)!;
      return {
        id: certificateIssuedId(c.id),
        kind: "CERTIFICATE_ISSUED",
        recipient: { email: c.holderEmail! },
        bookingId: c.bookingId,
        classId: c.classId,
        requestedAt: c.issuedAt,
        data: {
          className: place.className,
          studioName: place.studioName,
          timeZone: place.timeZone,
          number: c.number,
          holderName: c.holderName,
          issuedAt: c.issuedAt,
          ...(c.expiresAt === null ? {} : { expiresAt: c.expiresAt }),
          certificateLinkPath: `/certificates/${c.id}`,
          verifyLinkPath: `/certificates/verify/${c.verificationCode}`,
        },
      };
    });
  await Promise.all([emitEvents(env, events), queueNotifications(env, messages)]);
}

/** The id of a certificate's CERTIFICATE_ISSUED event. */
export const issuedEventId = (certificateId: string) => `evt_issued_${certificateId}`;

/**
 * Certificates issued between a week and an hour ago whose event D1 still lacks: their Queue send
 * was lost, so they are announced again (the message too; its consumer sends an id once).
 */
export async function announceMissing(env: Env, db: Db, now: Date): Promise<number> {
  const at = now.getTime();
  const rows = await db.all<Omit<IssuedCertificate, "holderEmail"> & { holderEmail: string | null }>(sql`
    SELECT c.id AS id, c.number AS number, c.verification_code AS verificationCode, c.customer_id AS customerId, c.holder_name AS holderName,
      c.class_id AS classId, c.booking_id AS bookingId, c.attendee_id AS attendeeId, c.issued_at AS issuedAt, c.expires_at AS expiresAt,
      lower(coalesce(p.email, CASE WHEN substr(c.attendee_id, -2) = '.1' THEN cu.email END)) AS holderEmail
    FROM certificates c
    LEFT JOIN booking_attendees p ON p.booking_id = c.booking_id AND ('atd_' || substr(c.booking_id, 5) || '.' || p.position) = c.attendee_id
    LEFT JOIN bookings b ON b.id = c.booking_id
    LEFT JOIN customers cu ON cu.id = b.customer_id
    WHERE c.issued_at > ${at - ANNOUNCE_AGAIN_WITHIN_MS} AND c.issued_at <= ${at - ANNOUNCE_AGAIN_AFTER_MS}
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = 'evt_issued_' || c.id)
    LIMIT ${ISSUE_BATCH}`);
  await announce(env, db, rows);
  return rows.length;
}
