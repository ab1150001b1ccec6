/**
 * Group and corporate bookings: a group (reference, company, organiser, payer) booking N named
 * participants into one session or a whole course. All or nothing: the participants are ONE
 * booking of N seats through the booking flow (one session: the session's object; a course: the
 * coordinator), so a group never gets fewer seats than people. Participants added later get a
 * one-seat booking of their own in the same session(s); one removed gives back their own booking
 * (cancelled) or one seat of the group's booking (shrunk in every session's object).
 *
 * The group's messages (the organiser's confirmation listing everyone, each participant's own)
 * replace BOOKING_CONFIRMED and go out with the seats through the objects' outbox. The reference
 * is unique in D1, claimed before any seat is asked for, and let go again if the booking is refused.
 * A shrunk booking is repriced with its seats; cancelling a whole group is group-cancellation.ts.
 */
import { attendeeId, parseAttendeeId } from "../domain/attendees";
import { domainEvent } from "../domain/events";
import type { NotificationRequest, TypedNotificationRequest } from "../domain/notifications";
import { quoteBooking, splitPence } from "../domain/pricing";
import { ApiError, notFound } from "../errors";
import { idFromSeed } from "../lib/idempotency-key";
import { ID_PREFIX, newId } from "../lib/ids";
import { configOf } from "../config";
import { type AttendeeRow, attendeesOf, deleteEmptyGroup, groupBookingIds, groupById, groupOfBooking, type GroupRow, insertGroup, linkBooking, patternsOfClass, listGroups, removeSeatName, touchGroup } from "../db/group-queries";
import { type BookingContext, type ClassPlace, type Contact, loadBookingContext, type SessionSelection } from "./booking-context";
import { type BookingView, bookingFromObjects, currentBooking, getBooking } from "./booking-views";
import { type Caller, createBooking } from "./bookings";
import { cancelBooking } from "./cancellations";
import { emitEvents } from "./events";
import { reduceSeatsIn, refusalError, sessionObject } from "./session-client";

export interface Person {
  name: string;
  email?: string | undefined;
}

/** One session, or every session of a course's schedule pattern (the class's only one when not named). */
export type GroupSessions = { sessionId: string } | { patternId?: string | undefined };

export interface NewGroup {
  reference: string;
  name: string;
  company?: string | undefined;
  organiser: Required<Person>;
  payer?: Required<Person> | undefined;
  classId: string;
  sessions: GroupSessions;
  participants: Person[];
}

export interface Participant {
  attendeeId: string;
  bookingId: string;
  position: number;
  name: string | null;
  email: string | null;
}

export interface GroupDetail {
  group: GroupRow;
  bookings: BookingView[];
  participants: Participant[];
}

/** Books the group's participants as one booking of N seats, or refuses with the booking's own error. */
export async function createGroup(caller: Caller, input: NewGroup): Promise<GroupDetail & { replayed?: boolean }> {
  const d1 = caller.env.DB;
  const payer = input.payer ?? input.organiser;
  const selection: SessionSelection =
    "sessionId" in input.sessions
      ? { registrationType: "SINGLE_SESSION", sessionId: input.sessions.sessionId }
      : { registrationType: "FULL_SCHEDULE", patternId: input.sessions.patternId ?? (await onlyPatternOf(d1, input.classId)) };
  const context = await loadGroupContext(caller, selection, payer, input.classId);
  const now = Date.now();
  const seed = caller.idempotency?.seed;
  // A retry under the same Idempotency-Key (taken over after a failure) makes the same group.
  const group: Omit<GroupRow, "status" | "updatedAt"> = {
    id: seed ? idFromSeed(ID_PREFIX.group, seed) : newId("group"),
    reference: input.reference,
    name: input.name,
    company: input.company ?? null,
    organiserName: input.organiser.name,
    organiserEmail: input.organiser.email.toLowerCase(),
    payerName: payer.name,
    payerEmail: payer.email.toLowerCase(),
    classId: input.classId,
    sessionId: "sessionId" in input.sessions ? input.sessions.sessionId : null,
    createdBy: caller.principal!.subject,
    createdAt: now,
  };
  const claimed = await insertGroup(d1, group);
  if (claimed === "taken") throw new ApiError("ALREADY_EXISTS", `A group with reference ${input.reference} exists already`, { reference: input.reference });

  const participants = input.participants.map((person) => ({ name: person.name, email: person.email?.toLowerCase() ?? null }));
  let result;
  try {
    result = await createBooking(caller, {
      ...bookingOf(context, selection, payer, participants.length, `Group ${input.reference}`),
      notificationsFor: (booking) => [
        organiserConfirmation({ ...group, status: "active", updatedAt: now }, booking, placeOf(context), participants),
        ...participants.flatMap((person, index) => participantConfirmation(group, booking, placeOf(context), person, attendeeId(booking.id, index + 1))),
      ],
    });
  } catch (error) {
    await deleteEmptyGroup(d1, group.id);
    throw error;
  }
  await linkBooking(d1, group.id, result.booking.id, participants, now);
  await emitEvents(caller.env, [
    {
      ...domainEvent("GROUP_BOOKED", {
        classId: context.class.id,
        studioId: context.studioId,
        cityId: context.cityId,
        sessionId: group.sessionId,
        bookingId: result.booking.id,
        customerId: result.booking.customer.id,
        email: group.payerEmail,
        seats: participants.length,
        amountPence: result.booking.totalAmountPence,
        source: "staff",
        data: { groupId: group.id, reference: group.reference, company: group.company, registrationType: context.registrationType, sessionIds: context.sessions.map((s) => s.id) },
      }),
      // One event per group, however often its request is retried.
      id: `evt_${group.id}`,
    },
  ]);
  const detail = await groupDetail(caller, group.id, [result.booking]);
  return result.replayed ? { ...detail, replayed: true } : detail;
}

/** Adds one participant while seats allow: a one-seat booking of their own in the group's session(s). */
export async function addParticipant(caller: Caller, groupId: string, person: Person): Promise<GroupDetail & { participant: Participant }> {
  const d1 = caller.env.DB;
  const group = await activeGroup(caller, groupId);
  const [firstId] = await groupBookingIds(d1, groupId);
  const first = firstId ? await getBooking(caller.env, caller.db, firstId) : undefined;
  if (!first) throw notFound("Group", groupId);
  const selection: SessionSelection = group.sessionId ? { registrationType: "SINGLE_SESSION", sessionId: group.sessionId } : { registrationType: "FULL_SCHEDULE", patternId: first.patternId! };
  const payer = { name: group.payerName, email: group.payerEmail };
  const context = await loadGroupContext(caller, selection, payer, group.classId);
  const participant = { name: person.name, email: person.email?.toLowerCase() ?? null };
  const result = await createBooking(caller, {
    ...bookingOf(context, selection, payer, 1, `Group ${group.reference}: ${person.name}`),
    notificationsFor: (booking) => participantConfirmation(group, booking, placeOf(context), participant, attendeeId(booking.id, 1)),
  });
  const now = Date.now();
  await linkBooking(d1, groupId, result.booking.id, [participant], now);
  // A cancel of the whole group marks it before reading its bookings, and this links before
  // reading the mark: one of the two sees the other, so no seat outlives a cancelled group.
  if ((await groupById(d1, groupId))?.status !== "active") {
    await cancelBooking(caller, result.booking);
    throw groupCancelled(groupId);
  }
  const detail = await groupDetail(caller, groupId, [result.booking]);
  return { ...detail, participant: { attendeeId: attendeeId(result.booking.id, 1), bookingId: result.booking.id, position: 1, ...participant } };
}

/**
 * Removes one participant before the session (a course: its first session) starts. Their own
 * one-seat booking is cancelled; a seat of the group's booking is given back in every session of
 * it. Giving seats back needs no capacity, so nothing has to be decided across sessions as taking
 * them does: each session's object shrinks the line from the seats seen to one fewer, keyed by
 * that transition and the attendee leaving (a retry is answered again, so it converges; a
 * concurrent removal of someone else from the same count is refused with SEATS_CHANGED), the
 * earliest session first, so a start passing meanwhile refuses before any other session changed.
 */
export async function removeParticipant(caller: Caller, groupId: string, participantId: string): Promise<GroupDetail> {
  const d1 = caller.env.DB;
  await activeGroup(caller, groupId);
  const seat = parseAttendeeId(participantId);
  if (!seat || (await groupOfBooking(d1, seat.bookingId)) !== groupId) throw notFound("Participant", participantId);
  const found = (await bookingFromObjects(caller.env, seat.bookingId)) ?? (await getBooking(caller.env, caller.db, seat.bookingId));
  if (!found || found.status === "cancelled") throw notFound("Participant", participantId);
  const lines = found.lines.filter((line) => line.status === "confirmed").sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  // The objects' seat counts (D1 may lag): the most any session holds, so a retry after some
  // sessions shrank repeats the same change (replayed where done) rather than starting another.
  const seats = Math.max(...(await Promise.all(lines.map(async (line) => (await sessionObject(caller.env, line.sessionId).bookingLine(found.id))?.seats ?? 0))));
  if (seat.position > seats) throw notFound("Participant", participantId);
  const booking: BookingView = { ...found, guestCount: seats };
  const now = Date.now();
  if (lines.some((line) => Date.parse(line.startsAt) <= now)) {
    throw new ApiError("PARTICIPANTS_LOCKED", "The session has started; participants can no longer be removed", { reason: "started", bookingId: booking.id });
  }
  if (booking.guestCount === 1) {
    const { replayed: _replayed, ...cancelled } = await cancelBooking(caller, booking);
    await touchGroup(d1, groupId, now);
    return groupDetail(caller, groupId, [cancelled]);
  }
  // The seats kept are repriced with the change, in the same transaction in each session's object
  // (no payment system yet: paid seats given back are only recorded; a refund follows with payments).
  const change = { bookingId: booking.id, fromSeats: seats, toSeats: seats - 1, changeId: participantId, price: priceForSeats(booking, found.guestCount, seats - 1) };
  const [earliest, ...rest] = lines;
  const answers = [await reduceSeatsIn(caller.env, earliest!.sessionId, change)];
  answers.push(...(await Promise.all(rest.map((line) => reduceSeatsIn(caller.env, line.sessionId, change)))));
  const refused = answers.find((answer) => !answer.ok);
  if (refused) throw refusalError(refused, { bookingId: booking.id });
  await removeSeatName(d1, booking.id, seat.position, booking.guestCount, now);
  const { linePrices, ...totals } = change.price;
  const shrunk: BookingView = {
    ...booking,
    ...totals,
    guestCount: change.toSeats,
    lines: booking.lines.map((line) => ({ ...line, seats: change.toSeats, pricePence: linePrices[line.sessionId] ?? line.pricePence })),
  };
  return groupDetail(caller, groupId, [shrunk]);
}

/**
 * The booking's price for `seats`: its price per seat (what the seats it was priced for cost,
 * before any discount) times the seats, quoted as pricing quotes any booking (group bookings
 * carry no promo), split over its sessions as a booking's lines are.
 */
function priceForSeats(booking: BookingView, pricedSeats: number, seats: number) {
  const quoted = quoteBooking({ registrationType: "SINGLE_SESSION", classPricePence: Math.round(booking.subtotalPence / pricedSeats), fullSchedulePricePence: null, sessionCount: 1, seats });
  if (!quoted.ok) throw new ApiError(quoted.code, quoted.message, quoted.details);
  const sessions = [...booking.lines].sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  const shares = splitPence(quoted.quote.totalPence, Math.max(sessions.length, 1));
  return {
    subtotalPence: quoted.quote.subtotalPence,
    discountPence: quoted.quote.discountPence,
    totalAmountPence: quoted.quote.totalPence,
    linePrices: Object.fromEntries(sessions.map((line, index) => [line.sessionId, shares[index]!])),
  };
}

/**
 * A group with its bookings and the participants on their seats; `fresh` are views newer than D1's.
 * The others are D1's with their lines as the session objects have them: the projection of a
 * cancellation just answered may still be on its way, and a cancelled seat must not be listed.
 */
export async function groupDetail(caller: Pick<Caller, "env" | "db">, groupId: string, fresh: BookingView[] = []): Promise<GroupDetail> {
  const d1 = caller.env.DB;
  const [group, bookingIds] = await Promise.all([groupById(d1, groupId), groupBookingIds(d1, groupId)]);
  if (!group) throw notFound("Group", groupId);
  const known = new Map(fresh.map((view) => [view.id, view]));
  const [views, attendees] = await Promise.all([
    Promise.all(bookingIds.map(async (id) => known.get(id) ?? (await currentBooking(caller.env, caller.db, id)))),
    attendeesOf(d1, bookingIds),
  ]);
  const bookings = views.filter((view): view is BookingView => view !== undefined);
  return { group, bookings, participants: participantsOf(bookings, attendees) };
}

/** The people on the group's confirmed seats, in booking order. */
function participantsOf(bookings: BookingView[], attendees: AttendeeRow[]): Participant[] {
  const seats = new Map(bookings.filter((booking) => booking.status === "confirmed").map((booking) => [booking.id, booking.guestCount]));
  const order = new Map(bookings.map((booking, index) => [booking.id, index]));
  return attendees
    .filter((row) => row.position <= (seats.get(row.bookingId) ?? 0))
    .sort((a, b) => order.get(a.bookingId)! - order.get(b.bookingId)! || a.position - b.position)
    .map((row) => ({ attendeeId: row.id, bookingId: row.bookingId, position: row.position, name: row.name, email: row.email }));
}

export { listGroups };

/** The class's schedule pattern when it has exactly one; else the request must name it. */
async function onlyPatternOf(d1: D1Database, classId: string): Promise<string> {
  const patterns = await patternsOfClass(d1, classId);
  if (patterns.length === 1) return patterns[0]!;
  const message = patterns.length === 0 ? "the class has no schedule pattern to book as a course" : "the class has several schedule patterns: name one";
  throw new ApiError("VALIDATION_FAILED", `Invalid body. patternId: ${message}`, { location: "json", issues: [{ path: "patternId", message, code: "custom" }] });
}

export async function activeGroup(caller: Pick<Caller, "env">, groupId: string): Promise<GroupRow> {
  const group = await groupById(caller.env.DB, groupId);
  if (!group) throw notFound("Group", groupId);
  if (group.status !== "active") throw groupCancelled(groupId);
  return group;
}

/** The stable refusal of a change to a cancelled group. */
export const groupCancelled = (groupId: string) => new ApiError("SESSION_NOT_BOOKABLE", "The group is cancelled", { reason: "group_cancelled", groupId });

async function loadGroupContext(caller: Caller, selection: SessionSelection, payer: Required<Person>, classId: string): Promise<BookingContext> {
  const context = await loadBookingContext(caller.db, selection, contactOf(payer), configOf(caller.env).catalogCacheMs);
  if (context.class.id !== classId) {
    throw new ApiError("INVALID_REFERENCE", "The session or schedule is not of this class", { classId, sessionClassId: context.class.id });
  }
  return context;
}

/** The booking of `seats` for the payer, at the server's price (staff book on account: no promo). */
function bookingOf(context: BookingContext, selection: SessionSelection, payer: Required<Person>, seats: number, notes: string) {
  const quoted = quoteBooking({
    registrationType: context.registrationType,
    classPricePence: context.class.pricePence,
    fullSchedulePricePence: context.class.fullSchedulePricePence,
    sessionCount: context.sessions.length,
    seats,
  });
  if (!quoted.ok) throw new ApiError(quoted.code, quoted.message, quoted.details);
  return {
    selection,
    guestCount: seats,
    contact: contactOf(payer),
    totalAmountPence: quoted.quote.totalPence,
    currency: "GBP",
    source: "staff" as const,
    notes,
    // The payer may book other seats of the same session (their own, another group's).
    overrideDuplicate: true,
  };
}

/** A person's name as a booking contact: the first word, and the rest. */
export function contactOf(person: Required<Person>): Contact {
  const [firstName = "", ...rest] = person.name.trim().split(/\s+/);
  return { email: person.email.toLowerCase(), firstName, lastName: rest.join(" ") };
}

export function placeOf(context: BookingContext): ClassPlace {
  return { studioId: context.studioId, cityId: context.cityId, className: context.class.name, studioName: context.studioName, timeZone: context.timeZone, cancellationPolicy: context.class.cancellationPolicy };
}

const sessionsOf = (booking: BookingView) => booking.lines.map((line) => ({ sessionId: line.sessionId, startsAt: line.startsAt }));

function organiserConfirmation(group: GroupRow, booking: BookingView, place: ClassPlace, participants: { name: string }[]): NotificationRequest {
  const request: TypedNotificationRequest<"GROUP_CONFIRMATION"> = {
    id: `group-confirmation:${group.id}`,
    kind: "GROUP_CONFIRMATION",
    recipient: { email: group.organiserEmail, firstName: contactOf({ name: group.organiserName, email: group.organiserEmail }).firstName },
    channel: "email",
    bookingId: booking.id,
    sessionId: group.sessionId,
    classId: group.classId,
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      groupName: group.name,
      reference: group.reference,
      ...(group.company ? { company: group.company } : {}),
      sessions: sessionsOf(booking),
      participants: participants.map((person) => ({ name: person.name })),
      totalAmountPence: booking.totalAmountPence,
      currency: "GBP",
    },
    requestedAt: Date.now(),
  };
  return request;
}

/** The participant's own confirmation (none without an email): the class, its time and studio, no manage link. */
function participantConfirmation(
  group: Pick<GroupRow, "name" | "organiserName" | "sessionId" | "classId">,
  booking: BookingView,
  place: ClassPlace,
  person: { name: string; email: string | null },
  seatId: string,
): NotificationRequest[] {
  if (!person.email) return [];
  const request: TypedNotificationRequest<"GROUP_PARTICIPANT_CONFIRMATION"> = {
    id: `group-participant:${seatId}`,
    kind: "GROUP_PARTICIPANT_CONFIRMATION",
    recipient: { email: person.email, firstName: contactOf({ name: person.name, email: person.email }).firstName },
    channel: "email",
    bookingId: booking.id,
    sessionId: group.sessionId,
    classId: group.classId,
    data: {
      className: place.className,
      studioName: place.studioName,
      timeZone: place.timeZone,
      groupName: group.name,
      participantName: person.name,
      organiserName: group.organiserName,
      sessions: sessionsOf(booking),
    },
    requestedAt: Date.now(),
  };
  return [request];
}
