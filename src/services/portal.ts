/**
 * The customer portal: a signed-in person's profile, totals and bookings. The person is the
 * principal's email (lower-cased by authentication) and nothing else: no id from the request
 * chooses whose rows are read, so a customer reaches only their own (DESIGN invariant 9), and a
 * cursor is only a position within their own list. Bookings made as a guest with the same email
 * are theirs, since the projection files every booking under the profile of its email.
 * Waitlist entries, notify-me registrations and messages: src/services/portal-activity.ts.
 */
import { z } from "zod";
import type { Db } from "../db/client";
import { type After, type BookingWhen, bookingPage, bookingsWithClass, bookingTotals, customerByEmail } from "../db/portal-queries";
import { customers } from "../db/schema";
import { customerMayCancel } from "../domain/customer-cancellation";
import { describeCancellationPolicy } from "../domain/booking-terms";
import type { Principal } from "../env";
import { ApiError } from "../errors";
import { validationError } from "../lib/openapi";
import { decodeCursor, toPage } from "../lib/pagination";
import { customerIdFor } from "./booking-context";
import { bookingLines } from "./booking-views";

export type ContactPreference = NonNullable<(typeof customers.$inferSelect)["preferredContact"]>;

/** What PATCH /me may change; absent fields stay as they are, a null phone is removed. */
export interface ProfileChanges {
  firstName?: string;
  lastName?: string;
  phone?: string | null;
  preferredContact?: ContactPreference;
}

/**
 * The email the portal is about. A token without one (a service token, say) names nobody whose
 * bookings could be shown.
 */
export function portalEmail(principal: Principal | undefined): string {
  const email = principal?.email?.trim().toLowerCase();
  if (!principal || !email) throw new ApiError("FORBIDDEN", "The portal needs a sign-in that names an email address");
  return email;
}

/** The profile as shown: empty (nulls) where the person has not said, or has never booked. */
function toProfile(email: string, role: Principal["role"], row: typeof customers.$inferSelect | undefined) {
  return {
    email,
    firstName: row?.firstName || null,
    lastName: row?.lastName || null,
    phone: row?.phone ?? null,
    preferredContact: row?.preferredContact ?? null,
    role,
  };
}

/** GET /me: the profile and what the person has booked, net of cancellations. No profile yet is not an error. */
export async function portalOverview(db: Db, principal: Principal | undefined, now: Date) {
  const email = portalEmail(principal);
  const [row, totals] = await Promise.all([customerByEmail(db, email), bookingTotals(db, email, now)]);
  return { profile: toProfile(email, principal!.role, row), totals };
}

/**
 * PATCH /me: changes the profile, creating it (under the id every booking of this email names,
 * src/services/booking-context.ts) when the person has none yet. Only the given fields are
 * written, so a booking's projection racing this upsert keeps what it wrote and what this wrote.
 * SMS as the preferred contact needs a phone number to send to.
 */
export async function updatePortalProfile(db: Db, principal: Principal | undefined, changes: ProfileChanges, now: Date) {
  const email = portalEmail(principal);
  const existing = await customerByEmail(db, email);
  const phone = changes.phone !== undefined ? changes.phone : (existing?.phone ?? null);
  const preferredContact = changes.preferredContact ?? existing?.preferredContact ?? null;
  if (preferredContact === "sms" && !phone) {
    const path = changes.preferredContact === "sms" ? "preferredContact" : "phone";
    const issue = { code: "custom" as const, path: [path], message: "text messages need a phone number: set phone, or choose email or none", input: undefined };
    throw validationError(new z.ZodError([issue]), "body");
  }
  const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as ProfileChanges;
  await db
    .insert(customers)
    .values({
      id: existing?.id ?? (await customerIdFor(email)),
      email,
      firstName: changes.firstName ?? "",
      lastName: changes.lastName ?? "",
      phone: changes.phone ?? null,
      preferredContact: changes.preferredContact ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({ target: customers.email, set: { ...given, updatedAt: now } });
  return portalOverview(db, principal, now);
}

export interface BookingListQuery {
  when: BookingWhen;
  limit: number;
  cursor?: string;
}

/** A cursor of the booking list, which says which list it is from: another list's cursor is refused. */
function bookingCursor(cursor: string, when: BookingWhen): After {
  const [list, at, id] = decodeCursor(cursor, 3);
  if (list !== when || typeof at !== "number" || !Number.isSafeInteger(at) || typeof id !== "string") throw notThisList("cursor");
  return { at, id };
}

/** 400 for a cursor that decodes but is not one this list made. */
export function notThisList(path: string): ApiError {
  return new ApiError("VALIDATION_FAILED", `Invalid query. ${path}: not a cursor of this list`, {
    location: "query",
    issues: [{ path, message: "not a cursor of this list", code: "custom" }],
  });
}

/**
 * GET /me/bookings: one page of the person's bookings, upcoming (soonest first) or past (latest
 * first), each with its class, sessions and the paths to read and cancel it with the bearer token.
 */
export async function portalBookings(db: Db, principal: Principal | undefined, query: BookingListQuery, now: Date) {
  const email = portalEmail(principal);
  const after = query.cursor ? bookingCursor(query.cursor, query.when) : undefined;
  const keys = await bookingPage(db, email, query.when, now, after, query.limit);
  const { data: page, nextCursor } = toPage(keys, query.limit, (key) => [query.when, key.at, key.id]);
  const ids = page.map((key) => key.id);
  const [rows, lines] = await Promise.all([bookingsWithClass(db, email, ids), bookingLines(db, ids)]);
  const byId = new Map(rows.map((row) => [row.booking.id, row]));
  const data = ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [toPortalBooking(row, lines, now)] : [];
  });
  return { data, nextCursor };
}

type BookingRow = Awaited<ReturnType<typeof bookingsWithClass>>[number];
type LineRow = Awaited<ReturnType<typeof bookingLines>>[number];

/** A booking as the portal lists it: the booking route's view, trimmed to what its customer needs. */
function toPortalBooking({ booking, class: klass, studio, policy }: BookingRow, allLines: LineRow[], now: Date) {
  const lines = allLines.filter(({ line }) => line.bookingId === booking.id);
  const standing = lines.filter(({ line }) => line.status === "confirmed" || booking.status === "cancelled");
  const future = standing.map(({ startsAt }) => startsAt.getTime()).filter((at) => at > now.getTime());
  return {
    id: booking.id,
    status: booking.status,
    registrationType: booking.registrationType,
    class: klass,
    studio,
    seats: booking.guestCount,
    sessions: lines.map(({ line, startsAt, endsAt }) => ({
      sessionId: line.sessionId,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      seats: line.seats,
      status: line.status,
    })),
    nextStartsAt: future.length > 0 ? new Date(Math.min(...future)).toISOString() : null,
    subtotalPence: booking.subtotalPence,
    discountPence: booking.discountPence,
    totalAmountPence: booking.totalAmountPence,
    currency: booking.currency,
    confirmedAt: booking.confirmedAt.toISOString(),
    cancelledAt: booking.cancelledAt?.toISOString() ?? null,
    cancellable: customerMayCancel({ status: booking.status, startsAt: lines.map(({ startsAt }) => startsAt.getTime()) }, now.getTime(), policy),
    cancellationPolicy: describeCancellationPolicy(policy),
    links: { manage: `/api/v1/bookings/${booking.id}`, cancel: `/api/v1/bookings/${booking.id}/cancel` },
  };
}

export type PortalBooking = ReturnType<typeof toPortalBooking>;
