/**
 * Cancelling a group as a whole: every booking of it (the group's N seats in every session, and
 * each participant's own seat) through the ordinary cancellation, so the seats go back to the
 * sessions and down their waitlists like any cancellation's. The group is marked cancelled first,
 * so a participant added meanwhile is refused (or, linked already, cancelled by its own request:
 * see addParticipant). Repeatable: a second call cancels nothing more and sends nothing again
 * (the messages' ids are their idempotency keys).
 */
import type { NotificationRequest, TypedNotificationRequest } from "../domain/notifications";
import { markGroupCancelled, groupBookingIds, groupById, type GroupRow } from "../db/group-queries";
import { notFound } from "../errors";
import { classPlace, type ClassPlace } from "./booking-context";
import { type BookingView, bookingFromObjects, getBooking } from "./booking-views";
import type { Caller } from "./bookings";
import { cancelBooking } from "./cancellations";
import { contactOf, type GroupDetail, groupDetail, type Participant } from "./groups";
import { queueNotifications } from "./notifications";

/** Cancels every booking of the group and tells the organiser and each participant with an email. */
export async function cancelGroup(caller: Caller, groupId: string, reason?: string): Promise<GroupDetail> {
  const d1 = caller.env.DB;
  const found = await groupById(d1, groupId);
  if (!found) throw notFound("Group", groupId);
  await markGroupCancelled(d1, groupId, Date.now());
  // Who still had a seat, read before their bookings are cancelled (a participant removed earlier is not told again).
  const before = await groupDetail(caller, groupId, await freshViews(caller, groupId));
  const cancelled = await Promise.all(
    before.bookings.map(async (booking) => {
      if (booking.status === "cancelled") return booking;
      const { replayed: _replayed, ...view } = await cancelBooking(caller, booking);
      return view;
    }),
  );
  const group = (await groupById(d1, groupId))!;
  const place = await classPlace(caller.db, group.classId);
  const sessions = sessionsOf(before.bookings);
  if (place && sessions.length > 0) {
    await queueNotifications(caller.env, [
      cancellationTo(group, place, sessions, { name: group.organiserName, email: group.organiserEmail }, `group-cancelled:${group.id}`, reason, before.bookings[0]!.id),
      ...before.participants.flatMap((person) => (person.email ? [participantMessage(group, place, sessions, person, reason)] : [])),
    ]);
  }
  return groupDetail(caller, groupId, cancelled);
}

/** The group's bookings as their session objects hold them (D1 may lag behind a cancellation). */
async function freshViews(caller: Caller, groupId: string): Promise<BookingView[]> {
  const ids = await groupBookingIds(caller.env.DB, groupId);
  const views = await Promise.all(ids.map(async (id) => (await bookingFromObjects(caller.env, id)) ?? (await getBooking(caller.env, caller.db, id))));
  return views.filter((view): view is BookingView => view !== undefined);
}

/** Every session the group's bookings covered, earliest first. */
function sessionsOf(bookings: BookingView[]): { sessionId: string; startsAt: string }[] {
  const byId = new Map(bookings.flatMap((booking) => booking.lines.map((line) => [line.sessionId, line.startsAt] as const)));
  return [...byId].map(([sessionId, startsAt]) => ({ sessionId, startsAt })).sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
}

function participantMessage(group: GroupRow, place: ClassPlace, sessions: { sessionId: string; startsAt: string }[], person: Participant, reason: string | undefined) {
  return cancellationTo(group, place, sessions, { name: person.name ?? "", email: person.email! }, `group-cancelled:${person.attendeeId}`, reason, person.bookingId, person.name ?? undefined);
}

function cancellationTo(
  group: GroupRow,
  place: ClassPlace,
  sessions: { sessionId: string; startsAt: string }[],
  to: { name: string; email: string },
  id: string,
  reason: string | undefined,
  bookingId: string,
  participantName?: string,
): NotificationRequest {
  const request: TypedNotificationRequest<"GROUP_CANCELLED"> = {
    id,
    kind: "GROUP_CANCELLED",
    recipient: { email: to.email, firstName: contactOf(to).firstName || null },
    channel: "email",
    bookingId,
    sessionId: group.sessionId,
    classId: group.classId,
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      groupName: group.name,
      reference: group.reference,
      ...(participantName ? { participantName } : {}),
      ...(reason ? { reason } : {}),
      sessions,
    },
    requestedAt: Date.now(),
  };
  return request;
}
