/**
 * Keyset pages for the CSV exports (src/services/exports.ts): each page starts strictly after the
 * last row of the one before, so an export of any size reads D1 a page at a time on an index
 * (customers by their unique email, bookings by bookings_confirmed_at_idx).
 */
import { and, asc, eq, gt, gte, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { bookings, classes, customers } from "./schema";

/** One keyset page of customers for the CSV, by email. */
export function customerExportPage(db: Db, afterEmail: string | undefined, limit: number) {
  return db
    .select()
    .from(customers)
    .where(afterEmail !== undefined ? gt(customers.email, afterEmail) : undefined)
    .orderBy(asc(customers.email))
    .limit(limit);
}

/** Where a bookings export page ended: the next page starts strictly after (confirmedAt, id). */
export interface ExportKey {
  confirmedAt: Date;
  id: string;
}

/** One keyset page of bookings booked in [from, to), oldest first, with their customer and class. */
export function bookingExportPage(db: Db, range: { from: Date; to: Date }, after: ExportKey | undefined, limit: number) {
  return db
    .select({ booking: bookings, customer: customers, className: classes.name })
    .from(bookings)
    .innerJoin(customers, eq(customers.id, bookings.customerId))
    .leftJoin(classes, eq(classes.id, bookings.classId))
    .where(
      and(
        gte(bookings.confirmedAt, range.from),
        lt(bookings.confirmedAt, range.to),
        after ? or(gt(bookings.confirmedAt, after.confirmedAt), and(eq(bookings.confirmedAt, after.confirmedAt), gt(bookings.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(bookings.confirmedAt), asc(bookings.id))
    .limit(limit);
}
