/**
 * Reading a booking: from the D1 projection, or, when D1 has not caught up yet (right after the
 * 201, or while D1 refuses writes), from the Durable Objects that committed it. The booking id says
 * which objects those are (src/services/session-client.ts), so no lookup is needed.
 */
import { asc, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { bookings, bookingSessions, classSessions, customers, payments } from "../db/schema";
import { z } from "zod";
import { BookingProjection, initialPaymentStatus } from "../domain/projection";
import type { BookingStatus } from "../domain/booking-status";
import type { PaymentStatus } from "../domain/payments";
import type { Env } from "../env";
import { coordinatorObject, locateBooking, moveLedgerOf, sessionObject } from "./session-client";

/** A booking from D1, else from its objects; undefined when unknown to both. */
export async function getBooking(env: Pick<Env, "SESSION" | "COORDINATOR">, db: Db, bookingId: string): Promise<BookingView | undefined> {
  return (await getProjectedBooking(db, bookingId)) ?? (await bookingFromObjects(env, bookingId)) ?? (await unpaidBooking(db, bookingId));
}

/**
 * A booking paid online that was never confirmed, from its payment: `pending_payment` while the
 * checkout is open, `expired` once it closed unpaid (or its money went back). Undefined otherwise.
 */
async function unpaidBooking(db: Db, bookingId: string): Promise<BookingView | undefined> {
  const rows = await db.select({ status: payments.status, snapshot: payments.bookingSnapshot }).from(payments).where(eq(payments.bookingId, bookingId)).orderBy(desc(payments.createdAt));
  const row = rows.find((payment) => payment.snapshot !== null);
  const pending = row ? PendingSnapshot.safeParse(JSON.parse(row.snapshot!)) : undefined;
  if (!row || !pending?.success) return undefined;
  const view = viewOfProjection(pending.data.booking);
  // Paid but not confirmed yet (the confirmation is being finished): still pending, never expired.
  const open = row.status === "pending" || row.status === "unpaid" || (row.status === "paid" && pending.data.settledAt === undefined);
  return { ...view, status: open ? "pending_payment" : "expired", paymentStatus: row.status };
}

/** The part of a pending booking's snapshot (src/services/online-bookings.ts) a read needs. */
const PendingSnapshot = z.object({ booking: BookingProjection, settledAt: z.number().optional() });

/** A booking from the D1 projection, with its customer and lines; undefined when unknown. */
export async function getProjectedBooking(db: Db, bookingId: string) {
  const [row] = await db
    .select({ booking: bookings, customer: customers })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .where(eq(bookings.id, bookingId));
  if (!row) return undefined;
  return toBookingView(row.booking, row.customer, await bookingLines(db, [bookingId]));
}

/**
 * The booking as its session objects hold it (each line's status from its own session). A booking
 * with a cancelled line may have been moved out of that session: its move ledger then has the
 * booking as the last move left it, with every session it covers now.
 */
export async function bookingFromObjects(env: Pick<Env, "SESSION" | "COORDINATOR">, bookingId: string): Promise<BookingView | undefined> {
  const place = locateBooking(bookingId);
  if (!place) return undefined;
  let sessionIds: string[];
  if ("sessionId" in place) sessionIds = [place.sessionId];
  else {
    const decision = await coordinatorObject(env, place.coordinator).decision();
    if (decision?.decision !== "commit" || decision.booking.id !== bookingId) return undefined;
    sessionIds = Object.keys(decision.linePrices);
  }
  const lines = await linesIn(env, bookingId, sessionIds);
  const first = sessionIds.map((id) => lines.get(id)).find((line) => line !== undefined);
  if (!first) return undefined;
  let booking = first.booking;
  if ([...lines.values()].some((line) => line.status === "cancelled")) {
    const { current } = await (await moveLedgerOf(env, bookingId)).moveLedger();
    if (current) {
      booking = current;
      const more = (current.sessions ?? []).map((session) => session.sessionId).filter((id) => !lines.has(id));
      for (const [id, line] of await linesIn(env, bookingId, more)) lines.set(id, line);
    }
  }
  return viewOfProjection(booking, lines);
}

type ObjectLine = { booking: BookingProjection; status: string; updatedAt: number };

async function linesIn(env: Pick<Env, "SESSION">, bookingId: string, sessionIds: string[]): Promise<Map<string, ObjectLine>> {
  const found = await Promise.all(sessionIds.map((id) => sessionObject(env, id).bookingLine(bookingId)));
  const lines = new Map<string, ObjectLine>();
  found.forEach((line, index) => {
    if (line) lines.set(sessionIds[index]!, line);
  });
  return lines;
}

/**
 * A booking as it stands now, for the routes that act on one: D1's view, with its lines as the
 * session objects have them when D1 has not caught up with a change yet (a move or a cancellation
 * just answered). Objects that cannot be asked leave D1's view as it is.
 */
export async function currentBooking(env: Pick<Env, "SESSION" | "COORDINATOR">, db: Db, bookingId: string): Promise<BookingView | undefined> {
  const projected = await getProjectedBooking(db, bookingId);
  const objects = await bookingFromObjects(env, bookingId).catch((error: unknown) => {
    console.log(JSON.stringify({ level: "warn", msg: "booking objects unavailable; answering from D1", bookingId, error: String(error) }));
    return undefined;
  });
  if (!projected || !objects) return projected ?? objects ?? (await unpaidBooking(db, bookingId));
  const d1Lines = new Map(projected.lines.map((line) => [line.sessionId, line]));
  const behind = objects.lines.some((line) => d1Lines.get(line.sessionId)?.status !== line.status);
  if (!behind) return projected;
  const lines = objects.lines.map((line) => ({ ...(d1Lines.get(line.sessionId) ?? line), status: line.status }));
  for (const line of projected.lines) if (!lines.some((known) => known.sessionId === line.sessionId)) lines.push(line);
  lines.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  const confirmed = lines.some((line) => line.status === "confirmed");
  return {
    ...projected,
    lines,
    status: confirmed ? (projected.status === "cancelled" ? "confirmed" : projected.status) : "cancelled",
    cancelledAt: confirmed ? null : (projected.cancelledAt ?? objects.cancelledAt),
  };
}

type PriceAndOrigin = Pick<
  BookingProjection,
  "subtotalPence" | "discountPence" | "totalAmountPence" | "currency" | "promoCodeId" | "source" | "referralSource" | "notes" | "holdId" | "bookedBy" | "duplicateOverride" | "manageTokenHash"
>;

/** What a booking cost and where it came from: the same fields in D1's row and in the committed projection. */
function priceAndOrigin(booking: Omit<PriceAndOrigin, "currency"> & { currency: string }) {
  return {
    subtotalPence: booking.subtotalPence,
    discountPence: booking.discountPence,
    totalAmountPence: booking.totalAmountPence,
    currency: booking.currency,
    promoCodeId: booking.promoCodeId,
    // Bookings older than the closed list of sources may have none: they came from the website.
    source: booking.source ?? "website",
    referralSource: booking.referralSource,
    notes: booking.notes,
    holdId: booking.holdId,
    bookedBy: booking.bookedBy,
    duplicateOverride: booking.duplicateOverride,
    manageTokenHash: booking.manageTokenHash,
  };
}

/** A booking as the API shows it, from what the booking flow committed (status per line when known). */
export function viewOfProjection(booking: BookingProjection, lineStatus: Map<string, { status: string; updatedAt?: number }> = new Map()): BookingView {
  const lines = (booking.sessions ?? []).map((session) => ({
    sessionId: session.sessionId,
    startsAt: new Date(session.startsAt).toISOString(),
    endsAt: new Date(session.endsAt).toISOString(),
    seats: booking.guestCount,
    pricePence: session.pricePence,
    status: (lineStatus.get(session.sessionId)?.status ?? "confirmed") === "cancelled" ? ("cancelled" as const) : ("confirmed" as const),
  }));
  const cancelled = lines.length > 0 && lines.every((line) => line.status === "cancelled");
  const cancelledAt = cancelled ? Math.max(...[...lineStatus.values()].map((line) => line.updatedAt ?? 0)) : null;
  return {
    id: booking.id,
    status: (cancelled ? "cancelled" : "confirmed") as BookingStatus,
    registrationType: booking.registrationType,
    classId: booking.classId,
    patternId: booking.patternId,
    guestCount: booking.guestCount,
    customer: { id: booking.customerId, email: booking.customer?.email ?? "", firstName: booking.customer?.firstName ?? "", lastName: booking.customer?.lastName ?? "" },
    lines,
    ...priceAndOrigin(booking),
    paymentStatus: initialPaymentStatus(booking) as PaymentStatus,
    confirmedAt: new Date(booking.confirmedAt).toISOString(),
    cancelledAt: cancelledAt ? new Date(cancelledAt).toISOString() : null,
  };
}

/** The session lines of some bookings, in session order. */
export function bookingLines(db: Db, bookingIds: string[]) {
  if (bookingIds.length === 0) return Promise.resolve([]);
  return db
    .select({ line: bookingSessions, startsAt: classSessions.startsAt, endsAt: classSessions.endsAt })
    .from(bookingSessions)
    .innerJoin(classSessions, eq(classSessions.id, bookingSessions.sessionId))
    .where(inArray(bookingSessions.bookingId, bookingIds))
    .orderBy(asc(classSessions.startsAt));
}

export type LineRow = Awaited<ReturnType<typeof bookingLines>>[number];

/** The rows of one booking among the lines of several. */
export const linesOfBooking = (lines: LineRow[], bookingId: string) => lines.filter(({ line }) => line.bookingId === bookingId);

/** One session line as the API shows it. */
export function toLineView({ line, startsAt, endsAt }: LineRow) {
  return {
    sessionId: line.sessionId,
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    seats: line.seats,
    pricePence: line.pricePence,
    status: line.status,
  };
}

/** A booking row, its customer and (any superset of) its lines, as the API shows it. */
export type { BookingStatus };

export function toBookingView(booking: typeof bookings.$inferSelect, customer: typeof customers.$inferSelect, lines: LineRow[]) {
  return {
    id: booking.id,
    status: booking.status as BookingStatus,
    registrationType: booking.registrationType,
    classId: booking.classId,
    patternId: booking.patternId,
    guestCount: booking.guestCount,
    customer: { id: customer.id, email: customer.email, firstName: customer.firstName, lastName: customer.lastName },
    lines: linesOfBooking(lines, booking.id).map(toLineView),
    ...priceAndOrigin(booking),
    paymentStatus: booking.paymentStatus as PaymentStatus,
    confirmedAt: booking.confirmedAt.toISOString(),
    cancelledAt: booking.cancelledAt?.toISOString() ?? null,
  };
}

export type BookingView = ReturnType<typeof toBookingView>;

