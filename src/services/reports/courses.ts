/**
 * Course reports: which classes sell (and to new or returning customers), where the bookings and
 * money come from, and how full the sessions that ran were. Bookings are in the range by their
 * confirmation time and count while confirmed; sessions by their start.
 */
import { COUNTED, LINE_PENCE, LINE_SEATS, type ReportDefinition, ratio, rowsOf } from "./report";

/** Catalog names joined to a class id (`k` is the grouped row); a class deleted since reads as nulls. */
const CLASS_NAMES = `
  LEFT JOIN classes cl ON cl.id = k.classId
  LEFT JOIN studios st ON st.id = cl.studio_id
  LEFT JOIN cities ci ON ci.id = st.city_id`;

export const popularCourses: ReportDefinition = {
  description:
    "Per class: bookings and seats in the range, and its customers split into new (their first booking of the class in the range was their first booking ever) and returning; with the class's studio and city",
  columns: ["classId", "className", "studioId", "studioName", "cityId", "cityName", "bookings", "seats", "customers", "newCustomers", "returningCustomers"],
  mainQuery(range) {
    return {
      sql: `WITH k AS (
              SELECT b.class_id AS classId, b.customer_id AS customerId, count(*) AS bookings, sum(${LINE_SEATS}) AS seats, min(b.confirmed_at) AS firstAt
              FROM bookings b
              WHERE b.confirmed_at >= ?1 AND b.confirmed_at < ?2 AND ${COUNTED}
              GROUP BY b.class_id, b.customer_id
            )
            SELECT k.classId, cl.name AS className, cl.studio_id AS studioId, st.name AS studioName, st.city_id AS cityId, ci.name AS cityName,
                   sum(k.bookings) AS bookings, sum(k.seats) AS seats, count(*) AS customers,
                   sum(CASE WHEN EXISTS (SELECT 1 FROM bookings p WHERE p.customer_id = k.customerId AND p.status = 'confirmed' AND p.confirmed_at < k.firstAt)
                       THEN 1 ELSE 0 END) AS returningCustomers
            FROM k ${CLASS_NAMES}
            GROUP BY k.classId
            ORDER BY bookings DESC, k.classId`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ customers: number; returningCustomers: number }>(db, this.mainQuery(range, options));
    return { data: rows.map(({ returningCustomers, ...row }) => ({ ...row, newCustomers: row.customers - returningCustomers, returningCustomers })) };
  },
};

export const geography: ReportDefinition = {
  description: "Per city and studio: bookings confirmed in the range, their seats and net revenue (pence, confirmed lines)",
  columns: ["cityId", "cityName", "studioId", "studioName", "bookings", "seats", "revenuePence"],
  mainQuery(range) {
    return {
      sql: `WITH k AS (
              SELECT cl.studio_id AS studioId, count(*) AS bookings, sum(${LINE_SEATS}) AS seats, sum(${LINE_PENCE}) AS revenuePence
              FROM bookings b LEFT JOIN classes cl ON cl.id = b.class_id
              WHERE b.confirmed_at >= ?1 AND b.confirmed_at < ?2 AND ${COUNTED}
              GROUP BY cl.studio_id
            )
            SELECT st.city_id AS cityId, ci.name AS cityName, k.studioId, st.name AS studioName, k.bookings, k.seats, k.revenuePence
            FROM k LEFT JOIN studios st ON st.id = k.studioId LEFT JOIN cities ci ON ci.id = st.city_id
            ORDER BY ci.name, st.name, k.studioId`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    return { data: await rowsOf(db, this.mainQuery(range, options)) };
  },
};

export const utilisation: ReportDefinition = {
  description:
    "Per class: the sessions that ran (started in the range and before now, not cancelled), their capacity, the seats booked on them (confirmed lines) and seats booked / capacity",
  columns: ["classId", "className", "studioId", "studioName", "sessions", "capacity", "seatsBooked", "utilisation"],
  mainQuery(range, options) {
    return {
      sql: `WITH k AS (
              SELECT s.class_id AS classId, count(*) AS sessions, sum(s.capacity) AS capacity,
                     sum((SELECT COALESCE(sum(bs.seats), 0) FROM booking_sessions bs WHERE bs.session_id = s.id AND bs.status = 'confirmed')) AS seatsBooked
              FROM class_sessions s
              WHERE s.starts_at >= ?1 AND s.starts_at < min(?2, ?3) AND s.status <> 'cancelled'
              GROUP BY s.class_id
            )
            SELECT k.classId, cl.name AS className, cl.studio_id AS studioId, st.name AS studioName, k.sessions, k.capacity, k.seatsBooked
            FROM k ${CLASS_NAMES}
            ORDER BY k.classId`,
      params: [range.startMs, range.endMs, options.nowMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ capacity: number; seatsBooked: number }>(db, this.mainQuery(range, options));
    return { data: rows.map((row) => ({ ...row, utilisation: ratio(row.seatsBooked, row.capacity) })) };
  },
};
