/**
 * Test data for the reports benchmark, generated inside SQLite with recursive CTEs (no rows cross
 * the wire): a catalog with a year of sessions, customers, bookings with one line each, their
 * BOOKING_CONFIRMED (and BOOKING_CANCELLED) events, their payments and refunds, waitlist events,
 * attendance and alerts.
 * Booking `i` is the same whatever batch writes it, so the load can go in chunks.
 */

export const CITIES = 5;
export const STUDIOS = 20;
export const CLASSES = 200;
export const SESSIONS = 20_000;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const SOURCES = `CASE i % 8 WHEN 0 THEN NULL WHEN 1 THEN 'phone' WHEN 2 THEN 'email' WHEN 3 THEN 'walk_in' WHEN 4 THEN 'staff' WHEN 5 THEN 'waitlist' ELSE 'website' END`;

export interface Statement {
  sql: string;
  params: unknown[];
}

// D1 binds JS numbers as REAL: cast them, or ids would read "bkg_rb_1.0".
const seq = (from: string, to: string) => `WITH RECURSIVE seq(i) AS (SELECT CAST(${from} AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < ${to} - 1)`;
const YEAR_START = "CAST(?1 AS INTEGER)";

/** The session a booking is on, its start and the customer (a hash spreads them). */
const SESSION_OF = `(i % ${SESSIONS})`;
const START_OF = (session: string) => `(${YEAR_START} + (${session}) * ${Math.floor(YEAR_MS / SESSIONS)} + (9 + (${session}) % 10) * 3600000)`;
const CONFIRMED_AT = `(${START_OF(SESSION_OF)} - (1 + (i * 7919) % 30) * ${DAY_MS} - (i % 3600000))`;
const CANCELLED = `(i % 8 = 7)`;

/** Cities, studios, a role, classes and a year of sessions from `yearStartMs` (1 in 20 cancelled). */
export function catalogStatements(yearStartMs: number, customers: number): Statement[] {
  return [
    { sql: `INSERT INTO cities (id, name, country_code) ${seq("0", String(CITIES))} SELECT 'cty_rb_' || i, 'Bench city ' || i, 'GB' FROM seq`, params: [] },
    { sql: `INSERT INTO studios (id, name, city_id, time_zone) ${seq("0", String(STUDIOS))} SELECT 'stu_rb_' || i, 'Bench studio ' || i, 'cty_rb_' || (i % ${CITIES}), 'Europe/London' FROM seq`, params: [] },
    { sql: `INSERT INTO teaching_roles (id, name) VALUES ('rol_rb', 'Bench role')`, params: [] },
    {
      sql: `INSERT INTO classes (id, studio_id, name, price_pence, duration_minutes, default_capacity, required_role_id, booking_kinds)
            ${seq("0", String(CLASSES))} SELECT 'cls_rb_' || i, 'stu_rb_' || (i % ${STUDIOS}), 'Bench class ' || i, 2500, 60, 80, 'rol_rb', '["SINGLE_SESSION"]' FROM seq`,
      params: [],
    },
    {
      sql: `INSERT INTO class_sessions (id, class_id, starts_at, ends_at, capacity, status)
            ${seq("0", String(SESSIONS))} SELECT 'ses_rb_' || i, 'cls_rb_' || (i % ${CLASSES}), ${START_OF("i")}, ${START_OF("i")} + 3600000, 80,
              CASE WHEN i % 20 = 19 THEN 'cancelled' ELSE 'scheduled' END FROM seq`,
      params: [yearStartMs],
    },
    {
      sql: `INSERT INTO customers (id, email, first_name, last_name) ${seq("0", "?1")} SELECT 'cus_rb_' || i, 'c' || i || '@bench.example', 'Bench', 'Customer ' || i FROM seq`,
      params: [customers],
    },
    {
      sql: `INSERT INTO alerts (id, type, severity, status, subject_key, title, created_at, updated_at, resolved_at)
            ${seq("0", "2000")} SELECT 'alr_rb_' || i, CASE i % 4 WHEN 0 THEN 'BOOKING_CONVERSION_LOW' WHEN 1 THEN 'DELIVERY_DRIFT' WHEN 2 THEN 'NO_BOOKINGS' ELSE 'OFFER_ACCEPTANCE_LOW' END,
              'warning', CASE WHEN i % 5 = 0 THEN 'open' ELSE 'resolved' END, 'bench:' || i, 'Bench alert', ${YEAR_START} + i * ${Math.floor(YEAR_MS / 2000)}, ${YEAR_START} + i * ${Math.floor(YEAR_MS / 2000)},
              CASE WHEN i % 5 = 0 THEN NULL ELSE ${YEAR_START} + i * ${Math.floor(YEAR_MS / 2000)} + (i * 7919) % ${3 * DAY_MS} END FROM seq`,
      params: [yearStartMs],
    },
  ];
}

/**
 * The money of booking `i` (src/db/revenue.ts): bookings made online (website, waitlist, no source)
 * are paid online when confirmed, and the cancelled ones (all online) refunded in full when
 * cancelled; half of those booked by staff (email and staff sources) are paid at the desk when the
 * session starts; the rest (phone, walk-in) are not paid.
 */
const PAID_ONLINE = `(i % 8 IN (0, 5, 6, 7))`;
const PAID_AT_DESK = `(i % 8 IN (2, 4))`;
const PAID_AT = `(CASE WHEN ${PAID_ONLINE} THEN ${CONFIRMED_AT} - 60000 ELSE ${START_OF(SESSION_OF)} END)`;
const CANCELLED_AT = `(${START_OF(SESSION_OF)} - (i % 240) * 3600000)`;

/** Bookings `from` … `to - 1`: their rows, lines, events (confirmed; cancelled for 1 in 8), payments, refunds and attendance of the booker (1 in 5 a no-show). */
export function bookingStatements(from: number, to: number, yearStartMs: number, customers: number): Statement[] {
  const range = [yearStartMs, from, to];
  const rows = (select: string) => `${seq("?2", "?3")} ${select} FROM seq`;
  return [
    {
      sql: `INSERT INTO bookings (id, customer_id, registration_type, status, guest_count, class_id, subtotal_pence, discount_pence, total_amount_pence, source, manage_token_hash, version, confirmed_at, cancelled_at)
            ${rows(`SELECT 'bkg_rb_' || i, 'cus_rb_' || ((i * 2654435761) % ${customers}), 'SINGLE_SESSION', CASE WHEN ${CANCELLED} THEN 'cancelled' ELSE 'confirmed' END,
              1 + i % 3, 'cls_rb_' || (${SESSION_OF} % ${CLASSES}), (1 + i % 3) * 2500, 0, (1 + i % 3) * 2500, ${SOURCES}, 'bench', 1, ${CONFIRMED_AT},
              CASE WHEN ${CANCELLED} THEN ${START_OF(SESSION_OF)} - (i % 240) * 3600000 END`)}`,
      params: range,
    },
    {
      sql: `INSERT INTO booking_sessions (booking_id, session_id, seats, status, price_pence, version)
            ${rows(`SELECT 'bkg_rb_' || i, 'ses_rb_' || ${SESSION_OF}, 1 + i % 3, CASE WHEN ${CANCELLED} THEN 'cancelled' ELSE 'confirmed' END, (1 + i % 3) * 2500, 1`)}`,
      params: range,
    },
    {
      sql: `INSERT INTO events (id, type, occurred_at, session_id, class_id, studio_id, booking_id, customer_id, seats, amount_pence, source)
            ${rows(`SELECT 'evt_rbc_' || i, 'BOOKING_CONFIRMED', ${CONFIRMED_AT}, 'ses_rb_' || ${SESSION_OF}, 'cls_rb_' || (${SESSION_OF} % ${CLASSES}),
              'stu_rb_' || ((${SESSION_OF} % ${CLASSES}) % ${STUDIOS}), 'bkg_rb_' || i, 'cus_rb_' || ((i * 2654435761) % ${customers}), 1 + i % 3, (1 + i % 3) * 2500, ${SOURCES}`)}`,
      params: range,
    },
    {
      sql: `INSERT INTO events (id, type, occurred_at, booking_id, customer_id)
            ${rows(`SELECT 'evt_rbx_' || i, 'BOOKING_CANCELLED', ${START_OF(SESSION_OF)} - (i % 240) * 3600000, 'bkg_rb_' || i, 'cus_rb_' || ((i * 2654435761) % ${customers})`)}
            WHERE ${CANCELLED}`,
      params: range,
    },
    {
      // The online ones carry the booking they confirm, as the online flow writes it (the widest column).
      // Each carries its booking's class and source, as startPayment and the desk write them.
      sql: `INSERT INTO payments (id, booking_id, class_id, source, amount_pence, currency, description, status, provider, provider_ref, idempotency_key, expires_at,
              paid_pence, paid_at, refunded_pence, version, booking_snapshot, created_at, updated_at)
            ${rows(`SELECT 'pay_rb_' || i, 'bkg_rb_' || i, 'cls_rb_' || (${SESSION_OF} % ${CLASSES}), COALESCE(${SOURCES}, 'website'), (1 + i % 3) * 2500, 'GBP', 'Bench class, ' || (1 + i % 3) || ' seats',
              CASE WHEN ${CANCELLED} THEN 'refunded' ELSE 'paid' END, CASE WHEN ${PAID_ONLINE} THEN 'stripe' ELSE 'desk' END,
              CASE WHEN ${PAID_ONLINE} THEN 'cs_rb_' || i END, 'pay_rb_' || i, ${PAID_AT} + 900000,
              (1 + i % 3) * 2500, ${PAID_AT}, CASE WHEN ${CANCELLED} THEN (1 + i % 3) * 2500 ELSE 0 END, CASE WHEN ${CANCELLED} THEN 2 ELSE 1 END,
              CASE WHEN ${PAID_ONLINE} THEN '{"bookingId":"bkg_rb_' || i || '","sessions":[{"sessionId":"ses_rb_' || ${SESSION_OF} || '","seats":' || (1 + i % 3) || ',"pricePence":' || ((1 + i % 3) * 2500) || '}]}' END,
              ${PAID_AT} - 60000, CASE WHEN ${CANCELLED} THEN ${CANCELLED_AT} ELSE ${PAID_AT} END`)}
            WHERE ${PAID_ONLINE} OR ${PAID_AT_DESK}`,
      params: range,
    },
    {
      sql: `INSERT INTO refunds (id, payment_id, amount_pence, reason, requested_by, status, provider_ref, failure, created_at, updated_at)
            ${rows(`SELECT 'rfd_rb_' || i, 'pay_rb_' || i, (1 + i % 3) * 2500, 'cancelled', 'customer', 'succeeded', 're_rb_' || i, NULL, ${CANCELLED_AT}, ${CANCELLED_AT}`)}
            WHERE ${CANCELLED}`,
      params: range,
    },
    {
      sql: `INSERT INTO session_attendance (session_id, attendee_id, booking_id, status, recorded_by, recorded_at)
            ${rows(`SELECT 'ses_rb_' || ${SESSION_OF}, 'att_' || i || '_1', 'bkg_rb_' || i, CASE WHEN i % 5 = 0 THEN 'no_show' ELSE 'checked_in' END, 'system', ${START_OF(SESSION_OF)}`)}
            WHERE NOT ${CANCELLED} AND ${START_OF(SESSION_OF)} < ?4`,
      params: [...range, Date.now()],
    },
  ];
}

/** Waitlist entries `from` … `to - 1`: a join, a first offer 5 in 6 times, and its answer. */
export function waitlistStatement(from: number, to: number, yearStartMs: number): Statement {
  return {
    sql: `INSERT INTO events (id, type, occurred_at, session_id, class_id, data)
          WITH RECURSIVE seq(i) AS (SELECT CAST(?2 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < ?3 - 1),
          entry AS (SELECT i, ${YEAR_START} + (i * 48271) % ${YEAR_MS} AS joinedAt, 60000 + (i * 16807) % ${3 * DAY_MS} AS wait FROM seq),
          steps(n) AS (VALUES (0), (1), (2))
          SELECT 'evt_rbw_' || i || '_' || n,
                 CASE n WHEN 0 THEN 'WAITLIST_JOINED' WHEN 1 THEN 'OFFER_SENT' ELSE (CASE i % 3 WHEN 0 THEN 'OFFER_ACCEPTED' WHEN 1 THEN 'OFFER_DECLINED' ELSE 'OFFER_EXPIRED' END) END,
                 joinedAt + CASE n WHEN 0 THEN 0 WHEN 1 THEN wait ELSE wait + 3600000 END,
                 'ses_rb_' || (i % ${SESSIONS}), CASE WHEN i % 2 = 0 THEN 'cls_rb_' || ((i % ${SESSIONS}) % ${CLASSES}) END,
                 '{"entryId":"wle_rb_' || i || '","offerNumber":' || min(n, 1) || '}'
          FROM entry CROSS JOIN steps WHERE n = 0 OR i % 6 <> 0`,
    params: [yearStartMs, from, to],
  };
}
