/**
 * The payment layer the booking side calls. The contract:
 *
 * - `startPayment(env, {bookingId, amountPence, currency, description, email, expiresAt, origin,
 *   successPath?, cancelPath?, idempotencyKey?})` opens a checkout for the server's amount and
 *   answers `{id, status: "pending", checkoutUrl, expiresAt}`. `expiresAt` is when the booking's
 *   hold ends; the idempotency key (default `checkout:<bookingId>`) goes to the provider, and
 *   starting again with it returns the same payment, so a retried booking opens one checkout.
 * - `handleVerifiedEvent(db, event)` applies one verified provider event once (its id is recorded
 *   in the same D1 batch as the change, so a redelivery changes nothing) and answers what the
 *   booking must do: `{action: "confirm" | "refund_late" | "release" | "none", payment, duplicate}`.
 *   `confirm` is a request: if the session's object no longer has the hold, the booking side
 *   refunds (`refundInFull`, src/services/payments/refunds.ts). Webhooks reach it through
 *   src/services/payments/settle.ts, which passes the outcome to src/services/payment-outcomes.ts.
 * - `closeCheckout(env, paymentId, {reason?})` when a hold ends unpaid: the payment fails as
 *   expired (money after that is refunded) and the provider's page is closed where it can be.
 */
import { and, eq, notExists, sql } from "drizzle-orm";
import type { ConfigSource } from "../../config";
import { type Db, getDb } from "../../db/client";
import { paymentEvents, payments } from "../../db/schema";
import { applyPaymentEvent, type PaymentAction, type PaymentEvent, type PaymentTransition } from "../../domain/payments";
import { ApiError } from "../../errors";
import { newId } from "../../lib/ids";
import { checkoutProvider, paymentProviderNamed } from "./factory";
import { type PaymentProvider, PaymentProviderError, type VerifiedPaymentEvent } from "./provider";
import { busy, columnsOf, factsOf, MAX_WRITE_ATTEMPTS, type PaymentRow, type PaymentView, paymentRow, paymentView, requirePayment, guardedUpdate } from "./records";

export type { PaymentView } from "./records";

/** What payments need of the environment: D1 and the settings. */
export type PaymentEnv = ConfigSource & { DB: D1Database };

export interface StartPaymentInput {
  bookingId: string;
  amountPence: number;
  currency: string;
  description: string;
  email: string;
  /** When the booking's hold ends (epoch ms). */
  expiresAt: number;
  /** This service's origin: where the provider sends the customer back. */
  origin: string;
  /** Paths on `origin` for after paying and after giving up (default `/`). */
  successPath?: string;
  cancelPath?: string;
  idempotencyKey?: string;
  /** The booking's class and source, for the money reports (src/db/revenue.ts). */
  classId?: string | null;
  source?: string | null;
}

export interface StartedPayment {
  id: string;
  status: PaymentRow["status"];
  checkoutUrl: string;
  expiresAt: string;
}

export interface PaymentOutcome {
  action: PaymentAction;
  /** Null when the event names no payment of ours (acknowledged, so the provider stops retrying). */
  payment: PaymentView | null;
  /** This provider event was applied before: nothing changed now. */
  duplicate: boolean;
  note?: PaymentTransition["note"] | "unknown_payment";
}

const CURRENCY = /^[A-Z]{3}$/;

/** Opens (or, for the same idempotency key, finds) the checkout for a booking's money. */
export async function startPayment(env: PaymentEnv, input: StartPaymentInput, provider: PaymentProvider = checkoutProvider(env)): Promise<StartedPayment> {
  const currency = input.currency.toUpperCase();
  if (!Number.isInteger(input.amountPence) || input.amountPence <= 0) throw new ApiError("INVALID_AMOUNT", "A payment is for a whole, positive number of pence", { amountPence: input.amountPence });
  if (!CURRENCY.test(currency)) throw new ApiError("CURRENCY_NOT_SUPPORTED", `"${input.currency}" is not a currency code`);
  const db = getDb(env.DB);
  const key = input.idempotencyKey ?? `checkout:${input.bookingId}`;
  await db
    .insert(payments)
    .values({
      id: newId("payment"),
      bookingId: input.bookingId,
      classId: input.classId ?? null,
      source: input.source ?? null,
      amountPence: input.amountPence,
      currency,
      description: input.description.slice(0, 200),
      status: "unpaid",
      provider: provider.name,
      idempotencyKey: key,
      expiresAt: new Date(input.expiresAt),
    })
    .onConflictDoNothing({ target: payments.idempotencyKey });
  const row = (await db.select().from(payments).where(eq(payments.idempotencyKey, key)).get())!;
  if (row.bookingId !== input.bookingId || row.amountPence !== input.amountPence || row.currency !== currency || row.provider !== provider.name) {
    throw new ApiError("IDEMPOTENCY_KEY_REUSED", "This payment key was already used for a different payment", { paymentId: row.id });
  }
  if (row.checkoutUrl) return started(row);

  let checkout: { providerRef: string; checkoutUrl: string };
  try {
    checkout = await provider.createCheckout({
      paymentId: row.id,
      amountPence: row.amountPence,
      currency: row.currency,
      description: row.description,
      customerEmail: input.email,
      idempotencyKey: key,
      expiresAt: row.expiresAt.getTime(),
      createdAt: row.createdAt.getTime(),
      successUrl: new URL(input.successPath ?? "/", input.origin).toString(),
      cancelUrl: new URL(input.cancelPath ?? "/", input.origin).toString(),
    });
  } catch (error) {
    // The row stays unpaid: starting again with the same key asks the provider with the same parameters.
    throw unavailable(error);
  }
  const [opened] = await db
    .update(payments)
    // Pending only if nothing moved it on meanwhile (a hold closed before its checkout was stored stays failed).
    .set({
      status: sql`case when ${payments.status} = 'unpaid' then 'pending' else ${payments.status} end`,
      providerRef: checkout.providerRef,
      checkoutUrl: checkout.checkoutUrl,
      version: sql`${payments.version} + 1`,
      updatedAt: new Date(),
    })
    .where(and(eq(payments.id, row.id), sql`${payments.providerRef} IS NULL`))
    .returning();
  return started(opened ?? (await requirePayment(db, row.id)));
}

function started(row: PaymentRow): StartedPayment {
  return { id: row.id, status: row.status, checkoutUrl: row.checkoutUrl!, expiresAt: row.expiresAt.toISOString() };
}

/** The provider's own words go to the log, not to the customer. */
function unavailable(error: unknown): ApiError {
  console.error(JSON.stringify({ level: "error", msg: "payment provider failed", error: String(error), definite: error instanceof PaymentProviderError ? error.definite : null }));
  return new ApiError("PAYMENT_UNAVAILABLE", "The payment could not be started: the payment provider is not answering. Try again.");
}

/** The payment an event is about, only if it was made with the provider that signed the event. */
async function paymentFor(db: Db, event: VerifiedPaymentEvent): Promise<PaymentRow | undefined> {
  let row: PaymentRow | undefined;
  if (event.paymentId) row = await paymentRow(db, event.paymentId);
  else if (event.providerRef) row = await db.select().from(payments).where(and(eq(payments.provider, event.provider), eq(payments.providerRef, event.providerRef))).get();
  else if (event.providerPaymentRef) {
    row = await db.select().from(payments).where(and(eq(payments.provider, event.provider), eq(payments.providerPaymentRef, event.providerPaymentRef))).get();
  }
  if (!row || row.provider !== event.provider) return undefined;
  // A checkout event for another checkout of ours (an older session) is not about this payment.
  if (event.providerRef && row.providerRef && event.providerRef !== row.providerRef) return undefined;
  return row;
}

function domainEventOf(event: VerifiedPaymentEvent): PaymentEvent {
  switch (event.kind) {
    case "payment_succeeded":
      return { kind: event.kind, amountPence: event.amountPence, currency: event.currency };
    case "payment_failed":
      return { kind: event.kind };
    case "payment_expired":
      return event.reason ? { kind: event.kind, reason: event.reason } : { kind: event.kind };
    case "refund_succeeded":
      return { kind: event.kind, amountPence: event.amountPence };
  }
}

/**
 * Applies a verified event once. The change and the event's id are written in one D1 batch: the
 * update happens only if the payment is still at the version read and the event is not recorded
 * yet, and the event row only if that update happened (`changes()`), so neither a redelivery nor a
 * concurrent event for the same payment is lost or counted twice.
 */
export async function handleVerifiedEvent(db: Db, event: VerifiedPaymentEvent, now = Date.now()): Promise<PaymentOutcome> {
  const found = await paymentFor(db, event);
  if (!found) {
    console.warn(JSON.stringify({ level: "warn", msg: "payment event for no payment of ours", provider: event.provider, eventId: event.eventId, kind: event.kind }));
    return { action: "none", payment: null, duplicate: false, note: "unknown_payment" };
  }
  const recorded = db
    .select({ one: sql`1` })
    .from(paymentEvents)
    .where(and(eq(paymentEvents.provider, event.provider), eq(paymentEvents.eventId, event.eventId)));
  for (let attempt = 0, row = found; attempt < MAX_WRITE_ATTEMPTS; attempt++, row = await requirePayment(db, found.id)) {
    if (await recorded.get()) return { action: "none", payment: paymentView(row), duplicate: true };
    const transition = applyPaymentEvent(factsOf(row), domainEventOf(event), now);
    const changes = { ...columnsOf(transition.next), providerPaymentRef: row.providerPaymentRef ?? event.providerPaymentRef };
    const [updated] = await db.batch([
      guardedUpdate(db, row, changes, now, notExists(recorded)),
      // Columns in the table's order: provider, event_id, kind, payment_id, received_at.
      db.insert(paymentEvents).select(sql`SELECT ${event.provider}, ${event.eventId}, ${event.kind}, ${row.id}, ${now} WHERE changes() = 1`).onConflictDoNothing(),
    ]);
    const [after] = updated;
    if (after) return transition.note ? { action: transition.action, payment: paymentView(after), duplicate: false, note: transition.note } : { action: transition.action, payment: paymentView(after), duplicate: false };
  }
  throw busy();
}

/**
 * The booking's hold ended unpaid (it expired, or the customer or the booking side let it go): the
 * payment fails for good, so money that still arrives is refunded, and the provider's page is
 * closed where it can be. Safe to call twice; a payment already paid is left as it is.
 */
export async function closeCheckout(
  env: PaymentEnv,
  paymentId: string,
  options: { reason?: "expired" | "cancelled"; provider?: PaymentProvider; now?: number } = {},
): Promise<PaymentOutcome> {
  const { reason = "expired", now = Date.now() } = options;
  const db = getDb(env.DB);
  const row = await requirePayment(db, paymentId);
  const outcome = await handleVerifiedEvent(
    db,
    { provider: row.provider, eventId: `hold-ended:${row.id}`, kind: "payment_expired", reason, paymentId: row.id, providerRef: row.providerRef, providerPaymentRef: null, amountPence: row.amountPence, currency: row.currency },
    now,
  );
  const provider = options.provider ?? paymentProviderNamed(env, row.provider);
  if (row.providerRef && provider && outcome.payment?.paidPence === 0) {
    await provider.expireCheckout(row.providerRef).catch((error: unknown) => {
      // Best effort: a payment that still gets through is refunded when its webhook arrives.
      console.warn(JSON.stringify({ level: "warn", msg: "could not close the provider's checkout", paymentId, error: String(error) }));
    });
  }
  return outcome;
}

/** A payment as the API shows it. */
export async function getPayment(db: Db, id: string): Promise<PaymentView> {
  return paymentView(await requirePayment(db, id));
}

/** A booking's payments, oldest first. */
export async function paymentsOfBooking(db: Db, bookingId: string): Promise<PaymentView[]> {
  const rows = await db.select().from(payments).where(eq(payments.bookingId, bookingId)).orderBy(payments.createdAt, payments.id);
  return rows.map(paymentView);
}
