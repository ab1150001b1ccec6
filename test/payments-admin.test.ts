/**
 * The desk and the console's refunds (issue 13): POST /admin/bookings/{id}/refunds (full, partial,
 * the limit at its boundary, racing refunds for the last pounds with a control, who and why, the
 * customer told once), POST /admin/bookings/{id}/mark-paid (a desk payment, its 409s, refunded as
 * money handed back), GET /admin/bookings/{id}/payments, roles and bad input.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { bookings, refunds } from "../src/db/schema";
import { when } from "../src/domain/notification-templates";
import { parseConfig } from "../src/config";
import { markPaidAtDesk, refundBooking } from "../src/services/booking-payments";
import { paymentProviderNamed } from "../src/services/payments/factory";
import { startPayment } from "../src/services/payments/payments";
import { refundablePence } from "../src/services/payments/refunds";
import { notifyRefund, refundNotificationId } from "../src/services/refund-notifications";
import { makeBookableSession, makePromo, makeSchedule } from "./fixtures";
import { dropInBookingBody, postBooking, singleBookingBody } from "./booking-helpers";
import { call, eventually, tokenFor, unique } from "./helpers";
import { bookedAndPaidOnline, bookedClass, payOnline } from "./payments-helpers";

const db = getDb(env.DB);

const refund = (bookingId: string, body: unknown, token: string, headers: Record<string, string> = {}) =>
  call("POST", `/api/v1/admin/bookings/${bookingId}/refunds`, { token, body, headers });
const markPaid = (bookingId: string, body: unknown, token: string) => call("POST", `/api/v1/admin/bookings/${bookingId}/mark-paid`, { token, body });

/** bookings.payment_status as D1's triggers keep it, once the projection has the booking. */
const d1PaymentStatus = (bookingId: string) =>
  eventually(async () => (await db.select({ status: bookings.paymentStatus }).from(bookings).where(eq(bookings.id, bookingId)).get())?.status);

/** Messages in the dev mailbox to `email` whose subject says refund. */
async function refundMessages(email: string) {
  const box = await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
  return (box.json.data as { subject: string; text: string }[]).filter((message) => message.subject.startsWith("Refund of"));
}

describe("POST /api/v1/admin/bookings/{id}/refunds", () => {
  it("refunds in parts, records who and why, moves paymentStatus paid → partially_refunded → refunded, and stops at exactly what was paid", async () => {
    const { bookingId, paymentId } = await bookedAndPaidOnline(2500);
    const email = `ana-${unique()}@example.test`;
    const staff = await tokenFor("staff", email);
    expect(await d1PaymentStatus(bookingId)).toBe("paid");

    const first = await refund(bookingId, { amountPence: 1000, reason: "Kiln broke mid-class" }, staff);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      refund: { paymentId, amountPence: 1000, reason: "Kiln broke mid-class", requestedBy: `staff:${email}`, status: "succeeded" },
      payment: { id: paymentId, paidPence: 2500, refundedPence: 1000, status: "partially_refunded" },
      booking: { id: bookingId, paymentStatus: "partially_refunded" },
    });
    expect(first.json.refunds).toEqual([first.json.refund]);
    expect(await d1PaymentStatus(bookingId)).toBe("partially_refunded");

    // One penny more than is left: 422, and nothing reserved or refunded by it.
    const over = await refund(bookingId, { amountPence: 1501, reason: "too much" }, staff);
    expect(over.status).toBe(422);
    expect(over.json.error).toMatchObject({ code: "REFUND_EXCEEDS_PAID", details: { refundablePence: 1500, paidPence: 2500, refundedPence: 1000 } });

    // Exactly what is left: refunded in full.
    const rest = await refund(bookingId, { amountPence: 1500, reason: "Class cancelled" }, await tokenFor("admin"));
    expect(rest.status).toBe(201);
    expect(rest.json).toMatchObject({ payment: { refundedPence: 2500, status: "refunded" }, booking: { paymentStatus: "refunded" }, refund: { requestedBy: expect.stringMatching(/^admin:/) } });
    expect(await d1PaymentStatus(bookingId)).toBe("refunded");
    const penny = await refund(bookingId, { amountPence: 1, reason: "one more" }, staff);
    expect(penny.status).toBe(422);
    expect(penny.json.error.details.refundablePence).toBe(0);

    const rows = await db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(rows.map((row) => [row.amountPence, row.reason, row.status]).sort()).toEqual([
      [1000, "Kiln broke mid-class", "succeeded"],
      [1500, "Class cancelled", "succeeded"],
    ]);
  });

  it("tells the customer each refund once, with amount, reason, class, booking id and the studio-local time", async () => {
    const { bookingId, email, klass, session } = await bookedAndPaidOnline(3000);
    const staff = await tokenFor("staff");
    const made = await refund(bookingId, { amountPence: 1250, reason: "Late start" }, staff);
    expect(made.status).toBe(201);
    const [message] = await eventually(async () => {
      const found = await refundMessages(email);
      return found.length > 0 ? found : undefined;
    });
    expect(message!.subject).toContain("Refund of £12.50");
    expect(message!.subject).toContain(klass.name);
    expect(message!.text).toContain("Reason: Late start");
    expect(message!.text).toContain(`reference ${bookingId}`);
    expect(message!.text).toContain(when(session.startsAt.getTime(), "Europe/London"));
    expect(message!.text).toContain("Refunded so far: £12.50 of £30.00 paid.");

    // The same refund reported again (a retry) sends nothing new: the request id is the refund's.
    const communication = await env.DB.prepare("SELECT count(*) AS n FROM booking_communications WHERE id = ?").bind(refundNotificationId(made.json.refund.id)).first<{ n: number }>();
    expect(communication!.n).toBe(1);
    await notifyRefund(env, db, { bookingId, refund: made.json.refund });
    // A second refund's message arrives after the repeat was consumed; the first is still there once.
    expect((await refund(bookingId, { amountPence: 100, reason: "Sorry again" }, staff)).status).toBe(201);
    const both = await eventually(async () => {
      const found = await refundMessages(email);
      return found.length >= 2 ? found : undefined;
    });
    expect(both.filter((found) => found.subject.startsWith("Refund of £12.50"))).toHaveLength(1);
    expect(both.filter((found) => found.subject.startsWith("Refund of £1.00"))).toHaveLength(1);
  });

  it("lets only one of two parallel refunds take the last pounds (control: two that fit both succeed, and an unguarded check would pass both)", async () => {
    const { bookingId, paymentId } = await bookedAndPaidOnline(2500);
    const staff = await tokenFor("staff");
    expect((await refund(bookingId, { amountPence: 1000, reason: "first part" }, staff)).status).toBe(201);
    // Control for the unguarded path: read concurrently, both see the £15 that is left, so a check without the reservation lets both through.
    expect(await Promise.all([refundablePence(db, paymentId), refundablePence(db, paymentId)])).toEqual([1500, 1500]);

    const racing = await Promise.all([refund(bookingId, { amountPence: 1500, reason: "race a" }, staff), refund(bookingId, { amountPence: 1500, reason: "race b" }, staff)]);
    expect(racing.map((response) => response.status).sort()).toEqual([201, 422]);
    expect(racing.find((response) => response.status === 422)!.json.error.code).toBe("REFUND_EXCEEDS_PAID");
    const rows = await db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(rows.filter((row) => row.status !== "failed").reduce((sum, row) => sum + row.amountPence, 0)).toBe(2500);

    // Control: the same parallel requests for amounts that fit both succeed, so the refusal above is the guard, not the requests.
    const control = await bookedAndPaidOnline(2500);
    const both = await Promise.all([refund(control.bookingId, { amountPence: 1200, reason: "part a" }, staff), refund(control.bookingId, { amountPence: 1300, reason: "part b" }, staff)]);
    expect(both.map((response) => response.status)).toEqual([201, 201]);
    expect(await d1PaymentStatus(control.bookingId)).toBe("refunded");
  });

  it("refunds once for one Idempotency-Key: the retry replays the first answer", async () => {
    const { bookingId, paymentId } = await bookedAndPaidOnline(2500);
    const staff = await tokenFor("staff");
    const key = `refund-${unique()}`;
    const first = await refund(bookingId, { amountPence: 700, reason: "Retry me" }, staff, { "Idempotency-Key": key });
    const again = await refund(bookingId, { amountPence: 700, reason: "Retry me" }, staff, { "Idempotency-Key": key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.refund.id).toBe(first.json.refund.id);
    // The refund's id derives from the key, so a retry that takes over a failed attempt makes the same refund.
    expect(first.json.refund.id).toMatch(/^rfd_[0-9a-f]{32}$/);
    const rows = await db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(rows).toHaveLength(1);
    // The service under one seed twice, as a take-over runs it: the same refund.
    const keyed = { bookingId, amountPence: 300, reason: "taken over", requestedBy: "staff:x@example.test", seed: unique().repeat(4) };
    const made = await refundBooking(env, db, keyed);
    expect(made.refund.id).toBe(`rfd_${keyed.seed}`);
    expect((await refundBooking(env, db, keyed)).refund).toEqual(made.refund);
    expect(await refundablePence(db, paymentId)).toBe(2500 - 700 - 300);
    const reused = await refund(bookingId, { amountPence: 800, reason: "Retry me" }, staff, { "Idempotency-Key": key });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("answers 409 NOTHING_TO_REFUND for a booking that received no money, 404 for an unknown booking or another booking's payment", async () => {
    const staff = await tokenFor("staff");
    const unpaid = await bookedClass(2500);
    const nothing = await refund(unpaid.bookingId, { amountPence: 100, reason: "goodwill" }, staff);
    expect(nothing.status).toBe(409);
    expect(nothing.json.error).toMatchObject({ code: "NOTHING_TO_REFUND", details: { bookingId: unpaid.bookingId, paymentStatus: "unpaid" } });
    expect((await refund(`bkg_nope_${unique()}`, { amountPence: 100, reason: "x" }, staff)).status).toBe(404);
    const other = await bookedAndPaidOnline(2500);
    const wrong = await refund(unpaid.bookingId, { amountPence: 100, reason: "x", paymentId: other.paymentId }, staff);
    expect(wrong.status).toBe(404);
    expect(await refundablePence(db, other.paymentId)).toBe(2500);
  });

  it("splits a refund over several paid payments newest first, or takes the one named", async () => {
    const { bookingId, paymentId: original, email } = await bookedAndPaidOnline(2500);
    // A move's price difference: a second payment for the same booking.
    const { paymentId: difference } = await payOnline(bookingId, 800, email, `move:${bookingId}`);
    const staff = await tokenFor("staff");
    const split = await refund(bookingId, { amountPence: 1000, reason: "Moved back" }, staff);
    expect(split.status).toBe(201);
    expect(split.json.refunds.map((made: { paymentId: string; amountPence: number }) => [made.paymentId, made.amountPence])).toEqual([
      [difference, 800],
      [original, 200],
    ]);
    expect(split.json.booking.paymentStatus).toBe("partially_refunded");
    const over = await refund(bookingId, { amountPence: 2301, reason: "all" }, staff);
    expect(over.status).toBe(422);
    expect(over.json.error.details.refundablePence).toBe(2300);
    const named = await refund(bookingId, { amountPence: 300, reason: "named", paymentId: original }, staff);
    expect(named.json).toMatchObject({ refund: { paymentId: original, amountPence: 300 }, payment: { refundedPence: 500 } });

    // Under one key's seed (a retry taking over a failed attempt), the split's parts are found again, not made twice.
    const keyed = { bookingId, amountPence: 1500, reason: "keyed split", requestedBy: "staff:x@example.test", seed: unique().repeat(4) };
    const once = await refundBooking(env, db, keyed);
    const twice = await refundBooking(env, db, keyed);
    expect(twice.refunds.map((made) => made.id).sort()).toEqual(once.refunds.map((made) => made.id).sort());
    expect(once.refunds.reduce((sum, made) => sum + made.amountPence, 0)).toBe(1500);
    expect(await refundablePence(db, original)).toBe(500);
  });

  it("needs a staff or admin token, and refuses bad input with 400 and field paths", async () => {
    const { bookingId, paymentId } = await bookedAndPaidOnline(2500);
    const body = { amountPence: 100, reason: "x" };
    expect((await call("POST", `/api/v1/admin/bookings/${bookingId}/refunds`, { body })).status).toBe(401);
    const customer = await refund(bookingId, body, await tokenFor("customer"));
    expect(customer.status).toBe(403);
    expect(customer.json.error.code).toBe("FORBIDDEN");

    const staff = await tokenFor("staff");
    const cases: [unknown, string][] = [
      [{ amountPence: 0, reason: "x" }, "amountPence"],
      [{ amountPence: -5, reason: "x" }, "amountPence"],
      [{ amountPence: 12.5, reason: "x" }, "amountPence"],
      [{ amountPence: "100", reason: "x" }, "amountPence"],
      [{ amountPence: 100, reason: "   " }, "reason"],
      [{ amountPence: 100, reason: "r".repeat(501) }, "reason"],
      [{ amountPence: 100 }, "reason"],
      [{ amountPence: 100, reason: "x", paymentId: "" }, "paymentId"],
    ];
    for (const [bad, path] of cases) {
      const response = await refund(bookingId, bad, staff);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    }
    const malformed = await call("POST", `/api/v1/admin/bookings/${bookingId}/refunds`, { token: staff, rawBody: "{not json" });
    expect(malformed.status).toBe(400);
    expect(await refundablePence(db, paymentId)).toBe(2500);
  });
});

describe("POST /api/v1/admin/bookings/{id}/mark-paid", () => {
  it("records a desk payment of the booking's total once, the booking becomes paid, and a refund of it is money handed back", async () => {
    const { bookingId, email } = await bookedClass(1800, { guestCount: 2 });
    const staffEmail = `desk-${unique()}@example.test`;
    const staff = await tokenFor("staff", staffEmail);
    expect(await d1PaymentStatus(bookingId)).toBe("unpaid");

    const paid = await markPaid(bookingId, { method: "cash", note: "receipt 42" }, staff);
    expect(paid.status).toBe(201);
    expect(paid.json).toMatchObject({ bookingId, provider: "desk", status: "paid", amountPence: 3600, paidPence: 3600, refundedPence: 0, checkoutUrl: null });
    expect(paid.json.description).toBe(`Paid at the desk by cash, recorded by staff:${staffEmail}: receipt 42`);
    expect(await d1PaymentStatus(bookingId)).toBe("paid");

    const twice = await markPaid(bookingId, {}, staff);
    expect(twice.status).toBe(409);
    expect(twice.json.error).toMatchObject({ code: "ALREADY_PAID", details: { paymentId: paid.json.id } });

    const back = await refund(bookingId, { amountPence: 1800, reason: "One of two could not come" }, staff);
    expect(back.status).toBe(201);
    expect(back.json.refund).toMatchObject({ paymentId: paid.json.id, status: "succeeded", providerRef: `desk_${back.json.refund.id}` });
    expect(back.json.booking.paymentStatus).toBe("partially_refunded");
    const [message] = await eventually(async () => {
      const found = await refundMessages(email);
      return found.length > 0 ? found : undefined;
    });
    expect(message!.text).toContain("handed back to you at the studio");

    const listed = await call("GET", `/api/v1/admin/bookings/${bookingId}/payments`, { token: staff });
    expect(listed.status).toBe(200);
    expect(listed.json.payments).toEqual([expect.objectContaining({ id: paid.json.id, provider: "desk", refundedPence: 1800, status: "partially_refunded" })]);
    expect(listed.json.refunds).toEqual([expect.objectContaining({ id: back.json.refund.id, amountPence: 1800, requestedBy: `staff:${staffEmail}` })]);
  });

  it("makes one desk payment when two staff mark it at once", async () => {
    const { bookingId } = await bookedClass(2000);
    const staff = await tokenFor("staff");
    const both = await Promise.all([markPaid(bookingId, { method: "card" }, staff), markPaid(bookingId, { method: "cash" }, staff)]);
    expect(both.map((response) => response.status).sort()).toEqual([201, 409]);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM payments WHERE booking_id = ?").bind(bookingId).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it("refuses what is not owed at the desk: paid online (ALREADY_PAID), free, cancelled or paying online (PAYMENT_NOT_DUE), unknown (404)", async () => {
    const staff = await tokenFor("staff");
    const online = await bookedAndPaidOnline(2500);
    const paidOnline = await markPaid(online.bookingId, {}, staff);
    expect(paidOnline.status).toBe(409);
    expect(paidOnline.json.error).toMatchObject({ code: "ALREADY_PAID", details: { paymentStatus: "paid" } });

    // Free: a whole-price promo brings the total to 0, so nothing is owed.
    const { session } = await makeBookableSession({ pricePence: 1500 });
    const promo = await makePromo({ value: 100 });
    const free = await postBooking(singleBookingBody(session.id, 1500, { promoCode: promo.code, totalAmountPence: 0 }));
    expect(free.status, free.text).toBe(201);
    const freeAnswer = await markPaid(free.json.booking.id, {}, staff);
    expect(freeAnswer.status).toBe(409);
    expect(freeAnswer.json.error).toMatchObject({ code: "PAYMENT_NOT_DUE", details: { paymentStatus: "not_required" } });

    const cancelled = await bookedClass(2500);
    expect((await call("POST", `/api/v1/bookings/${cancelled.bookingId}/cancel?token=${cancelled.manageToken}`)).status).toBe(200);
    const cancelledAnswer = await markPaid(cancelled.bookingId, {}, staff);
    expect(cancelledAnswer.status).toBe(409);
    expect(cancelledAnswer.json.error).toMatchObject({ code: "PAYMENT_NOT_DUE", details: { status: "cancelled" } });

    const pending = await bookedClass(2500);
    await startPayment(env, { bookingId: pending.bookingId, amountPence: 2500, currency: "GBP", description: "x", email: pending.email, expiresAt: Date.now() + 600_000, origin: "http://localhost" });
    const pendingAnswer = await markPaid(pending.bookingId, {}, staff);
    expect(pendingAnswer.status).toBe(409);
    expect(pendingAnswer.json.error).toMatchObject({ code: "PAYMENT_NOT_DUE", details: { paymentStatus: "pending" } });

    expect((await markPaid(`bkg_nope_${unique()}`, {}, staff)).status).toBe(404);
  });

  it("replays one Idempotency-Key, and a retry that takes over a failed attempt finds its own desk payment", async () => {
    const { bookingId } = await bookedClass(2000);
    const staff = await tokenFor("staff");
    const key = `desk-${unique()}`;
    const send = () => call("POST", `/api/v1/admin/bookings/${bookingId}/mark-paid`, { token: staff, body: { method: "card" }, headers: { "Idempotency-Key": key } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.json.id).toBe(first.json.id);

    // The service under the same seed, as a take-over runs it: the same row, not ALREADY_PAID.
    const other = await bookedClass(2000);
    const input = { bookingId: other.bookingId, method: "cash" as const, recordedBy: "staff:x@example.test", seed: unique().repeat(4) };
    const made = await markPaidAtDesk(env, db, input);
    expect(made.id).toBe(`pay_${input.seed}`);
    expect(await markPaidAtDesk(env, db, input)).toEqual(made);
    await expect(markPaidAtDesk(env, db, { ...input, seed: unique().repeat(4) })).rejects.toMatchObject({ code: "ALREADY_PAID" });
  });

  it("charges what the confirmed sessions cost: a session the studio cancelled is not paid for", async () => {
    const { klass, sessions } = await makeSchedule({ sessions: 2, pricePence: 1500 });
    const booked = await postBooking(dropInBookingBody([sessions[0]!.id, sessions[1]!.id], 1500));
    expect(booked.status).toBe(201);
    const bookingId = booked.json.booking.id as string;
    const admin = await tokenFor("admin");
    const cancelled = await call("POST", `/api/v1/admin/sessions/${sessions[1]!.id}/cancel`, { token: admin, body: { reason: "Instructor ill", refund: "none" } });
    expect(cancelled.status, cancelled.text).toBe(200);
    // The desk reads D1's lines: wait for the projection to carry the cancelled line.
    await eventually(async () => {
      const row = await db.select({ netPence: bookings.netPence }).from(bookings).where(eq(bookings.id, bookingId)).get();
      return row?.netPence === 1500;
    });
    const paid = await markPaid(bookingId, { method: "card" }, admin);
    expect(paid.status).toBe(201);
    expect(paid.json).toMatchObject({ amountPence: 1500, paidPence: 1500, provider: "desk" });
    expect(booked.json.booking.totalAmountPence).toBe(2 * klass.pricePence);
  });

  it("needs a staff or admin token, and validates method and note", async () => {
    const { bookingId } = await bookedClass(2500);
    expect((await call("POST", `/api/v1/admin/bookings/${bookingId}/mark-paid`, { body: {} })).status).toBe(401);
    expect((await markPaid(bookingId, {}, await tokenFor("customer"))).status).toBe(403);
    const staff = await tokenFor("staff");
    const badMethod = await markPaid(bookingId, { method: "bitcoin" }, staff);
    expect(badMethod.status).toBe(400);
    expect(badMethod.json.error.details.issues[0].path).toBe("method");
    const badNote = await markPaid(bookingId, { note: "n".repeat(151) }, staff);
    expect(badNote.status).toBe(400);
    expect(badNote.json.error.details.issues[0].path).toBe("note");
    // No body at all: method "other".
    const bare = await call("POST", `/api/v1/admin/bookings/${bookingId}/mark-paid`, { token: await tokenFor("admin") });
    expect(bare.status).toBe(201);
    expect(bare.json.description).toMatch(/^Paid at the desk by other, recorded by admin:/);
  });
});

describe("GET /api/v1/admin/bookings/{id}/payments", () => {
  it("lists a booking's payments and refunds for staff, nothing for an unpaid one, 404 unknown, 401/403 otherwise", async () => {
    const { bookingId, paymentId } = await bookedAndPaidOnline(2500);
    const staff = await tokenFor("staff");
    const made = await refund(bookingId, { amountPence: 500, reason: "Partial" }, staff);
    const listed = await call("GET", `/api/v1/admin/bookings/${bookingId}/payments`, { token: staff });
    expect(listed.status).toBe(200);
    expect(listed.json.payments).toEqual([expect.objectContaining({ id: paymentId, provider: "local", paidPence: 2500, refundedPence: 500 })]);
    expect(listed.json.refunds).toEqual([made.json.refund]);
    const unpaid = await bookedClass(2500);
    expect((await call("GET", `/api/v1/admin/bookings/${unpaid.bookingId}/payments`, { token: staff })).json).toEqual({ payments: [], refunds: [] });
    expect((await call("GET", `/api/v1/admin/bookings/bkg_nope_${unique()}/payments`, { token: staff })).status).toBe(404);
    expect((await call("GET", `/api/v1/admin/bookings/${bookingId}/payments`)).status).toBe(401);
    expect((await call("GET", `/api/v1/admin/bookings/${bookingId}/payments`, { token: await tokenFor("customer") })).status).toBe(403);
  });
});

describe("the OpenAPI document", () => {
  it("documents the three routes behind bearerAuth with their error codes", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const refunds = doc.paths["/api/v1/admin/bookings/{id}/refunds"].post;
    expect(refunds.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(refunds.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "404", "409", "422", "503"]));
    expect(refunds.responses["409"].description).toContain("NOTHING_TO_REFUND");
    expect(refunds.responses["422"].description).toContain("REFUND_EXCEEDS_PAID");
    const markPaidOp = doc.paths["/api/v1/admin/bookings/{id}/mark-paid"].post;
    expect(markPaidOp.responses["409"].description).toMatch(/ALREADY_PAID.*PAYMENT_NOT_DUE/);
    expect(doc.paths["/api/v1/admin/bookings/{id}/payments"].get.responses["200"]).toBeDefined();
    const codes: string[] = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(["NOTHING_TO_REFUND", "ALREADY_PAID", "PAYMENT_NOT_DUE", "REFUND_EXCEEDS_PAID"]));
  });
});

describe("the desk provider", () => {
  it("is no PAYMENT_PROVIDER setting, opens no checkout and takes no webhook", async () => {
    const base = { JWT_SECRET: "a-secret-of-sixteen-or-more", ENVIRONMENT: "development" };
    expect(() => parseConfig({ ...base, PAYMENT_PROVIDER: "desk" })).toThrow(/PAYMENT_PROVIDER/);
    const desk = paymentProviderNamed(env, "desk")!;
    expect(desk.name).toBe("desk");
    await expect(startPayment(env, { bookingId: `bkg_${unique()}`, amountPence: 100, currency: "GBP", description: "x", email: "a@example.test", expiresAt: Date.now() + 60_000, origin: "http://localhost" }, desk)).rejects.toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    const webhook = await call("POST", "/api/v1/payments/webhooks/desk", { body: { id: "x", kind: "payment_succeeded" } });
    expect(webhook.status).toBe(404);
  });
});
