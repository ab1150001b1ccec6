/**
 * BOOKING_CONFIRMED and BOOKING_CANCELLED notification requests for a booking. Their ids are
 * `booking-confirmed:<bookingId>` and `booking-cancelled:<bookingId>`, so a replayed or retried
 * request, or a second cancel, never sends the same message twice.
 */
import type { ConfigSource } from "../config";
import type { Db } from "../db/client";
import type { Env } from "../env";
import { describeCancellationPolicy } from "../domain/booking-terms";
import { currentManageToken } from "./manage-tokens";
import { type ClassPlace, classPlace } from "./booking-context";
import type { BookingView } from "./booking-views";
import { type NotificationRequest, queueNotifications, type TypedNotificationRequest } from "./notifications";

type BookingKind = "BOOKING_CONFIRMED" | "BOOKING_CANCELLED";

const ID_PREFIX: Record<BookingKind, string> = { BOOKING_CONFIRMED: "booking-confirmed", BOOKING_CANCELLED: "booking-cancelled" };

/** The deterministic request id of a booking's notification. */
export const bookingNotificationId = (kind: BookingKind, bookingId: string) => `${ID_PREFIX[kind]}:${bookingId}`;

/**
 * Queues the notification for a booking. Never throws: like events, a notification that cannot be
 * queued is logged, and the booking or cancellation it reports stands.
 */
export async function notifyBooking(
  env: Pick<Env, "NOTIFICATIONS"> & ConfigSource,
  db: Db,
  kind: BookingKind,
  booking: BookingView,
  knownPlace?: ClassPlace,
): Promise<void> {
  try {
    const request = await bookingNotification(env, db, kind, booking, knownPlace);
    if (request) await queueNotifications(env, [request]);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "could not build booking notification", kind, bookingId: booking.id, error: String(error) }));
  }
}

/**
 * The request for a booking, with its class, studio and zone: the place the caller already loaded,
 * or read from D1. Undefined for an unknown class.
 */
export async function bookingNotification(
  env: ConfigSource,
  db: Db,
  kind: BookingKind,
  booking: BookingView,
  knownPlace?: ClassPlace,
): Promise<NotificationRequest | undefined> {
  const place = knownPlace ?? (await classPlace(db, booking.classId));
  if (!place) return undefined;
  // The manage token is derived from the booking id (and its revocation generation), so the cancellation can carry it as well.
  return bookingNotificationFor(kind, booking, place, await currentManageToken(env, db, booking.id));
}

/** Who a booking's message goes to and what it is about: the same for every kind of message about it. */
export function bookingAddressing(booking: BookingView) {
  return {
    recipient: { email: booking.customer.email, firstName: booking.customer.firstName, lastName: booking.customer.lastName },
    channel: "email" as const,
    bookingId: booking.id,
    sessionId: booking.lines.length === 1 ? booking.lines[0]!.sessionId : null,
    classId: booking.classId,
  };
}

/** The request for a booking whose place and manage token the caller has. */
export function bookingNotificationFor(kind: BookingKind, booking: BookingView, place: ClassPlace, manageToken: string): NotificationRequest {
  const request: TypedNotificationRequest<BookingKind> = {
    id: bookingNotificationId(kind, booking.id),
    kind,
    ...bookingAddressing(booking),
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      sessions: booking.lines.map((line) => ({ sessionId: line.sessionId, startsAt: line.startsAt })),
      seats: booking.guestCount,
      totalAmountPence: booking.totalAmountPence,
      currency: "GBP",
      manageLinkPath: `/api/v1/bookings/${encodeURIComponent(booking.id)}?token=${manageToken}`,
      // The booking's calendar file opens with the same token (src/routes/calendar.ts).
      ...(kind === "BOOKING_CONFIRMED" && {
        calendarLinkPath: `/api/v1/bookings/${encodeURIComponent(booking.id)}/calendar.ics?token=${manageToken}`,
        cancellationPolicy: describeCancellationPolicy(place.cancellationPolicy),
      }),
    },
    requestedAt: Date.now(),
  };
  return request;
}
