/**
 * Test data for the rollup benchmark, generated inside SQLite with recursive CTEs (no rows cross
 * the wire): a small catalog with sessions and bookings over one ISO week, and events spread
 * pseudo-randomly over that week. Event `i` is the same whatever the batch it is written in, so
 * loading 100,000 and then 900,000 more gives the same set as loading 1,000,000 at once.
 */

export const CLASSES = 50;
export const STUDIOS = 10;
export const CITIES = 5;
export const SESSIONS_PER_DAY = 40;
export const BOOKINGS_PER_SESSION = 4;
const DAY_MS = 86_400_000;

/** Statements for the catalog: cities, studios, classes, the week's sessions (1 in 10 cancelled) and their bookings. */
export function catalogStatements(weekStartMs: number): { sql: string; params: unknown[] }[] {
  const sessions = 7 * SESSIONS_PER_DAY;
  const bookings = sessions * BOOKINGS_PER_SESSION;
  const seq = (n: number) => `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n - 1})`;
  return [
    { sql: `INSERT INTO cities (id, name, country_code) ${seq(CITIES)} SELECT 'cty_bench_' || i, 'Bench city ' || i, 'GB' FROM seq`, params: [] },
    {
      sql: `INSERT INTO studios (id, name, city_id, time_zone) ${seq(STUDIOS)} SELECT 'stu_bench_' || i, 'Bench studio ' || i, 'cty_bench_' || (i % ${CITIES}), 'Europe/London' FROM seq`,
      params: [],
    },
    { sql: `INSERT INTO teaching_roles (id, name) VALUES ('rol_bench', 'Bench role')`, params: [] },
    {
      sql: `INSERT INTO classes (id, studio_id, name, price_pence, duration_minutes, default_capacity, required_role_id, booking_kinds)
            ${seq(CLASSES)} SELECT 'cls_bench_' || i, 'stu_bench_' || (i % ${STUDIOS}), 'Bench class ' || i, 2500, 60, 12, 'rol_bench', '["SINGLE_SESSION"]' FROM seq`,
      params: [],
    },
    {
      sql: `INSERT INTO class_sessions (id, class_id, starts_at, ends_at, capacity, status)
            ${seq(sessions)} SELECT 'ses_bench_' || i, 'cls_bench_' || (i % ${CLASSES}),
              ?1 + (i / ${SESSIONS_PER_DAY}) * ${DAY_MS} + (8 + i % 12) * 3600000,
              ?1 + (i / ${SESSIONS_PER_DAY}) * ${DAY_MS} + (9 + i % 12) * 3600000,
              12, CASE WHEN i % 10 = 9 THEN 'cancelled' ELSE 'scheduled' END FROM seq`,
      params: [weekStartMs],
    },
    { sql: `INSERT INTO customers (id, email, first_name, last_name) VALUES ('cus_bench', 'bench@bench.example', 'Bench', 'Customer')`, params: [] },
    {
      sql: `INSERT INTO bookings (id, customer_id, registration_type, status, guest_count, class_id, subtotal_pence, discount_pence, total_amount_pence, manage_token_hash, version, confirmed_at)
            ${seq(bookings)} SELECT 'bkg_bench_' || i, 'cus_bench', 'SINGLE_SESSION', CASE WHEN i % 7 = 6 THEN 'cancelled' ELSE 'confirmed' END,
              1 + i % 3, 'cls_bench_' || ((i % ${sessions}) % ${CLASSES}), 2500, 0, 2500, 'bench', 1, ?1 FROM seq`,
      params: [weekStartMs],
    },
    {
      sql: `INSERT INTO booking_sessions (booking_id, session_id, seats, status, price_pence, version)
            ${seq(bookings)} SELECT 'bkg_bench_' || i, 'ses_bench_' || (i % ${sessions}), 1 + i % 3,
              CASE WHEN i % 7 = 6 THEN 'cancelled' ELSE 'confirmed' END, 2500, 1 FROM seq`,
      params: [],
    },
  ];
}

/**
 * Events `from` … `to - 1`. The type comes from a hash of `i` (35 % views, 15 % checkouts, 8 %
 * holds, 8 % bookings, 4 % refusals, 11 % notifications …); offers carry only their session and
 * cancellations only their booking (the rollup finds their class), and 3 in 10 events lack their
 * studio (the rollup takes it from the class), as the booking engine may send them. Checkouts
 * are a quarter each client signals, bookings through, bookings refused and holds (which run the
 * funnel's conversion lookup); half the bookings name a hold; 1 % are REQUEST_SAMPLED.
 */
export function eventsStatement(from: number, to: number, weekStartMs: number): { sql: string; params: unknown[] } {
  const sessions = 7 * SESSIONS_PER_DAY;
  const bookings = sessions * BOOKINGS_PER_SESSION;
  return {
    sql: `
INSERT INTO events (id, type, occurred_at, session_id, class_id, studio_id, city_id, booking_id, email, client_key, code, seats, amount_pence, source, data)
WITH RECURSIVE seq(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?2 - 1),
t AS (SELECT i, ((i * 2654435761) / 64) % 100 AS r, (i * 40503) % ${CLASSES} AS k FROM seq)
SELECT 'evt_bench_' || i,
  CASE WHEN r < 35 THEN 'COURSE_VIEWED' WHEN r < 50 THEN 'CHECKOUT_STARTED' WHEN r < 58 THEN 'HOLD_CREATED'
       WHEN r < 66 THEN 'BOOKING_CONFIRMED' WHEN r < 70 THEN 'BOOKING_REJECTED' WHEN r < 72 THEN 'BOOKING_CANCELLED'
       WHEN r < 73 THEN 'DUPLICATE_ATTEMPT' WHEN r < 76 THEN 'PURCHASE_BLOCKED' WHEN r < 79 THEN 'WAITLIST_JOINED'
       WHEN r < 81 THEN 'OFFER_SENT' WHEN r < 82 THEN 'OFFER_ACCEPTED' WHEN r < 83 THEN 'OFFER_EXPIRED'
       WHEN r < 94 THEN 'NOTIFICATION_SENT' WHEN r < 96 THEN 'NOTIFICATION_FAILED' WHEN r < 98 THEN 'REQUEST_FAILED'
       WHEN r < 99 THEN 'REQUEST_SAMPLED' ELSE 'COURSE_VIEWED' END,
  ?3 + (i * 1103515245 + 12345) % ${7 * DAY_MS},
  CASE WHEN r BETWEEN 50 AND 57 OR r BETWEEN 79 AND 82 THEN 'ses_bench_' || (i % ${sessions}) END,
  CASE WHEN r BETWEEN 70 AND 71 OR r BETWEEN 79 AND 97 THEN NULL ELSE 'cls_bench_' || k END,
  CASE WHEN r BETWEEN 70 AND 71 OR r BETWEEN 79 AND 97 OR i % 10 >= 7 THEN NULL ELSE 'stu_bench_' || (k % ${STUDIOS}) END,
  CASE WHEN r < 50 OR r BETWEEN 58 AND 65 OR r BETWEEN 73 AND 75 THEN 'cty_bench_' || (i % ${CITIES}) END,
  CASE WHEN r BETWEEN 70 AND 71 THEN 'bkg_bench_' || (i % ${bookings}) END,
  'guest' || (i % 20000) || '@bench.example',
  '10.0.' || (i % 250) || '.' || (i % 7),
  CASE WHEN r BETWEEN 66 AND 69 THEN (CASE i % 3 WHEN 0 THEN 'SESSION_FULL' WHEN 1 THEN 'AMOUNT_MISMATCH' ELSE 'DUPLICATE_BOOKING' END)
       WHEN r BETWEEN 73 AND 75 THEN 'NO_TRAINER' WHEN r BETWEEN 96 AND 97 THEN 'INTERNAL_ERROR' END,
  CASE WHEN r BETWEEN 50 AND 65 THEN 1 + i % 3 END,
  CASE WHEN r BETWEEN 58 AND 65 THEN (1 + i % 3) * 2500 END,
  CASE WHEN r BETWEEN 58 AND 65 THEN (CASE i % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'app' ELSE 'staff' END) END,
  CASE WHEN r BETWEEN 70 AND 71 THEN '{"minutesSinceConfirmation":' || (i % 600) || '}'
       WHEN r BETWEEN 35 AND 49 THEN (CASE i % 4
         WHEN 0 THEN '{"origin":"client"}'
         WHEN 1 THEN '{"origin":"booking","outcome":"accepted"}'
         WHEN 2 THEN '{"origin":"booking","outcome":"rejected"}'
         ELSE '{"origin":"hold","outcome":"accepted","holdId":"hld_bench_' || i || '","holdExpiresAt":' || (?3 + (i * 1103515245 + 12345) % ${7 * DAY_MS} + 600000) || '}' END)
       WHEN r BETWEEN 58 AND 65 THEN '{"holdId":' || (CASE WHEN i % 2 = 0 THEN '"hld_bench_' || (i - 1) || '"' ELSE 'null' END) || '}'
       WHEN r = 98 THEN '{"sampleRate":10}' END
FROM t`,
    params: [from, to, weekStartMs],
  };
}
