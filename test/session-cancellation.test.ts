/**
 * A studio cancels a session (POST /api/v1/admin/sessions/{id}/cancel): every line in the
 * session's object cancelled (a course's and a drop-in's other sessions kept), refunds pro rata in
 * exact pence ("full", "policy", "none"), the hold let go, the waitlist closed, everyone told once
 * with the reason, D1 converging, the session refusing bookings, holds and joins afterwards; a
 * repeat answering the same report; who may call it and what input it refuses.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { getPayment, startPayment } from "../src/services/payments/payments";
import { d1Lines, doLines, dropInBookingBody, fullScheduleBookingBody, holdBody, postBooking, postHold, projectionCaughtUp, sessionStub, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeSchedule, makeSession } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";
import { openLive } from "./live-helpers";
import { grantRole, signIn } from "./sign-in-helpers";
import { cleanUp, createEndpoint, installReceiver, receiver } from "./webhooks-helpers";
import { acceptOffer, cancelBooking, currentOfferToken, d1Waitlist, entryOf, fullSession, join, joinBody } from "./waitlist-helpers";

const db = getDb(env.DB);
const PRICE = 2500;
const COURSE_PRICE = 8000;

const cancel = async (sessionId: string, body: unknown, token?: string) => call("POST", `/api/v1/admin/sessions/${sessionId}/cancel`, { token: token ?? (await tokenFor("admin")), body });
const mailbox = async (email: string) => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data as { subject: string; text: string }[];
const cancelMails = async (email: string) => (await mailbox(email)).filter((mail) => mail.subject.startsWith("Cancelled by the studio"));
const refundsOf = async (paymentId: string) =>
  (await env.DB.prepare(`SELECT id, amount_pence AS amountPence, status FROM refunds WHERE payment_id = ?`).bind(paymentId).all<{ id: string; amountPence: number; status: string }>()).results;
const sentCount = async (sessionId: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM booking_communications WHERE type = 'SESSION_CANCELLED' AND session_id = ?`).bind(sessionId).first<{ n: number }>())!.n;

/** Pays `amountPence` of a booking through the local provider's checkout (as test/payments-local.test.ts does). */
async function pay(bookingId: string, amountPence: number, email: string) {
  const started = await startPayment(env, {
    bookingId,
    amountPence,
    currency: "GBP",
    description: "test",
    email,
    expiresAt: Date.now() + 15 * 60_000,
    origin: "http://localhost",
  });
  const paid = await call("POST", `/api/v1/dev/checkout/${started.id}/pay`);
  expect(paid.status, paid.text).toBe(200);
  expect(paid.json.payment).toMatchObject({ status: "paid", paidPence: amountPence });
  return started.id;
}

async function book(body: { contact: { email: string } }) {
  const response = await postBooking(body);
  expect(response.status, response.text).toBe(201);
  return { id: response.json.booking.id as string, email: body.contact.email };
}

/**
 * Session 0 of a three-session course, filled (capacity 5): a single booking paid online, an
 * unpaid at-studio one, a course booking (paid), a drop-in over sessions 0 and 1 (paid) and a
 * hold; two people waiting. Session 1 keeps the course and the drop-in.
 */
async function busySession(policy?: { freeCancellationHours: number; lateCancellationFeePercent: number }) {
  const { klass, pattern, sessions } = await makeSchedule({ sessions: 3, capacity: 5, pricePence: PRICE, fullSchedulePricePence: COURSE_PRICE });
  if (policy) {
    await env.DB.prepare(`UPDATE classes SET free_cancellation_hours = ?, late_cancellation_fee_percent = ? WHERE id = ?`)
      .bind(policy.freeCancellationHours, policy.lateCancellationFeePercent, klass.id)
      .run();
  }
  const [target, other] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
  const paidSingle = await book(singleBookingBody(target.id, PRICE));
  const paidSinglePayment = await pay(paidSingle.id, PRICE, paidSingle.email);
  const unpaid = await book(singleBookingBody(target.id, PRICE));
  const course = await book(fullScheduleBookingBody(pattern.id, COURSE_PRICE));
  const coursePayment = await pay(course.id, COURSE_PRICE, course.email);
  const dropIn = await book(dropInBookingBody([target.id, other.id], PRICE));
  const dropInPayment = await pay(dropIn.id, 2 * PRICE, dropIn.email);
  const hold = await postHold(holdBody(target.id, 1));
  expect(hold.status, hold.text).toBe(201);
  const waiting = [joinBody(1), joinBody(1)];
  for (const body of waiting) expect((await join(target.id, body)).status).toBe(201);
  expect(await sessionStub(target.id).availability()).toMatchObject({ booked: 4, held: 1, availableSpots: 0, waitlistLength: 2 });
  return { klass, target, other, sessions, paidSingle, paidSinglePayment, unpaid, course, coursePayment, dropIn, dropInPayment, waiting };
}

afterEach(cleanUp);

describe("POST /api/v1/admin/sessions/{id}/cancel", () => {
  it("cancels every line here with full pro rata refunds, keeps the course's and drop-in's other sessions, closes the waitlist, tells everyone once", async () => {
    const s = await busySession();
    const reason = "The kiln has broken down";
    const first = await cancel(s.target.id, { reason, refund: "full" });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ sessionId: s.target.id, status: "cancelled", reason, refund: "full", waitlistClosed: 2, holdsReleased: 1, notified: 6 });
    const byId = Object.fromEntries(first.json.bookings.map((b: { bookingId: string }) => [b.bookingId, b]));
    expect(first.json.bookings).toHaveLength(4);
    expect(byId[s.paidSingle.id]).toEqual({ bookingId: s.paidSingle.id, seats: 1, refundDuePence: 2500, refundedPence: 2500, refundAtDeskPence: 0, bookingStillActive: false });
    expect(byId[s.unpaid.id]).toEqual({ bookingId: s.unpaid.id, seats: 1, refundDuePence: 0, refundedPence: 0, refundAtDeskPence: 0, bookingStillActive: false });
    // 8000 over three sessions is 2667 + 2667 + 2666; this session is the first: 8000 × 2667 / 8000.
    expect(byId[s.course.id]).toEqual({ bookingId: s.course.id, seats: 1, refundDuePence: 2667, refundedPence: 2667, refundAtDeskPence: 0, bookingStillActive: true });
    expect(byId[s.dropIn.id]).toEqual({ bookingId: s.dropIn.id, seats: 1, refundDuePence: 2500, refundedPence: 2500, refundAtDeskPence: 0, bookingStillActive: true });
    expect(await getPayment(db, s.paidSinglePayment)).toMatchObject({ status: "refunded", refundedPence: 2500 });
    expect(await getPayment(db, s.coursePayment)).toMatchObject({ status: "partially_refunded", refundedPence: 2667 });
    expect(await getPayment(db, s.dropInPayment)).toMatchObject({ status: "partially_refunded", refundedPence: 2500 });

    // The object: nothing booked or held, the line closed, the status cancelled.
    expect(await sessionStub(s.target.id).availability()).toMatchObject({ booked: 0, held: 0, status: "cancelled", waitlistLength: 0 });
    const entries = await sessionStub(s.target.id).waitlist();
    expect(entries.map((entry) => entry.status)).toEqual(["removed", "removed"]);

    // Everyone told, with the reason; the refund where there was one.
    const single = await eventually(async () => (await cancelMails(s.paidSingle.email))[0]);
    expect(single.text).toContain(reason);
    expect(single.text).toContain("A refund of £25.00");
    expect(single.text).toContain("Your booking (1 seat) is cancelled.");
    const unpaidMail = await eventually(async () => (await cancelMails(s.unpaid.email))[0]);
    expect(unpaidMail.text).not.toContain("refund");
    const courseMail = await eventually(async () => (await cancelMails(s.course.email))[0]);
    expect(courseMail.text).toContain("A refund of £26.67");
    expect(courseMail.text).toContain("the rest of your booking stands");
    await eventually(async () => (await cancelMails(s.dropIn.email))[0]);
    for (const waiting of s.waiting) {
      const mail = await eventually(async () => (await cancelMails(waiting.email))[0]);
      expect(mail.text).toContain(reason);
      expect(mail.text).toContain("waiting list is closed");
    }
    await eventually(async () => (await sentCount(s.target.id)) === 6);
    // Each message sent is an event too (its id derives from the request's, which is short enough for it).
    const sentEvents = async () =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE type = 'NOTIFICATION_SENT' AND session_id = ? AND json_extract(data, '$.kind') = 'SESSION_CANCELLED'`).bind(s.target.id).first<{ n: number }>())!.n;
    await eventually(async () => (await sentEvents()) === 6);
    await eventually(async () => (await d1Waitlist(s.target.id)).filter((entry) => entry.status === "removed").length === 2);

    // D1 converges: every line here cancelled, the other session's lines still confirmed, the session row cancelled.
    const lines = await projectionCaughtUp(s.target.id);
    expect(lines.map((line) => line.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(await d1Lines(s.other.id)).toEqual(expect.arrayContaining([expect.objectContaining({ bookingId: s.course.id, status: "confirmed" }), expect.objectContaining({ bookingId: s.dropIn.id, status: "confirmed" })]));
    expect((await doLines(s.sessions[2]!.id)).find((line) => line.bookingId === s.course.id)?.status).toBe("confirmed");
    const row = await env.DB.prepare(`SELECT status FROM class_sessions WHERE id = ?`).bind(s.target.id).first<{ status: string }>();
    expect(row?.status).toBe("cancelled");
    const statuses = await env.DB.prepare(`SELECT id, status FROM bookings WHERE id IN (?, ?, ?)`).bind(s.paidSingle.id, s.course.id, s.dropIn.id).all<{ id: string; status: string }>();
    expect(Object.fromEntries(statuses.results.map((b) => [b.id, b.status]))).toEqual({ [s.paidSingle.id]: "cancelled", [s.course.id]: "confirmed", [s.dropIn.id]: "confirmed" });
    // The change is an event (invariant 7), one for the session whatever the repeats.
    const event = await eventually(async () =>
      env.DB.prepare(`SELECT seats, amount_pence AS amountPence, code, data FROM events WHERE type = 'SESSION_CANCELLED' AND session_id = ?`).bind(s.target.id).first<{ seats: number; amountPence: number; code: string; data: string }>(),
    );
    expect(event).toMatchObject({ seats: 4, amountPence: 2500 + 2667 + 2500, code: "full" });
    expect(JSON.parse(event.data)).toMatchObject({ reason, bookings: 4, waitlistClosed: 2, holdsReleased: 1 });
    const admin = await call("GET", `/api/v1/admin/sessions/${s.target.id}`, { token: await tokenFor("staff") });
    expect(admin.json).toMatchObject({ status: "cancelled", seatsBooked: 0 });

    // The session refuses bookings, holds and joins.
    const refusedBooking = await postBooking(singleBookingBody(s.target.id, PRICE));
    expect(refusedBooking.status).toBe(409);
    expect(refusedBooking.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "cancelled" } });
    expect((await postHold(holdBody(s.target.id, 1))).json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE" });
    const refusedJoin = await join(s.target.id, joinBody(1));
    expect(refusedJoin.status).toBe(409);
    expect(refusedJoin.json.error.code).toBe("SESSION_NOT_BOOKABLE");

    // A repeat answers the same report and refunds and tells nothing again.
    const again = await cancel(s.target.id, { reason: "Another reason", refund: "none" });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    for (const payment of [s.paidSinglePayment, s.coursePayment, s.dropInPayment]) expect(await refundsOf(payment)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await sentCount(s.target.id)).toBe(6);
    expect(await cancelMails(s.paidSingle.email)).toHaveLength(1);
  });

  it('"policy" keeps the late fee inside the late window; "none" refunds nothing but cancels and tells everyone', async () => {
    const late = await busySession({ freeCancellationHours: 24 * 30, lateCancellationFeePercent: 50 });
    const policy = await cancel(late.target.id, { reason: "Flooded studio", refund: "policy" });
    expect(policy.status, policy.text).toBe(200);
    const refunds = Object.fromEntries(policy.json.bookings.map((b: { bookingId: string; refundedPence: number }) => [b.bookingId, b.refundedPence]));
    // Half of each line's share kept, the fee rounded down: 2500 → 1250, 2667 → 1334 (fee 1333).
    expect(refunds).toEqual({ [late.paidSingle.id]: 1250, [late.unpaid.id]: 0, [late.course.id]: 1334, [late.dropIn.id]: 1250 });
    expect(await getPayment(db, late.coursePayment)).toMatchObject({ refundedPence: 1334 });
    const mail = await eventually(async () => (await cancelMails(late.paidSingle.email))[0]);
    expect(mail.text).toContain("A refund of £12.50");

    const none = await busySession({ freeCancellationHours: 24 * 30, lateCancellationFeePercent: 50 });
    const nothing = await cancel(none.target.id, { reason: "Instructor ill", refund: "none" });
    expect(nothing.status).toBe(200);
    expect(nothing.json.bookings.map((b: { refundedPence: number }) => b.refundedPence)).toEqual([0, 0, 0, 0]);
    expect(nothing.json).toMatchObject({ waitlistClosed: 2, notified: 6 });
    expect(await refundsOf(none.paidSinglePayment)).toEqual([]);
    const told = await eventually(async () => (await cancelMails(none.paidSingle.email))[0]);
    expect(told.text).toContain("Instructor ill");
    expect(told.text).not.toContain("refund");
    expect(await sessionStub(none.target.id).availability()).toMatchObject({ booked: 0, status: "cancelled" });
  });

  it("three cancels at once: one decision, every refund made once, everyone told once", async () => {
    const { session } = await makeBookableSession({ pricePence: PRICE, capacity: 4 });
    const paid = await book(singleBookingBody(session.id, PRICE));
    const payment = await pay(paid.id, PRICE, paid.email);
    const spans: { start: number; end: number }[] = [];
    const answers = await Promise.all(
      (["full", "policy", "none"] as const).map(async (refund) => {
        const start = Date.now();
        const answer = await cancel(session.id, { reason: `Reason ${refund}`, refund });
        spans.push({ start, end: Date.now() });
        return answer;
      }),
    );
    // The control: the three requests were in flight together.
    expect(Math.max(...spans.map((span) => span.start))).toBeLessThan(Math.min(...spans.map((span) => span.end)));
    for (const answer of answers) expect(answer.status, answer.text).toBe(200);
    const [first, ...rest] = answers.map((answer) => answer.json);
    for (const other of rest) expect(other).toEqual(first);
    // Whichever decision came first ("policy" refunds in full here: the class has no late fee).
    const refunds = await refundsOf(payment);
    if (first.refund === "none") expect(refunds).toEqual([]);
    else expect(refunds).toEqual([expect.objectContaining({ amountPence: PRICE, status: "succeeded" })]);
    expect(await getPayment(db, payment)).toMatchObject({ refundedPence: first.bookings[0].refundedPence });
    await eventually(async () => (await sentCount(session.id)) === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await sentCount(session.id)).toBe(1);
  });

  it("lets go of a hold kept for an online payment and closes its checkout; live subscribers see the session cancelled", async () => {
    const { session } = await makeBookableSession({ capacity: 3 });
    const hold = await postHold(holdBody(session.id, 2));
    expect(hold.status).toBe(201);
    // The hold as the online booking flow keeps it for a booking still paying (its booking id on the hold).
    const bookingId = `bkg_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}-${session.id}`;
    await runInDurableObject(sessionStub(session.id), (_instance, state) => {
      state.storage.sql.exec(`UPDATE reservations SET booking_id = ? WHERE id = ?`, bookingId, hold.json.holdId);
    });
    const checkout = await startPayment(env, { bookingId, amountPence: 5000, currency: "GBP", description: "test", email: uniqueEmail(), expiresAt: Date.now() + 15 * 60_000, origin: "http://localhost" });
    const { feed, snapshot } = await openLive(session.id);
    expect(snapshot).toMatchObject({ status: "open", availableSpots: 1 });

    const cancelled = await cancel(session.id, { reason: "Heating failure", refund: "full" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ bookings: [], holdsReleased: 1, waitlistClosed: 0, notified: 0 });
    expect(await getPayment(db, checkout.id)).toMatchObject({ status: "failed", closedReason: "cancelled", paidPence: 0 });
    const message = await feed.nextCapacity();
    expect(message).toMatchObject({ type: "capacity", sessionId: session.id, status: "cancelled", availableSpots: 3 });
    expect(message.version).toBeGreaterThan(snapshot.version);
    feed.socket.close(1000, "done");
  });

  it("refuses a plan made before a booking landed (SEATS_CHANGED), and a cancel racing bookings leaves no confirmed line", async () => {
    // The interleaving itself, step by step in the object: read, a booking lands, write with the old plan.
    const { session, klass } = await makeBookableSession({ capacity: 20, pricePence: PRICE });
    const stub = sessionStub(session.id);
    const before = await stub.cancellationState();
    expect(before).toEqual({ record: null, lines: [] });
    const landed = await book(singleBookingBody(session.id, PRICE));
    const snapshot = { sessionId: session.id, capacity: 20, startsAt: session.startsAt.getTime(), cancelled: true, configVersion: Date.now(), resources: [] };
    const stale = await stub.cancelSession({ reason: "x", refund: "none", snapshot, plan: [], event: { classId: klass.id, studioId: null, cityId: null, by: null } });
    expect(stale).toMatchObject({ ok: false, code: "SEATS_CHANGED", details: { bookingIds: [landed.id] } });
    expect(await stub.availability()).toMatchObject({ booked: 1, status: "open" });

    // Real parallel requests, bookings spread over the cancellation's run: every booking is either
    // refused or cancelled with the session, never left standing. The control: bookings landed on
    // both sides of it (some confirmed then cancelled, some refused), so the test saw the race.
    const racing = await makeBookableSession({ capacity: 40, pricePence: PRICE });
    const [cancelled, ...answers] = await Promise.all([
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 120));
        return cancel(racing.session.id, { reason: "Race", refund: "full" });
      })(),
      ...Array.from({ length: 24 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 15));
        return postBooking(singleBookingBody(racing.session.id, PRICE));
      }),
    ]);
    expect(cancelled.status, cancelled.text).toBe(200);
    const reported = new Set(cancelled.json.bookings.map((b: { bookingId: string }) => b.bookingId));
    expect(reported.size, "no booking landed before the cancellation").toBeGreaterThan(0);
    expect(answers.some((answer) => answer.status !== 201), "no booking came after the cancellation").toBe(true);
    for (const answer of answers) {
      if (answer.status === 201) expect(reported.has(answer.json.booking.id), `booking ${answer.json.booking.id} confirmed but not cancelled`).toBe(true);
      else expect(answer.json.error.code).toBe("SESSION_NOT_BOOKABLE");
    }
    expect(answers.filter((answer) => answer.status === 201).length).toBe(reported.size);
    expect((await doLines(racing.session.id)).filter((line) => line.status === "confirmed")).toEqual([]);
    expect(await sessionStub(racing.session.id).availability()).toMatchObject({ booked: 0, held: 0, status: "cancelled" });
  });

  it("sends session.cancelled to webhook subscribers, naming the refund mode and the role, not who asked", async () => {
    const r = receiver();
    installReceiver(r);
    const endpoint = await createEndpoint(r.url, ["session.cancelled"]);
    const { session, klass } = await makeBookableSession({ pricePence: PRICE });
    await book(singleBookingBody(session.id, PRICE));
    expect((await cancel(session.id, { reason: "Snow", refund: "policy" })).status).toBe(200);
    const bodies = () =>
      r.received.map((m) => new Webhook(endpoint.secret).verify(m.body, m.headers) as { type: string; data: Record<string, unknown> }).filter((b) => b.data.sessionId === session.id);
    const [delivered] = await eventually(() => (bodies().length > 0 ? bodies() : null));
    expect(delivered).toMatchObject({ type: "session.cancelled", data: { sessionId: session.id, classId: klass.id, seats: 1, amountPence: 0, code: "policy", reason: "Snow", by: "admin" } });
    expect(JSON.stringify(delivered)).not.toContain("@");
  });

  it("leaves money paid at the desk to be handed back there: due, not refunded online, and the customer told so", async () => {
    const { session } = await makeBookableSession({ pricePence: PRICE });
    const desk = await book(singleBookingBody(session.id, PRICE));
    const marked = await call("POST", `/api/v1/admin/bookings/${desk.id}/mark-paid`, { token: await tokenFor("staff") });
    expect(marked.status, marked.text).toBe(201);
    const cancelled = await cancel(session.id, { reason: "Roof leak", refund: "full" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.bookings).toEqual([{ bookingId: desk.id, seats: 1, refundDuePence: 2500, refundedPence: 0, refundAtDeskPence: 2500, bookingStillActive: false }]);
    const { results } = await env.DB.prepare(`SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.booking_id = ?`).bind(desk.id).all();
    expect(results).toEqual([]);
    const mail = await eventually(async () => (await cancelMails(desk.email))[0]);
    expect(mail.text).toContain("The studio will give you back £25.00 of what you paid at the studio.");
    expect(mail.text).not.toContain("on its way to the card");
  });

  it("withdraws an open waitlist offer: its hold is let go, its link no longer books, the party is told", async () => {
    const { session, bookings, pricePence } = await fullSession([1]);
    const offered = joinBody(1);
    const joined = await join(session.id, offered);
    expect(joined.status).toBe(201);
    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    const entryId = joined.json.entry.id;
    await eventually(async () => (await entryOf(session.id, entryId)).status === "offered");
    const token = await currentOfferToken(session.id, entryId);
    expect(await sessionStub(session.id).availability()).toMatchObject({ held: 1, booked: 0 });

    const cancelled = await cancel(session.id, { reason: "Studio closed", refund: "full" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ bookings: [], waitlistClosed: 1, notified: 1 });
    expect(await entryOf(session.id, entryId)).toMatchObject({ status: "removed" });
    expect(await sessionStub(session.id).availability()).toMatchObject({ held: 0, booked: 0, status: "cancelled" });
    const accepted = await acceptOffer(token, pricePence);
    expect(accepted.status).toBe(409);
    const mail = await eventually(async () => (await cancelMails(offered.email))[0]);
    expect(mail.text).toContain("Studio closed");
  });

  it("a session with nothing booked is cancelled too; an unknown session is 404, an ended one 409", async () => {
    const { session } = await makeBookableSession();
    const empty = await cancel(session.id, { reason: "No instructor", refund: "full" });
    expect(empty.status).toBe(200);
    expect(empty.json).toMatchObject({ bookings: [], waitlistClosed: 0, notified: 0, status: "cancelled" });
    expect((await postBooking(singleBookingBody(session.id, PRICE))).json.error.code).toBe("SESSION_NOT_BOOKABLE");

    const unknown = await cancel("ses_nope", { reason: "x", refund: "full" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");

    const { klass } = await makeBookableSession();
    const past = await makeSession(klass.id, { startsAt: new Date(Date.now() - 3 * 3_600_000), endsAt: new Date(Date.now() - 2 * 3_600_000) });
    const ended = await cancel(past.id, { reason: "Too late", refund: "full" });
    expect(ended.status).toBe(409);
    expect(ended.json.error).toMatchObject({ code: "SESSION_NOT_BOOKABLE", details: { reason: "ended" } });
  });

  it("the console's session page offers the cancellation until the session is cancelled", async () => {
    const email = uniqueEmail("console-admin");
    await grantRole(email, "admin");
    const { cookie } = await signIn(email);
    const { session } = await makeBookableSession();
    const before = await call("GET", `/admin/sessions/${session.id}`, { headers: { Cookie: cookie } });
    expect(before.status).toBe(200);
    expect(before.text).toContain(`data-url="/api/v1/admin/sessions/${session.id}/cancel"`);
    expect(before.text).toContain('<textarea id="cancel-reason" name="reason" required="" maxlength="500"');
    // The form's request, with the session cookie (CSRF: this service's origin).
    const cancelled = await call("POST", `/api/v1/admin/sessions/${session.id}/cancel`, { headers: { Cookie: cookie, Origin: "http://localhost" }, body: { reason: "Closed", refund: "full" } });
    expect(cancelled.status).toBe(200);
    const after = await call("GET", `/admin/sessions/${session.id}`, { headers: { Cookie: cookie } });
    expect(after.text).toContain("<dd>cancelled</dd>");
    expect(after.text).not.toContain("session-cancel");
  });

  it("only admins may cancel; bad input is 400 with the field's path", async () => {
    const { session } = await makeBookableSession();
    const body = { reason: "x", refund: "full" };
    expect((await call("POST", `/api/v1/admin/sessions/${session.id}/cancel`, { body })).status).toBe(401);
    expect((await cancel(session.id, body, await tokenFor("customer", uniqueEmail()))).status).toBe(403);
    expect((await cancel(session.id, body, await tokenFor("staff"))).status).toBe(403);

    for (const [bad, path] of [
      [{ refund: "full" }, "reason"],
      [{ reason: "   ", refund: "full" }, "reason"],
      [{ reason: "x".repeat(501), refund: "full" }, "reason"],
      [{ reason: "x" }, "refund"],
      [{ reason: "x", refund: "half" }, "refund"],
    ] as const) {
      const response = await cancel(session.id, bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    }
    expect((await call("POST", `/api/v1/admin/sessions/${session.id}/cancel`, { token: await tokenFor("admin"), rawBody: "{" })).status).toBe(400);
    // Nothing was cancelled by any of these.
    expect(await sessionStub(session.id).availability()).not.toMatchObject({ status: "cancelled" });
  });
});
