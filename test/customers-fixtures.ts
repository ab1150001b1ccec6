/**
 * D1 rows for the customer record tests, written directly as the projection and the attendance and
 * certificate helpers would leave them: customers, bookings with lines, attendance marks, certificates.
 */
import { env } from "cloudflare:workers";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";

const db = () => getDb(env.DB);
export const suffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

export async function customerRow(overrides: Partial<typeof t.customers.$inferInsert> = {}) {
  const id = overrides.id ?? `cus_${suffix()}`;
  const [row] = await db()
    .insert(t.customers)
    .values({ id, email: `${id}@example.test`, firstName: "Ada", lastName: "Customer", ...overrides })
    .returning();
  return row!;
}

export interface LineSpec {
  sessionId: string;
  status: "confirmed" | "cancelled";
  pricePence: number;
}

/**
 * A booking with its lines; the header's status follows its lines as the projection's does
 * (confirmed while any line is), unless `cancelled` says the whole booking was cancelled.
 */
export async function bookingRow(
  customerId: string,
  classId: string,
  lines: LineSpec[],
  options: { guestCount?: number; confirmedAt?: Date; source?: t.BookingSource | null; bookedBy?: string | null; notes?: string | null } = {},
) {
  const id = `bkg_${suffix()}`;
  const status = lines.some((line) => line.status === "confirmed") ? "confirmed" : "cancelled";
  const confirmedAt = options.confirmedAt ?? new Date();
  const guestCount = options.guestCount ?? 1;
  const total = lines.reduce((sum, line) => sum + line.pricePence, 0);
  await db()
    .insert(t.bookings)
    .values({
      id,
      customerId,
      classId,
      registrationType: lines.length > 1 ? "DROP_IN" : "SINGLE_SESSION",
      status,
      guestCount,
      subtotalPence: total,
      discountPence: 0,
      totalAmountPence: total,
      manageTokenHash: "fixture",
      version: confirmedAt.getTime(),
      confirmedAt,
      cancelledAt: status === "cancelled" ? confirmedAt : null,
      source: options.source === undefined ? "website" : options.source,
      bookedBy: options.bookedBy ?? null,
      notes: options.notes ?? null,
    });
  if (lines.length > 0) {
    await db()
      .insert(t.bookingSessions)
      .values(lines.map((line) => ({ bookingId: id, sessionId: line.sessionId, seats: guestCount, status: line.status, pricePence: line.pricePence, version: 1 })));
  }
  return { id, status, guestCount, confirmedAt, lines };
}

export async function attendanceRow(bookingId: string, sessionId: string, position: number, status: "checked_in" | "no_show") {
  await db()
    .insert(t.sessionAttendance)
    .values({ sessionId, bookingId, attendeeId: `${bookingId}:${position}`, status, recordedBy: "staff:test", recordedAt: new Date() });
}

export async function certificateRow(customerId: string, classId: string, bookingId: string, status: "valid" | "revoked" = "valid") {
  const id = `cert_${suffix()}`;
  await db()
    .insert(t.certificates)
    .values({
      id,
      number: `CERT-T-${suffix()}`,
      verificationCode: suffix(),
      customerId,
      holderName: "Ada Customer",
      classId,
      bookingId,
      attendeeId: `${bookingId}:${suffix()}`,
      status,
      issuedAt: new Date(),
      expiresAt: null,
    });
  return id;
}
