/** Fixtures for the certificate tests: a class that gives certificates, a booking of its past sessions, attendance, certificates written directly. */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { attendeeId } from "../src/domain/attendees";
import { makeClass, makeCustomer, makeSession } from "./fixtures";
import { unique } from "./helpers";

const db = () => getDb(env.DB);
const HOUR = 3600_000;
export const DAY = 86_400_000;

/** A class giving certificates, with `sessions` sessions that ended (or end, when `endedHoursAgo` < 0) in the past. */
export async function certificateClass(options: { sessions: number; validityDays?: number | null; percent?: number | null; endedHoursAgo?: number }) {
  const klass = await makeClass({ certificateValidityDays: options.validityDays === undefined ? 365 : options.validityDays, completionAttendancePercent: options.percent ?? null });
  const last = Date.now() - (options.endedHoursAgo ?? 2) * HOUR;
  const sessions = [];
  for (let i = options.sessions - 1; i >= 0; i--) {
    const endsAt = new Date(last - i * 7 * DAY);
    sessions.push(await makeSession(klass.id, { startsAt: new Date(endsAt.getTime() - HOUR), endsAt }));
  }
  return { klass, sessions };
}

/** A confirmed booking (as the projection leaves it) of every given session, for a new customer, with `seats` seats. */
export async function bookAll(classId: string, sessionIds: string[], seats = 1, email = `holder-${unique()}@example.test`) {
  const customer = await makeCustomer(email);
  const bookingId = `bkg_${unique()}${unique()}-ses_x`;
  const now = new Date();
  await db().insert(t.bookings).values({
    id: bookingId,
    customerId: customer.id,
    classId,
    registrationType: "DROP_IN",
    status: "confirmed",
    guestCount: seats,
    subtotalPence: 0,
    discountPence: 0,
    totalAmountPence: 0,
    manageTokenHash: "fixture",
    version: now.getTime(),
    confirmedAt: now,
  });
  for (const sessionId of sessionIds) await db().insert(t.bookingSessions).values({ bookingId, sessionId, seats, status: "confirmed", pricePence: 0, version: now.getTime() });
  return { bookingId, customer };
}

/** Staff checked this attendee in at these sessions (or marked them no-show). */
export async function attend(bookingId: string, sessionIds: string[], position = 1, status: "checked_in" | "no_show" = "checked_in") {
  for (const sessionId of sessionIds) {
    await db().insert(t.sessionAttendance).values({ sessionId, attendeeId: attendeeId(bookingId, position), bookingId, status, recordedBy: "stf_test", recordedAt: new Date() });
  }
}

/** A certificate row written directly (valid, of a new booking), for the read, validity and renewal tests. */
export async function makeCertificate(classId: string, options: { customerId: string; holderName?: string; expiresAt: number | null; issuedAt?: number; status?: "valid" | "revoked" }) {
  const id = `crt_${unique()}${unique()}`;
  const bookingId = `bkg_${unique()}${unique()}-ses_y`;
  const [row] = await db()
    .insert(t.certificates)
    .values({
      id,
      number: `CERT-1999-${unique()}`,
      verificationCode: `code${unique()}${unique()}`,
      customerId: options.customerId,
      holderName: options.holderName ?? "Ada Customer",
      classId,
      bookingId,
      attendeeId: attendeeId(bookingId, 1),
      status: options.status ?? "valid",
      issuedAt: new Date(options.issuedAt ?? Date.now() - 300 * DAY),
      expiresAt: options.expiresAt === null ? null : new Date(options.expiresAt),
    })
    .returning();
  return row!;
}

export async function certificatesOf(classId: string) {
  return db().select().from(t.certificates).where(eq(t.certificates.classId, classId));
}
