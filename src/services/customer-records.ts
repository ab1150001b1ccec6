/**
 * Customer records for staff: search, the profile with its totals and history, and the staff-only
 * fields (notes, preferences). Totals are net of cancellations: a cancelled booking, or a cancelled
 * line of a booking, adds nothing (src/db/customer-queries.ts says exactly what counts).
 *
 * `staffNotes` are read and written only here, behind staff routes: the portal (src/services/portal.ts)
 * builds its profile field by field and never names them.
 */
import type { Db } from "../db/client";
import {
  attendanceOf,
  certificatesOf,
  customerByEmail,
  customerById,
  customerStats,
  recentBookings,
  searchCustomers,
  updateCustomerRecord,
} from "../db/customer-queries";
import type { CustomerPreferences, customers } from "../db/schema";
import type { Env } from "../env";
import { notFound } from "../errors";
import { decodeCursor, toPage } from "../lib/pagination";
import { bookingLines, getBooking, linesOfBooking, toLineView } from "./booking-views";
import { customerCommunications } from "./staff-messages";
import { notThisList } from "./portal";

/** How much history a profile carries; the bookings list (GET /admin/bookings?email=) has the rest. */
export const HISTORY_LIMITS = { bookings: 50, communications: 50, certificates: 50 } as const;

type CustomerRow = typeof customers.$inferSelect;

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/** The fields of a customer every staff view shows. */
export function toCustomerSummary(row: CustomerRow) {
  return {
    id: row.id,
    email: row.email,
    firstName: row.firstName,
    lastName: row.lastName,
    phone: row.phone,
    preferredContact: row.preferredContact,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** GET /admin/customers: one page of customers whose email, first or last name or phone starts with `q`, by email. */
export async function findCustomers(db: Db, query: { q?: string | undefined; limit: number; cursor?: string | undefined }) {
  let afterEmail: string | undefined;
  if (query.cursor) {
    const [email] = decodeCursor(query.cursor, 1);
    if (typeof email !== "string") throw notThisList("cursor");
    afterEmail = email;
  }
  const rows = await searchCustomers(db, query.q?.trim() || undefined, { limit: query.limit + 1, afterEmail });
  const { data, nextCursor } = toPage(rows, query.limit, (row) => [row.email]);
  return { data: data.map(toCustomerSummary), nextCursor };
}

/** GET /admin/customers/{id}: 404 for an unknown id. */
export async function customerProfile(db: Db, id: string, now: Date) {
  const row = await customerById(db, id);
  if (!row) throw notFound("Customer", id);
  return profileOf(db, row, now);
}

/**
 * GET /admin/bookings/{id}/user: the profile of whoever the booking is for. D1 may not have the
 * booking yet (its objects answer then); its customer is found by email, the profile every booking
 * of that email is filed under.
 */
export async function bookingCustomerProfile(env: Pick<Env, "SESSION" | "COORDINATOR">, db: Db, bookingId: string, now: Date) {
  const booking = await getBooking(env, db, bookingId);
  if (!booking) throw notFound("Booking", bookingId);
  const row = (booking.customer.email ? await customerByEmail(db, booking.customer.email) : undefined) ?? (await customerById(db, booking.customer.id));
  if (!row) throw notFound("Customer", booking.customer.id);
  return profileOf(db, row, now);
}

/** PATCH /admin/customers/{id}: sets the staff notes and/or replaces the preferences (null clears). */
export async function updateCustomer(
  db: Db,
  id: string,
  changes: { staffNotes?: string | null | undefined; preferences?: CustomerPreferences | null | undefined },
  now: Date,
) {
  const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  if (!(await updateCustomerRecord(db, id, given, now))) throw notFound("Customer", id);
  return customerProfile(db, id, now);
}

async function profileOf(db: Db, row: CustomerRow, now: Date) {
  const [stats, recent, messages, issued] = await Promise.all([
    customerStats(db, row.id, now),
    recentBookings(db, row.id, HISTORY_LIMITS.bookings + 1),
    customerCommunications(db, row.id, { limit: HISTORY_LIMITS.communications }),
    certificatesOf(db, row.id, HISTORY_LIMITS.certificates),
  ]);
  const shown = recent.slice(0, HISTORY_LIMITS.bookings);
  const ids = shown.map(({ booking }) => booking.id);
  const [lines, attendance] = await Promise.all([bookingLines(db, ids), attendanceOf(db, ids)]);
  return {
    ...toCustomerSummary(row),
    staffNotes: row.staffNotes,
    preferences: row.preferences ?? {},
    stats: { ...stats, firstBookingAt: iso(stats.firstBookingAt), lastBookingAt: iso(stats.lastBookingAt) },
    history: {
      bookings: shown.map(({ booking, className }) => ({
        id: booking.id,
        status: booking.status,
        registrationType: booking.registrationType,
        classId: booking.classId,
        className: className ?? booking.classId,
        guestCount: booking.guestCount,
        totalAmountPence: booking.totalAmountPence,
        currency: booking.currency,
        source: booking.source ?? "website",
        bookedBy: booking.bookedBy,
        notes: booking.notes,
        confirmedAt: booking.confirmedAt.toISOString(),
        cancelledAt: iso(booking.cancelledAt),
        sessions: linesOfBooking(lines, booking.id).map((row) => ({
            ...toLineView(row),
            attendance: attendance
              .filter((mark) => mark.bookingId === booking.id && mark.sessionId === row.line.sessionId)
              .map((mark) => ({ attendeeId: mark.attendeeId, status: mark.status, recordedBy: mark.recordedBy, recordedAt: mark.recordedAt.toISOString() })),
          })),
      })),
      moreBookings: recent.length > HISTORY_LIMITS.bookings,
      communications: messages ?? [],
      certificates: issued.map((certificate) => ({
        id: certificate.id,
        number: certificate.number,
        classId: certificate.classId,
        bookingId: certificate.bookingId,
        holderName: certificate.holderName,
        status: certificate.status,
        issuedAt: certificate.issuedAt.toISOString(),
        expiresAt: iso(certificate.expiresAt),
      })),
    },
  };
}

export type CustomerProfile = Awaited<ReturnType<typeof profileOf>>;
