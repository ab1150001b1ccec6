/**
 * bookings.net_pence / net_seats, which the reports read from their covering indexes: SQLite
 * triggers (migration 0008) keep them equal to the sums over the booking's confirmed lines,
 * through the projection's own statements (redelivered and stale changes included) and through
 * any other write to the lines.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type LineChange, lineStatements } from "../src/db/booking-projection";
import { testProjection } from "./booking-helpers";
import { makeClass, makeSession } from "./fixtures";
import { unique } from "./helpers";

let classId: string;
let sessionIds: string[];

beforeAll(async () => {
  classId = (await makeClass()).id;
  sessionIds = [(await makeSession(classId)).id, (await makeSession(classId)).id];
});

async function project(changes: LineChange[]) {
  await env.DB.batch(lineStatements(env.DB, changes));
}

async function net(bookingId: string) {
  return env.DB.prepare(
    `SELECT b.net_pence AS netPence, b.net_seats AS netSeats, b.status,
            (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = b.id AND status = 'confirmed') AS linePence,
            (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = b.id AND status = 'confirmed') AS lineSeats
     FROM bookings b WHERE b.id = ?`,
  )
    .bind(bookingId)
    .first<{ netPence: number; netSeats: number; status: string; linePence: number; lineSeats: number }>();
}

/** A two-session booking of `seats` at 1500 p a line, as its sessions' objects deliver it. */
function twoLineBooking(seats: number) {
  const booking = testProjection({ id: `bkg_net_${unique()}`, customerId: `cus_net_${unique()}`, classId, guestCount: seats, linePricePence: 1500 });
  const change = (sessionId: string, status: "confirmed" | "cancelled", version: number): LineChange => ({ booking, sessionId, seats, status, version, at: Date.now() });
  return { booking, change };
}

describe("net price and seats on the booking header", () => {
  it("follow the confirmed lines as the projection writes them, and redelivery or a stale change moves nothing", async () => {
    const { booking, change } = twoLineBooking(2);
    const [first, second] = sessionIds as [string, string];
    await project([change(first, "confirmed", 1), change(second, "confirmed", 1)]);
    expect(await net(booking.id)).toEqual({ netPence: 3000, netSeats: 4, status: "confirmed", linePence: 3000, lineSeats: 4 });

    // The same batch again (a Queue redelivery): the figures are recomputed, not added to.
    await project([change(first, "confirmed", 1), change(second, "confirmed", 1)]);
    expect(await net(booking.id)).toMatchObject({ netPence: 3000, netSeats: 4 });

    await project([change(second, "cancelled", 2)]);
    expect(await net(booking.id)).toEqual({ netPence: 1500, netSeats: 2, status: "confirmed", linePence: 1500, lineSeats: 2 });

    // An older change of that line arriving late is refused by the line's version guard: still one line.
    await project([change(second, "confirmed", 1)]);
    expect(await net(booking.id)).toMatchObject({ netPence: 1500, netSeats: 2 });

    await project([change(first, "cancelled", 2)]);
    expect(await net(booking.id)).toEqual({ netPence: 0, netSeats: 0, status: "cancelled", linePence: 0, lineSeats: 0 });
  });

  it("follow lines changed or deleted by any other write (a seat removed, a price corrected, a line deleted)", async () => {
    const { booking, change } = twoLineBooking(3);
    const [first, second] = sessionIds as [string, string];
    await project([change(first, "confirmed", 1), change(second, "confirmed", 1)]);
    await env.DB.prepare("UPDATE booking_sessions SET seats = 2 WHERE booking_id = ?").bind(booking.id).run();
    expect(await net(booking.id)).toMatchObject({ netPence: 3000, netSeats: 4 });
    await env.DB.prepare("UPDATE booking_sessions SET price_pence = 1000 WHERE booking_id = ? AND session_id = ?").bind(booking.id, first).run();
    expect(await net(booking.id)).toMatchObject({ netPence: 2500, netSeats: 4 });
    await env.DB.prepare("DELETE FROM booking_sessions WHERE booking_id = ? AND session_id = ?").bind(booking.id, second).run();
    expect(await net(booking.id)).toMatchObject({ netPence: 1000, netSeats: 2, linePence: 1000, lineSeats: 2 });
  });

  it("are right when a header arrives after its lines (foreign keys deferred in one batch)", async () => {
    const id = `bkg_net_${unique()}`;
    const customerId = `cus_net_${unique()}`;
    await env.DB.batch([
      env.DB.prepare("PRAGMA defer_foreign_keys = on"),
      env.DB.prepare("INSERT INTO booking_sessions (booking_id, session_id, seats, status, price_pence, version) VALUES (?, ?, 2, 'confirmed', 1800, 1)").bind(id, sessionIds[0]),
      env.DB.prepare("INSERT INTO customers (id, email, first_name, last_name) VALUES (?, ?, 'Late', 'Header')").bind(customerId, `${customerId}@example.test`),
      env.DB.prepare(
        `INSERT INTO bookings (id, customer_id, registration_type, status, guest_count, class_id, subtotal_pence, discount_pence, total_amount_pence, manage_token_hash, version, confirmed_at)
         VALUES (?, ?, 'SINGLE_SESSION', 'confirmed', 2, ?, 1800, 0, 1800, 'x', 1, ?)`,
      ).bind(id, customerId, classId, Date.now()),
    ]);
    expect(await net(id)).toMatchObject({ netPence: 1800, netSeats: 2 });
  });

  it("hold for every booking in the test database, whichever way it was written", async () => {
    const { results } = await env.DB.prepare(
      `SELECT count(*) AS bookings,
              sum(net_pence <> (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = b.id AND status = 'confirmed')
               OR net_seats <> (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = b.id AND status = 'confirmed')) AS wrong
       FROM bookings b`,
    ).all<{ bookings: number; wrong: number }>();
    expect(results[0]!.bookings).toBeGreaterThanOrEqual(2);
    expect(results[0]!.wrong).toBe(0);
  });
});
