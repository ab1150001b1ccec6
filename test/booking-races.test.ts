/**
 * Race tests in the pretix style: real concurrent requests through the Worker's fetch handler,
 * all released at once, then the invariants checked against the session's Durable Object and
 * D1 (once the projection Queue has caught up: D1 is written after the answers). The control run
 * does the same with a naive read-then-write check and must oversell, proving these tests can see
 * a race at all.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, d1BookedSeats, doLines, dropInBookingBody, fullScheduleBookingBody, postBooking, projectionCaughtUp, singleBookingBody } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";

const REQUESTS = 200;
const CAPACITY = 12;
/** Mixed party sizes, 1–3 seats, fixed so the control sees exactly the same demand. */
const guestCounts = Array.from({ length: REQUESTS }, (_, i) => (i % 3) + 1);
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

type Response = Awaited<ReturnType<typeof postBooking>>;

/** The refusal codes a request may get when seats ran out under it. */
const CAPACITY_CODES = ["SESSION_FULL", "INSUFFICIENT_CAPACITY"];

function codesOf(responses: Response[]) {
  return responses.filter((response) => response.status !== 201).map((response) => `${response.status} ${response.json?.error?.code}`);
}

describe("concurrent single-session bookings", () => {
  it(`${REQUESTS} concurrent bookings of 1–3 seats never take more than ${CAPACITY} seats`, async () => {
    const { session } = await makeBookableSession({ capacity: CAPACITY, pricePence: 1000 });
    const responses = await Promise.all(guestCounts.map((guestCount) => postBooking(singleBookingBody(session.id, 1000, { guestCount }))));

    const accepted = responses.filter((response) => response.status === 201);
    const seatsSold = accepted.reduce((sum, response) => sum + response.json.booking.guestCount, 0);
    expect(seatsSold).toBeLessThanOrEqual(CAPACITY);
    // Demand is ~400 seats with plenty of 1-seat parties arriving after the session nearly fills.
    expect(seatsSold).toBe(CAPACITY);
    for (const code of codesOf(responses)) expect(CAPACITY_CODES.map((c) => `409 ${c}`)).toContain(code);

    expect(await availability(session.id)).toMatchObject({ capacity: CAPACITY, booked: CAPACITY, held: 0, availableSpots: 0, status: "full", isFull: true });

    // The DO's ledger is exactly what was acknowledged.
    const ledger = await doLines(session.id);
    expect(ledger.map((entry) => entry.bookingId).sort()).toEqual(accepted.map((response) => response.json.booking.id).sort());
    expect(ledger.every((entry) => entry.status === "confirmed")).toBe(true);
    // Once the outbox is sent and the projection written, D1 agrees with it line by line.
    expect(await projectionCaughtUp(session.id)).toEqual(ledger);
    expect(await d1BookedSeats(session.id)).toBe(CAPACITY);
  });

  it("CONTROL: the same demand against a naive read-then-insert check oversells", async () => {
    const naive = await naiveLedger();
    const sessionId = `control_${crypto.randomUUID()}`;
    const outcomes = await Promise.all(guestCounts.map((seats) => naive.book([sessionId], seats, CAPACITY)));
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(0);
    // The race is visible: far more than CAPACITY seats were "sold".
    expect(await naive.sold(sessionId)).toBeGreaterThan(CAPACITY);
  });

  it("resource limits hold under concurrency: 7 units at 2 a student admit 3 students of 30", async () => {
    const { session, resource } = await makeBookableSession({ capacity: 20, pricePence: 1000, resource: { quantity: 7, perStudent: 2 } });
    const responses = await Promise.all(Array.from({ length: 30 }, () => postBooking(singleBookingBody(session.id, 1000))));

    const accepted = responses.filter((response) => response.status === 201);
    expect(accepted.length).toBe(3);
    for (const response of responses.filter((r) => r.status !== 201)) {
      expect(response.status).toBe(409);
      expect(response.json.error).toMatchObject({ code: "RESOURCE_UNAVAILABLE", details: { resourceId: resource!.id, needed: 2 } });
      expect(response.json.error.details.available).toBeLessThan(2);
    }
    const live = await availability(session.id);
    expect(live).toMatchObject({ booked: 3, held: 0, availableSpots: 17 });
    expect(live.resources).toEqual([expect.objectContaining({ resourceId: resource!.id, available: 1 })]);
    const lines = await projectionCaughtUp(session.id);
    expect(lines.map((line) => line.bookingId).sort()).toEqual(accepted.map((response) => response.json.booking.id).sort());
    expect(await d1BookedSeats(session.id)).toBe(3);
  });

  it("CONTROL: the same 30 students against a naive check of units used overrun the 7 units", async () => {
    const naive = await naiveLedger();
    const sessionId = `control_${crypto.randomUUID()}`;
    // 2 units a student, 7 units: the naive check admits while used + 2 <= 7.
    await Promise.all(Array.from({ length: 30 }, () => naive.book([sessionId], 2, 7)));
    expect(await naive.sold(sessionId)).toBeGreaterThan(7);
  });
});

describe("concurrent FULL_SCHEDULE and DROP_IN bookings over the same sessions", () => {
  it("never oversells a session, never leaves a partial booking, and leaves no holds behind", async () => {
    const CAP = 5;
    const { pattern, sessions } = await makeSchedule({ sessions: 4, capacity: CAP, pricePence: 2000, fullSchedulePricePence: 7000 });
    const ids = sessions.map((session) => session.id);
    const subsets = [[ids[0]!], [ids[3]!], [ids[0]!, ids[1]!], [ids[1]!, ids[2]!], [ids[2]!, ids[3]!], [ids[0]!, ids[2]!, ids[3]!], [ids[1]!, ids[3]!], ids];

    // 60 requests: every third a full schedule, the rest drop-ins over various subsets; 1 or 2 seats.
    const requests = Array.from({ length: 60 }, (_, i) => {
      const guestCount = (i % 4) + 1 <= 3 ? 1 : 2;
      if (i % 3 === 0) return { sessionIds: ids, body: fullScheduleBookingBody(pattern.id, 7000, { guestCount }) };
      const subset = subsets[i % subsets.length]!;
      return { sessionIds: subset, body: dropInBookingBody(subset, 2000, { guestCount }) };
    });
    const responses = await Promise.all(requests.map((request) => postBooking(request.body)));

    const accepted = responses.flatMap((response, i) => (response.status === 201 ? [{ response, request: requests[i]! }] : []));
    expect(accepted.length).toBeGreaterThan(0);
    for (const [i, response] of responses.entries()) {
      if (response.status === 201) continue;
      expect(response.status, JSON.stringify(response.json)).toBe(409);
      expect(CAPACITY_CODES).toContain(response.json.error.code);
      expect(requests[i]!.sessionIds).toContain(response.json.error.details.sessionId);
    }

    // Each acknowledged booking has exactly the lines it asked for, all confirmed.
    for (const { response, request } of accepted) {
      const { booking } = response.json;
      expect(booking.lines.map((line: { sessionId: string }) => line.sessionId).sort()).toEqual([...request.sessionIds].sort());
      expect(booking.lines.every((line: { seats: number; status: string }) => line.status === "confirmed" && line.seats === booking.guestCount)).toBe(true);
    }

    for (const id of ids) {
      const live = await availability(id);
      const expected = accepted
        .filter(({ request }) => request.sessionIds.includes(id))
        .reduce((sum, { response }) => sum + response.json.booking.guestCount, 0);
      expect(live.booked, `session ${id}`).toBe(expected);
      expect(live.booked).toBeLessThanOrEqual(CAP);
      expect(live.held, `holds left behind in ${id}`).toBe(0);
      await projectionCaughtUp(id);
      expect(await d1BookedSeats(id)).toBe(expected);
    }

    // D1, booking by booking: all of its lines confirmed or none; only acknowledged bookings have any.
    const { results } = await env.DB.prepare(
      `SELECT bs.booking_id AS bookingId, count(*) AS lines, sum(bs.status = 'confirmed') AS confirmed, b.status AS status
       FROM booking_sessions bs JOIN bookings b ON b.id = bs.booking_id
       WHERE bs.booking_id IN (SELECT booking_id FROM booking_sessions WHERE session_id IN (?, ?, ?, ?))
       GROUP BY bs.booking_id, b.status`,
    )
      .bind(...ids)
      .all<{ bookingId: string; lines: number; confirmed: number; status: string }>();
    for (const row of results) expect(row.confirmed === 0 || row.confirmed === row.lines, JSON.stringify(row)).toBe(true);
    const confirmedInD1 = results.filter((row) => row.confirmed > 0);
    const acknowledged = new Map(accepted.map(({ response, request }) => [response.json.booking.id as string, request.sessionIds.length]));
    expect(confirmedInD1.map((row) => row.bookingId).sort()).toEqual([...acknowledged.keys()].sort());
    for (const row of confirmedInD1) {
      expect(row.lines).toBe(acknowledged.get(row.bookingId));
      expect(row.status).toBe("confirmed");
    }
  });

  it("CONTROL: the same demand booked session by session with a naive check oversells or leaves partial bookings", async () => {
    const naive = await naiveLedger();
    const ids = Array.from({ length: 4 }, () => `control_${crypto.randomUUID()}`);
    const subsets = [[ids[0]!], [ids[3]!], [ids[0]!, ids[1]!], [ids[1]!, ids[2]!], [ids[2]!, ids[3]!], [ids[0]!, ids[2]!, ids[3]!], [ids[1]!, ids[3]!], ids];
    const demand = Array.from({ length: 60 }, (_, i) => ({ sessionIds: i % 3 === 0 ? ids : subsets[i % subsets.length]!, seats: (i % 4) + 1 <= 3 ? 1 : 2 }));
    await Promise.all(demand.map(({ sessionIds, seats }) => naive.book(sessionIds, seats, 5)));
    const oversold = (await Promise.all(ids.map((id) => naive.sold(id)))).some((sold) => sold > 5);
    expect(oversold || (await naive.partialBookings()) > 0).toBe(true);
  });
});

/**
 * What the booking engine would be without one writer per session: for each session, read what is
 * sold, yield, then write. Used by the controls, which must see the race the real engine prevents.
 */
async function naiveLedger() {
  await env.DB.prepare(
    `CREATE TABLE IF NOT EXISTS race_control_lines (run_id TEXT NOT NULL, booking_id TEXT NOT NULL, session_id TEXT NOT NULL, seats INTEGER NOT NULL, wanted INTEGER NOT NULL)`,
  ).run();
  const runId = crypto.randomUUID();
  const sold = async (sessionId: string) =>
    (await env.DB.prepare(`SELECT coalesce(sum(seats), 0) AS seats FROM race_control_lines WHERE run_id = ? AND session_id = ?`).bind(runId, sessionId).first<{ seats: number }>())!
      .seats;
  return {
    sold,
    /** Books `seats` in each session in turn; stops at the first that looks full (no undo). */
    async book(sessionIds: string[], seats: number, capacity: number): Promise<boolean> {
      const bookingId = crypto.randomUUID();
      for (const sessionId of sessionIds) {
        if ((await sold(sessionId)) + seats > capacity) return false;
        await tick();
        await env.DB.prepare(`INSERT INTO race_control_lines (run_id, booking_id, session_id, seats, wanted) VALUES (?, ?, ?, ?, ?)`)
          .bind(runId, bookingId, sessionId, seats, sessionIds.length)
          .run();
      }
      return true;
    },
    /** Bookings that got some of their sessions but not all. */
    async partialBookings(): Promise<number> {
      const row = await env.DB.prepare(
        `SELECT count(*) AS n FROM (SELECT booking_id FROM race_control_lines WHERE run_id = ? GROUP BY booking_id HAVING count(*) < max(wanted))`,
      )
        .bind(runId)
        .first<{ n: number }>();
      return row!.n;
    },
  };
}
