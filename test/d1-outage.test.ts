/**
 * A D1 write outage (DESIGN invariant 2): with every D1 table refusing writes (a real trigger per
 * table and statement kind), bookings of one session, a drop-in over two sessions, a full-schedule
 * booking, holds, cancellations and bookings with a promo code all succeed, since the objects are
 * the authority and nothing on their way writes to D1. Once the triggers are dropped, the projection converges to
 * exactly what was acknowledged: nothing missing, nothing extra.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, dropInBookingBody, fullScheduleBookingBody, holdBody, postBooking, postHold, singleBookingBody, withD1WritesRefused } from "./booking-helpers";
import { makeBookableSession, makePromo, makeSchedule } from "./fixtures";
import { call, eventuallyPasses } from "./helpers";

async function d1Booking(id: string) {
  return env.DB.prepare(`SELECT id, status FROM bookings WHERE id = ?`).bind(id).first<{ id: string; status: string }>();
}

async function d1LinesOf(bookingId: string) {
  const { results } = await env.DB.prepare(`SELECT session_id AS sessionId, seats, status FROM booking_sessions WHERE booking_id = ? ORDER BY session_id`)
    .bind(bookingId)
    .all<{ sessionId: string; seats: number; status: string }>();
  return results;
}

describe("a D1 write outage", () => {
  it("takes bookings, drop-ins, full schedules, holds and cancellations, then D1 converges to exactly what was acknowledged", { timeout: 90_000 }, async () => {
    const single = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const schedule = await makeSchedule({ sessions: 3, capacity: 5, pricePence: 900, fullSchedulePricePence: 2400 });
    const [first, second] = schedule.sessions;

    const statuses: number[] = [];
    const acknowledged = await withD1WritesRefused(async () => {
      // The control: the outage is real, a write straight to D1 is refused.
      await expect(env.DB.prepare(`UPDATE bookings SET notes = 'x' WHERE 0`).run()).resolves.toBeDefined();
      await expect(env.DB.prepare(`INSERT INTO cities (id, name, country_code) VALUES ('cty_outage', 'Nowhere', 'GB')`).run()).rejects.toThrow(/refuses writes/);

      const booked = await postBooking(singleBookingBody(single.session.id, 1000, { guestCount: 2 }));
      const toCancel = await postBooking(singleBookingBody(single.session.id, 1000));
      const dropIn = await postBooking(dropInBookingBody([first!.id, second!.id], 900));
      const course = await postBooking(fullScheduleBookingBody(schedule.pattern.id, 2400));
      const hold = await postHold(holdBody(single.session.id, 1));
      const full = await postBooking(singleBookingBody(single.session.id, 1000, { guestCount: 5 }));
      statuses.push(booked.status, toCancel.status, dropIn.status, course.status, hold.status, full.status);
      expect([booked.status, toCancel.status, dropIn.status, course.status, hold.status]).toEqual([201, 201, 201, 201, 201]);
      expect(full.json.error.code).toBe("INSUFFICIENT_CAPACITY");

      // Read and cancel right away: D1 has none of it, the session objects answer.
      const read = await call("GET", `/api/v1/bookings/${toCancel.json.booking.id}`, { headers: { "X-Manage-Token": toCancel.json.manageToken } });
      statuses.push(read.status);
      expect(read.status).toBe(200);
      const cancelled = await call("POST", `/api/v1/bookings/${toCancel.json.booking.id}/cancel`, { headers: { "X-Manage-Token": toCancel.json.manageToken } });
      statuses.push(cancelled.status);
      expect(cancelled.status).toBe(200);
      expect(cancelled.json.status).toBe("cancelled");
      expect(await availability(single.session.id)).toMatchObject({ booked: 2, held: 1 });
      expect(await d1Booking(booked.json.booking.id)).toBeNull();
      return { booked, toCancel, dropIn, course };
    });
    expect(statuses.filter((status) => status >= 500)).toEqual([]);

    // After the outage: exactly the acknowledged bookings and lines, in their last state.
    await eventuallyPasses(async () => {
      expect(await d1LinesOf(acknowledged.booked.json.booking.id)).toEqual([{ sessionId: single.session.id, seats: 2, status: "confirmed" }]);
      expect(await d1LinesOf(acknowledged.toCancel.json.booking.id)).toEqual([{ sessionId: single.session.id, seats: 1, status: "cancelled" }]);
      expect((await d1LinesOf(acknowledged.dropIn.json.booking.id)).map((line) => line.status)).toEqual(["confirmed", "confirmed"]);
      expect(await d1LinesOf(acknowledged.course.json.booking.id)).toHaveLength(3);
      expect((await d1Booking(acknowledged.toCancel.json.booking.id))?.status).toBe("cancelled");
    }, 60_000, 500);
    const sessionIds = [single.session.id, ...schedule.sessions.map((session) => session.id)];
    const { results } = await env.DB.prepare(
      `SELECT session_id AS sessionId, count(*) AS n, sum(CASE WHEN status = 'confirmed' THEN seats ELSE 0 END) AS seats FROM booking_sessions
       WHERE session_id IN (${sessionIds.map(() => "?").join(", ")}) GROUP BY session_id ORDER BY session_id`,
    )
      .bind(...sessionIds)
      .all<{ sessionId: string; n: number; seats: number }>();
    const bySession = Object.fromEntries(results.map((row) => [row.sessionId, row]));
    // Nothing extra: the refused booking left no line, and each session has only the acknowledged ones.
    expect(bySession[single.session.id]).toMatchObject({ n: 2, seats: 2 });
    expect(bySession[first!.id]).toMatchObject({ n: 2, seats: 2 });
    expect(bySession[second!.id]).toMatchObject({ n: 2, seats: 2 });
    expect(bySession[schedule.sessions[2]!.id]).toMatchObject({ n: 1, seats: 1 });
    // Every attempt of the outage reached the audit trail too.
    await eventuallyPasses(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM booking_attempts WHERE booking_id = ?`).bind(acknowledged.toCancel.json.booking.id).first<{ n: number }>();
      expect(row!.n).toBe(2);
    }, 30_000, 500);
  });

  it("books with a promo code too: the code's object decides its uses, and D1 hears of them afterwards", async () => {
    const { session } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const promo = await makePromo({ kind: "percent", value: 10, maxUses: 2 });
    // A use made before the code's object existed, as D1 has it: the object starts from it (a read, which D1 still serves).
    const earlier = `bkg_earlier_${crypto.randomUUID()}`;
    await env.DB.prepare(`INSERT INTO promo_redemptions (booking_id, promo_code_id, email) VALUES (?, ?, ?)`).bind(earlier, promo.id, "earlier@example.test").run();
    const [first, second] = await withD1WritesRefused(async () => [
      await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 900 })),
      await postBooking(singleBookingBody(session.id, 1000, { promoCode: promo.code, totalAmountPence: 900 })),
    ]);
    expect(first!.status).toBe(201);
    // The limit counts the earlier use: the second is refused as used up, not answered with a 5xx.
    expect(second!.status).toBe(422);
    expect(second!.json.error.code).toBe("PROMO_INVALID");
    expect(await availability(session.id)).toMatchObject({ booked: 1, held: 0 });
    await eventuallyPasses(async () => {
      const { results } = await env.DB.prepare(`SELECT booking_id AS bookingId, status FROM promo_redemptions WHERE promo_code_id = ?`).bind(promo.id).all();
      expect(results).toHaveLength(2);
      expect(results).toEqual(expect.arrayContaining([{ bookingId: earlier, status: "redeemed" }, { bookingId: first!.json.booking.id, status: "redeemed" }]));
    }, 30_000, 500);
  });

});
