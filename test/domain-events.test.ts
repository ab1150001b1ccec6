/**
 * The events each booking flow emits, end to end: request → audit trail → events Queue → consumer
 * → D1 `events` (and `demand_signals`). Field by field, since rollups compute from them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { postBooking, postHold, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeClass, makeRole, makeSchedule, makeSession } from "./fixtures";
import { call, eventually } from "./helpers";

type EventRow = Record<string, unknown> & { type: string; data: string | null };

/** Events of some types about an email, once `count` of them have been written. */
async function eventsFor(email: string, types: string[], count = types.length): Promise<EventRow[]> {
  return eventually(async () => {
    const { results } = await env.DB.prepare(
      `SELECT * FROM events WHERE email = ? AND type IN (SELECT value FROM json_each(?)) ORDER BY type, occurred_at`,
    )
      .bind(email, JSON.stringify(types))
      .all<EventRow>();
    return results.length >= count ? results : undefined;
  });
}

const dataOf = (row: EventRow | undefined) => JSON.parse(row?.data ?? "null");

describe("a confirmed booking", () => {
  it("emits BOOKING_CONFIRMED once, with seat-sessions, the total and where it was sold", async () => {
    const { klass, sessions } = await makeSchedule({ sessions: 3, capacity: 10, pricePence: 1500 });
    const studio = await env.DB.prepare("SELECT city_id FROM studios WHERE id = ?").bind(klass.studioId).first<{ city_id: string }>();
    const email = uniqueEmail("events");
    const body = {
      registrationType: "DROP_IN",
      sessionIds: sessions.slice(0, 2).map((session) => session.id),
      guestCount: 2,
      contact: { email, firstName: "Eve", lastName: "Nts" },
      totalAmountPence: 1500 * 2 * 2,
      currency: "GBP",
      source: "website",
    };
    const response = await postBooking(body, { ip: "203.0.113.7" });
    expect(response.status).toBe(201);
    const booking = response.json.booking;

    const [confirmed] = await eventsFor(email, ["BOOKING_CONFIRMED"]);
    expect(confirmed).toMatchObject({
      id: `evt_booking_confirmed_${booking.id}`,
      booking_id: booking.id,
      customer_id: booking.customer.id,
      class_id: klass.id,
      studio_id: klass.studioId,
      city_id: studio!.city_id,
      session_id: null,
      seats: 4,
      amount_pence: 6000,
      source: "website",
      client_key: "203.0.113.7",
      code: null,
    });
    expect(dataOf(confirmed)).toMatchObject({
      attempt: "booking",
      registrationType: "DROP_IN",
      guestCount: 2,
      sessionIds: body.sessionIds,
      currency: "GBP",
      subtotalPence: 6000,
      discountPence: 0,
      linePricesPence: [3000, 3000],
      holdId: null,
      firstStartsAt: Date.parse(sessions[0]!.startsAt.toISOString()),
    });
  });
});

describe("a hold", () => {
  it("emits HOLD_CREATED and CHECKOUT_STARTED, and the checkout becomes a demand signal", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 5, pricePence: 1000 });
    const email = uniqueEmail("hold");
    const response = await postHold({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 3, contact: { email, firstName: "H", lastName: "Old" } });
    expect(response.status).toBe(201);
    const { holdId, expiresAt } = response.json;

    const [checkout, created] = await eventsFor(email, ["HOLD_CREATED", "CHECKOUT_STARTED"]);
    expect(created).toMatchObject({ id: `evt_hold_created_${holdId}`, session_id: session.id, class_id: klass.id, seats: 3, booking_id: null });
    expect(dataOf(created)).toMatchObject({ attempt: "hold", holdId, expiresAt, guestCount: 3, sessionIds: [session.id] });
    expect(checkout).toMatchObject({ id: `evt_checkout_started_${holdId}`, session_id: session.id, class_id: klass.id, seats: 3 });
    expect(dataOf(checkout)).toMatchObject({ origin: "hold", holdId });

    const signal = await eventually(() => env.DB.prepare("SELECT * FROM demand_signals WHERE id = ?").bind(checkout!.id).first());
    expect(signal).toMatchObject({ signal_type: "CHECKOUT_STARTED", course_id: klass.id, user_id: checkout!.customer_id, city_id: checkout!.city_id });
  });
});

describe("refusals", () => {
  it("BOOKING_REJECTED carries the code and the amount offered; only supply refusals are PURCHASE_BLOCKED", async () => {
    const { session } = await makeBookableSession({ capacity: 1, pricePence: 2500 });
    const email = uniqueEmail("mismatch");
    const mismatch = await postBooking(singleBookingBody(session.id, 2500, { totalAmountPence: 2400, contact: { email, firstName: "A", lastName: "B" } }));
    expect(mismatch.status).toBe(422);
    const [rejected] = await eventsFor(email, ["BOOKING_REJECTED"]);
    expect(rejected).toMatchObject({ code: "AMOUNT_MISMATCH", amount_pence: 2400, session_id: session.id, seats: 1 });
    expect(dataOf(rejected)).toMatchObject({ attempt: "booking", expectedAmountPence: 2500, details: { expectedPence: 2500, givenPence: 2400 } });

    expect((await postBooking(singleBookingBody(session.id, 2500))).status).toBe(201);
    const fullEmail = uniqueEmail("full");
    const full = await postBooking(singleBookingBody(session.id, 2500, { contact: { email: fullEmail, firstName: "F", lastName: "Ull" } }));
    expect(full.status).toBe(409);
    const [fullRejected, blocked] = await eventsFor(fullEmail, ["BOOKING_REJECTED", "PURCHASE_BLOCKED"]);
    expect(fullRejected).toMatchObject({ type: "BOOKING_REJECTED", code: "SESSION_FULL" });
    expect(blocked).toMatchObject({ type: "PURCHASE_BLOCKED", code: "SESSION_FULL", session_id: session.id });
    const signal = await eventually(() => env.DB.prepare("SELECT * FROM demand_signals WHERE id = ?").bind(blocked!.id).first());
    expect(signal).toMatchObject({ signal_type: "PURCHASE_BLOCKED", reason: "SESSION_FULL" });

    // The mismatch was not lost demand: no PURCHASE_BLOCKED for it.
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE email = ? AND type = 'PURCHASE_BLOCKED'").bind(email).first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("a second booking by one email is BOOKING_REJECTED and DUPLICATE_ATTEMPT naming the first", async () => {
    const { session } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const email = uniqueEmail("dup");
    const contact = { email, firstName: "D", lastName: "Up" };
    const first = await postBooking(singleBookingBody(session.id, 1000, { contact }));
    expect((await postBooking(singleBookingBody(session.id, 1000, { contact }))).status).toBe(409);
    const [duplicate] = await eventsFor(email, ["DUPLICATE_ATTEMPT"]);
    expect(duplicate).toMatchObject({ code: "DUPLICATE_BOOKING", session_id: session.id });
    expect(dataOf(duplicate)).toMatchObject({ existingBookingId: first.json.booking.id, existing: "booking", attempt: "booking" });
    const [rejected] = await eventsFor(email, ["BOOKING_REJECTED"]);
    expect(rejected).toMatchObject({ code: "DUPLICATE_BOOKING" });
  });

  it("NO_TRAINER on a hold is a PURCHASE_BLOCKED demand signal too", async () => {
    const klass = await makeClass({ requiredRoleId: (await makeRole()).id });
    const session = await makeSession(klass.id, { instructorId: null });
    const email = uniqueEmail("untaught");
    const response = await postHold({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email, firstName: "N", lastName: "T" } });
    expect(response.json.error.code).toBe("NO_TRAINER");
    const [blocked] = await eventsFor(email, ["PURCHASE_BLOCKED"]);
    const signal = await eventually(() => env.DB.prepare("SELECT * FROM demand_signals WHERE id = ?").bind(blocked!.id).first<Record<string, unknown>>());
    expect(signal).toMatchObject({ signal_type: "PURCHASE_BLOCKED", reason: "NO_TRAINER", course_id: klass.id, user_id: blocked!.customer_id });
    expect(JSON.parse(String(signal.metadata))).toMatchObject({ attempt: "hold", sessionIds: [session.id], details: { canRegisterInterest: true } });
  });
});

describe("a cancellation", () => {
  it("emits BOOKING_CANCELLED once, with the minutes since confirmation", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 4, pricePence: 1200 });
    const email = uniqueEmail("cancel");
    const created = await postBooking(singleBookingBody(session.id, 1200, { guestCount: 2, contact: { email, firstName: "C", lastName: "X" } }));
    const { booking, manageToken } = created.json;
    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`)).status).toBe(200);
    expect((await call("POST", `/api/v1/bookings/${booking.id}/cancel?token=${manageToken}`)).status).toBe(200);

    const [cancelled] = await eventsFor(email, ["BOOKING_CANCELLED"]);
    expect(cancelled).toMatchObject({
      id: `evt_booking_cancelled_${booking.id}`,
      booking_id: booking.id,
      class_id: klass.id,
      studio_id: klass.studioId,
      session_id: session.id,
      seats: 2,
      amount_pence: 2400,
    });
    const data = dataOf(cancelled);
    expect(data).toMatchObject({ attempt: "cancellation", minutesSinceConfirmation: 0, confirmedAt: Date.parse(booking.confirmedAt), actorRole: "manage-token" });
    expect(data.minutesBeforeStart).toBeGreaterThan(60);
    // The repeat changed nothing and emitted nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM events WHERE booking_id = ? AND type = 'BOOKING_CANCELLED'").bind(booking.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });
});
