/**
 * Course reports: which classes sell (and to new or returning customers), where the bookings and
 * money come from, and how full the sessions that ran were. Bookings are in the range by their
 * confirmation time and count while confirmed; sessions by their start; money by when it moved
 * (src/db/revenue.ts).
 */
import { moneyMoved } from "../../db/revenue";
import { BY_CUSTOMER, BY_TIME, COUNTED, LINE_PENCE, LINE_SEATS, type ReportDefinition, ratio, rowsOf } from "./report";

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
    // A customer is new to a class when their first booking of it in the range is their first
    // booking ever, i.e. when their first booking ever lies in the range and is of that class: so
    // the classes' figures come from the range (time index), and who is new from each customer's
    // first booking (per-customer index), looked up again by its time to read its class.
    return {
      sql: `WITH k AS (
              SELECT b.class_id AS classId, count(*) AS bookings, sum(${LINE_SEATS}) AS seats, count(DISTINCT b.customer_id) AS customers
              FROM ${BY_TIME}
              WHERE ${COUNTED} AND b.confirmed_at >= ?1 AND b.confirmed_at < ?2
              GROUP BY b.class_id
            ),
            firsts AS (
              SELECT b.customer_id AS customerId, min(b.confirmed_at) AS firstAt
              FROM ${BY_CUSTOMER}
              WHERE ${COUNTED}
              GROUP BY b.customer_id
              HAVING min(b.confirmed_at) >= ?1 AND min(b.confirmed_at) < ?2
            ),
            fresh AS (
              SELECT b.class_id AS classId, count(DISTINCT f.customerId) AS newCustomers
              FROM firsts f JOIN ${BY_CUSTOMER} ON ${COUNTED} AND b.customer_id = f.customerId AND b.confirmed_at = f.firstAt
              GROUP BY b.class_id
            )
            SELECT k.classId, cl.name AS className, cl.studio_id AS studioId, st.name AS studioName, st.city_id AS cityId, ci.name AS cityName,
                   k.bookings, k.seats, k.customers, COALESCE(fresh.newCustomers, 0) AS newCustomers
            FROM k LEFT JOIN fresh ON fresh.classId = k.classId ${CLASS_NAMES}
            ORDER BY k.bookings DESC, k.classId`,
      params: [range.startMs, range.endMs],
    };
  },
  async run(db, range, options) {
    const rows = await rowsOf<{ customers: number; newCustomers: number }>(db, this.mainQuery(range, options));
    return { data: rows.map((row) => ({ ...row, returningCustomers: row.customers - row.newCustomers })) };
  },
};

export const geography: ReportDefinition = {
  description:
    "Per city and studio: bookings confirmed in the range, their seats and booked value (bookedValuePence: confirmed lines of bookings still confirmed); and revenue, by when the money moved (src/db/revenue.ts): receivedPence (payments received in the range), refundedPence (refunds made in the range) and revenuePence (received − refunded). Money of a booking not in D1 (not confirmed yet, or never: a late payment given back) is under no studio",
  columns: ["cityId", "cityName", "studioId", "studioName", "bookings", "seats", "bookedValuePence", "receivedPence", "refundedPence", "revenuePence"],
  mainQuery(range) {
    return {
      // Per class first (200 groups, not a lookup of each booking's class), then per studio. Money
      // comes from the payments of the range, each with its booking's class.
      sql: `WITH money AS (${moneyMoved("?1", "?2")}),
            perClass AS (
              SELECT classId, sum(bookings) AS bookings, sum(seats) AS seats, sum(bookedValuePence) AS bookedValuePence,
                     sum(receivedPence) AS receivedPence, sum(refundedPence) AS refundedPence
              FROM (
                SELECT b.class_id AS classId, count(*) AS bookings, sum(${LINE_SEATS}) AS seats, sum(${LINE_PENCE}) AS bookedValuePence, 0 AS receivedPence, 0 AS refundedPence
                FROM ${BY_TIME}
                WHERE ${COUNTED} AND b.confirmed_at >= ?1 AND b.confirmed_at < ?2
                GROUP BY b.class_id
                UNION ALL
                SELECT m.classId, 0, 0, 0, sum(m.receivedPence), sum(m.refundedPence)
                FROM money m
                GROUP BY m.classId
              )
              GROUP BY classId
            ),
            k AS (
              SELECT cl.studio_id AS studioId, sum(pc.bookings) AS bookings, sum(pc.seats) AS seats, sum(pc.bookedValuePence) AS bookedValuePence,
                     sum(pc.receivedPence) AS receivedPence, sum(pc.refundedPence) AS refundedPence
              FROM perClass pc LEFT JOIN classes cl ON cl.id = pc.classId
              GROUP BY cl.studio_id
            )
            SELECT st.city_id AS cityId, ci.name AS cityName, k.studioId, st.name AS studioName, k.bookings, k.seats, k.bookedValuePence,
                   k.receivedPence, k.refundedPence, k.receivedPence - k.refundedPence AS revenuePence
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
