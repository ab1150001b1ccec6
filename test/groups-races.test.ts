/**
 * All or nothing under concurrency: two groups of 6 racing for 10 seats with real parallel
 * requests. Exactly one gets its 6 seats, the other none, and the session never shows more than 10
 * booked. Controls prove the test sees a race: the two requests are in flight at once, the same
 * race with groups of 5 seats both, and the same 12 people booked seat by seat (what a group
 * booking must not be) leave a group short.
 */
import { describe, expect, it } from "vitest";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { env } from "cloudflare:workers";
import { call, tokenFor } from "./helpers";
import { doAvailability, groupBody, postGroup } from "./groups-helpers";

const CAPACITY = 10;
const ROUNDS = 4;

/** Runs the requests at once, sampling the session's object meanwhile; returns answers, in-flight windows and the most seats ever seen booked. */
async function race(sessionId: string, requests: (() => Promise<{ status: number; json: { error?: { code: string } } }>)[]) {
  let running = true;
  let mostBooked = 0;
  const sampler = (async () => {
    while (running) {
      mostBooked = Math.max(mostBooked, (await doAvailability(sessionId)).booked);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  const windows: { start: number; end: number }[] = [];
  const answers = await Promise.all(
    requests.map(async (send) => {
      const start = performance.now();
      const answer = await send();
      windows.push({ start, end: performance.now() });
      return answer;
    }),
  );
  running = false;
  await sampler;
  mostBooked = Math.max(mostBooked, (await doAvailability(sessionId)).booked);
  return { answers, windows, mostBooked };
}

const overlapped = (windows: { start: number; end: number }[]) => windows.every((a) => windows.every((b) => a.start < b.end && b.start < a.end));

describe("two groups racing for the last seats", () => {
  it(`groups of 6 for ${CAPACITY} seats: exactly one succeeds, never more than ${CAPACITY} booked (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { session, klass } = await makeBookableSession({ capacity: CAPACITY });
      const { answers, windows, mostBooked } = await race(session.id, [0, 1].map(() => () => postGroup(groupBody(klass.id, session.id, 6))));
      // Control: both requests were in flight at the same time.
      expect(overlapped(windows)).toBe(true);
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([201, 409]);
      expect(["INSUFFICIENT_CAPACITY", "SESSION_FULL"]).toContain(answers.find((answer) => answer.status === 409)!.json.error!.code);
      expect(mostBooked).toBeLessThanOrEqual(CAPACITY);
      expect(await doAvailability(session.id)).toMatchObject({ booked: 6, held: 0, availableSpots: 4 });
    }
  });

  it("CONTROL: the same race with groups of 5 seats both", async () => {
    const { session, klass } = await makeBookableSession({ capacity: CAPACITY });
    const { answers, windows } = await race(session.id, [0, 1].map(() => () => postGroup(groupBody(klass.id, session.id, 5))));
    expect(overlapped(windows)).toBe(true);
    expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
    expect(await doAvailability(session.id)).toMatchObject({ booked: CAPACITY, availableSpots: 0 });
  });

  it("CONTROL: the same 12 people booked seat by seat in parallel leave a group short of seats", async () => {
    const { session } = await makeBookableSession({ capacity: CAPACITY, pricePence: 2500 });
    const token = await tokenFor("staff");
    const groups = ["a", "b"];
    const seat = (group: string) => () =>
      postBooking(singleBookingBody(session.id, 2500, { contact: { email: uniqueEmail(`single-${group}`), firstName: "Solo", lastName: group } }), { token });
    const { answers } = await race(session.id, groups.flatMap((group) => Array.from({ length: 6 }, () => seat(group))));
    const seated = groups.map((_, index) => answers.slice(index * 6, index * 6 + 6).filter((answer) => answer.status === 201).length);
    expect(seated[0]! + seated[1]!).toBe(CAPACITY);
    // Some group got part of its seats: exactly what one N-seat booking per group prevents.
    expect(seated.some((count) => count > 0 && count < 6)).toBe(true);
  });

  it("two removals from one group booking at once never give back more seats than names go", async () => {
    const { session, klass } = await makeBookableSession({ capacity: CAPACITY });
    const created = await postGroup(groupBody(klass.id, session.id, 5));
    const token = await tokenFor("staff");
    const [, second, , fourth] = created.json.participants;
    const answers = await Promise.all(
      [second, fourth].map((person: { attendeeId: string }) => call("DELETE", `/api/v1/admin/bookings/groups/${created.json.group.id}/participants/${person.attendeeId}`, { token })),
    );
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.json.error.code).toBe("SEATS_CHANGED");
    const removed = answers.filter((answer) => answer.status === 200).length;
    expect(removed).toBeGreaterThan(0);
    expect(await doAvailability(session.id)).toMatchObject({ booked: 5 - removed });
    const detail = await call("GET", `/api/v1/admin/bookings/groups/${created.json.group.id}`, { token });
    expect(detail.json.participants).toHaveLength(5 - removed);
    const rows = await env.DB.prepare(`SELECT count(*) AS n FROM booking_attendees WHERE booking_id = ?`).bind(created.json.bookings[0].id).first<{ n: number }>();
    expect(rows?.n).toBe(5 - removed);
  });
});
