/** Shared by the online-payment booking tests: classes paid online, their bookings, and paying at the local checkout. */
import { env, exports } from "cloudflare:workers";
import { configOf } from "../src/config";
import { LocalPaymentProvider } from "../src/services/payments/local-provider";
import { eq } from "drizzle-orm";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeSchedule } from "./fixtures";
import { call, eventually } from "./helpers";

export const db = () => getDb(env.DB);

export async function payOnlineOnly(classId: string) {
  await db().update(t.classes).set({ paymentMode: "online" }).where(eq(t.classes.id, classId));
}

/** A future session of a class paid online. */
export async function onlineSession(options: { capacity?: number; pricePence?: number } = {}) {
  const made = await makeBookableSession({ capacity: options.capacity ?? 10, pricePence: options.pricePence ?? 2500 });
  await payOnlineOnly(made.klass.id);
  return made;
}

/** A schedule (drop-ins and the full course) of a class paid online. */
export async function onlineSchedule(options: { sessions?: number; capacity?: number } = {}) {
  const made = await makeSchedule({ sessions: options.sessions ?? 3, capacity: options.capacity ?? 10, pricePence: 2500, fullSchedulePricePence: 6000 });
  await payOnlineOnly(made.klass.id);
  return made;
}

/** Books one seat of an online session; the answer's booking is pending_payment with its payment. */
export async function bookOnline(sessionId: string, options: { pricePence?: number; email?: string; guestCount?: number; idempotencyKey?: string; holdId?: string } = {}) {
  const email = options.email ?? uniqueEmail("online");
  const guestCount = options.guestCount ?? 1;
  const body = singleBookingBody(sessionId, options.pricePence ?? 2500, { guestCount, contact: { email, firstName: "Ada", lastName: "Lovelace" }, ...(options.holdId && { holdId: options.holdId }) });
  const answer = await postBooking(body, options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {});
  return { ...answer, email };
}

/** Pays, declines or cancels a local checkout through the dev route (the webhook's own path). */
export async function checkout(paymentId: string, action: "pay" | "decline" | "cancel") {
  return call("POST", `/api/v1/dev/checkout/${paymentId}/${action}`);
}

export async function readBooking(bookingId: string, manageToken: string) {
  return call("GET", `/api/v1/bookings/${bookingId}`, { headers: { "X-Manage-Token": manageToken } });
}

export async function paymentRow(paymentId: string) {
  return (await db().select().from(t.payments).where(eq(t.payments.id, paymentId)).get())!;
}

/** The messages the dev mailbox holds for an address (delivered through the notifications queue). */
export async function mailbox(email: string) {
  return (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data as { subject: string; text: string }[];
}

/** Waits for a message whose subject starts with `subject` to reach `email`. */
export function mailArrives(email: string, subject: string) {
  return eventually(async () => (await mailbox(email)).find((mail) => mail.subject.startsWith(subject)), 15_000);
}

/** The booking's payment status in D1 once the projection has it. */
export function d1PaymentStatus(bookingId: string) {
  return eventually(async () => (await db().select({ status: t.bookings.paymentStatus }).from(t.bookings).where(eq(t.bookings.id, bookingId)).get())?.status, 15_000);
}

/**
 * Delivers one local-provider event with a fixed id to the payment webhook (the same delivery
 * twice is a redelivery; `checkout()` signs a new event each time).
 */
export async function deliverLocal(payment: { id: string; amountPence: number }, eventId: string, kind: "payment_succeeded" | "payment_failed" = "payment_succeeded") {
  const provider = new LocalPaymentProvider(configOf(env).keyring);
  const request = await provider.signedRequest("http://localhost/api/v1/payments/webhooks/local", {
    id: eventId,
    kind,
    paymentId: payment.id,
    providerRef: `local_${payment.id}`,
    amountPence: payment.amountPence,
    currency: "GBP",
  });
  const response = await exports.default.fetch(request);
  return { status: response.status, json: (await response.json()) as { received?: boolean; duplicate?: boolean } };
}

/** Refunds of a payment, oldest first. */
export function refundsOf(paymentId: string) {
  return db().select().from(t.refunds).where(eq(t.refunds.paymentId, paymentId)).orderBy(t.refunds.createdAt);
}
