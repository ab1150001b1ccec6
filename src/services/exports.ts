/**
 * The staff CSV exports: bookings booked in a date range, and every customer. Rows are produced a
 * D1 page at a time (keyset, src/db/export-queries.ts) as the client reads the stream, so an
 * export never holds more than one page in memory. Text cells are neutralised against formulas
 * by src/lib/csv.ts.
 */
import type { Db } from "../db/client";
import { bookingExportPage, customerExportPage, type ExportKey } from "../db/export-queries";
import { bookingLines } from "./booking-views";

/** Rows read from D1 per query. */
export const EXPORT_PAGE_SIZE = 500;

export const BOOKING_EXPORT_COLUMNS = [
  "booking_id",
  "status",
  "source",
  "booked_by",
  "kind",
  "customer_id",
  "customer_email",
  "customer_first_name",
  "customer_last_name",
  "customer_phone",
  "class_id",
  "class",
  "sessions",
  "first_session_start_utc",
  "last_session_end_utc",
  "seats",
  "subtotal_pence",
  "discount_pence",
  "total_pence",
  "currency",
  "promo_code_id",
  "referral_source",
  "notes",
  "booked_at_utc",
  "cancelled_at_utc",
];

/** Bookings booked in [from, to), oldest first, one CSV row each (columns as BOOKING_EXPORT_COLUMNS). */
export async function* bookingExportRows(db: Db, range: { from: Date; to: Date }, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<unknown[]> {
  let after: ExportKey | undefined;
  for (;;) {
    const rows = await bookingExportPage(db, range, after, pageSize);
    const lines = await bookingLines(
      db,
      rows.map(({ booking }) => booking.id),
    );
    for (const { booking, customer, className } of rows) {
      const own = lines.filter(({ line }) => line.bookingId === booking.id);
      yield [
        booking.id,
        booking.status,
        booking.source ?? "website",
        booking.bookedBy,
        booking.registrationType,
        customer.id,
        customer.email,
        customer.firstName,
        customer.lastName,
        customer.phone,
        booking.classId,
        className ?? booking.classId,
        own.length,
        own[0]?.startsAt ?? null,
        own.length > 0 ? new Date(Math.max(...own.map(({ endsAt }) => endsAt.getTime()))) : null,
        booking.guestCount,
        booking.subtotalPence,
        booking.discountPence,
        booking.totalAmountPence,
        booking.currency,
        booking.promoCodeId,
        booking.referralSource,
        booking.notes,
        booking.confirmedAt,
        booking.cancelledAt,
      ];
    }
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || !last) return;
    after = { confirmedAt: last.booking.confirmedAt, id: last.booking.id };
  }
}

export const CUSTOMER_EXPORT_COLUMNS = [
  "customer_id",
  "email",
  "first_name",
  "last_name",
  "phone",
  "preferred_contact",
  "staff_notes",
  "preferences",
  "created_at_utc",
  "updated_at_utc",
];

/** Every customer by email, one CSV row each (columns as CUSTOMER_EXPORT_COLUMNS; preferences as JSON). */
export async function* customerExportRows(db: Db, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<unknown[]> {
  let afterEmail: string | undefined;
  for (;;) {
    const rows = await customerExportPage(db, afterEmail, pageSize);
    for (const customer of rows) {
      yield [
        customer.id,
        customer.email,
        customer.firstName,
        customer.lastName,
        customer.phone,
        customer.preferredContact,
        customer.staffNotes,
        customer.preferences && Object.keys(customer.preferences).length > 0 ? JSON.stringify(customer.preferences) : null,
        customer.createdAt,
        customer.updatedAt,
      ];
    }
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || !last) return;
    afterEmail = last.email;
  }
}
