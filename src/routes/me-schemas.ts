/** Response schemas of the customer portal (src/routes/me.ts), as the OpenAPI document lists them. */
import { z } from "@hono/zod-openapi";
import { BOOKING_KINDS, BOOKING_STATUSES, COMMUNICATION_CHANNELS, COMMUNICATION_STATUSES, CONTACT_PREFERENCES, SESSION_STATUSES, WAITLIST_STATUSES } from "../db/schema";
import { ROLES } from "../middleware/auth";

const Named = z.object({ id: z.string(), name: z.string() });
const Studio = z.object({ id: z.string(), name: z.string(), timeZone: z.string().openapi({ description: "IANA zone: show times in it", example: "Europe/London" }) });

export const MeOverviewSchema = z
  .object({
    profile: z.object({
      email: z.string().openapi({ description: "Your sign-in's email, lower-cased" }),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      phone: z.string().nullable(),
      preferredContact: z.enum(CONTACT_PREFERENCES).nullable().openapi({ description: "Null until you choose" }),
      role: z.enum(ROLES),
    }),
    totals: z.object({
      bookings: z.number().int().openapi({ description: "Bookings not cancelled" }),
      seatsBooked: z.number().int().openapi({ description: "Seats on confirmed session lines: a booking of 2 seats over 3 sessions counts 6" }),
      totalSpentPence: z.number().int().openapi({ description: "Price of the confirmed lines, in pence (GBP): cancelled ones do not count" }),
      upcomingBookings: z.number().int().openapi({ description: "Bookings not cancelled with a confirmed session still to come" }),
    }),
  })
  .openapi("MeOverview");

export const MeBookingSchema = z
  .object({
    id: z.string(),
    status: z.enum(BOOKING_STATUSES),
    registrationType: z.enum(BOOKING_KINDS),
    class: Named,
    studio: Studio,
    seats: z.number().int().openapi({ description: "Seats per session: you plus your guests" }),
    sessions: z.array(
      z.object({ sessionId: z.string(), startsAt: z.iso.datetime(), endsAt: z.iso.datetime(), seats: z.number().int(), status: z.enum(BOOKING_STATUSES) }),
    ),
    nextStartsAt: z.iso.datetime().nullable().openapi({ description: "The next session still to come, or null" }),
    subtotalPence: z.number().int(),
    discountPence: z.number().int(),
    totalAmountPence: z.number().int().openapi({ description: "What the booking cost when made" }),
    currency: z.string(),
    confirmedAt: z.iso.datetime(),
    cancelledAt: z.iso.datetime().nullable(),
    cancellable: z.boolean().openapi({ description: "True while you may cancel it yourself: confirmed, and the class's cancellation policy still allows it" }),
    cancellationPolicy: z.string().openapi({ description: "The class's cancellation policy in words" }),
    links: z.object({
      manage: z.string().openapi({ description: "GET with your bearer token: the booking", example: "/api/v1/bookings/bkg_0123" }),
      cancel: z.string().openapi({ description: "POST with your bearer token: cancel it", example: "/api/v1/bookings/bkg_0123/cancel" }),
    }),
  })
  .openapi("MeBooking");

export const MeWaitlistEntrySchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    class: Named,
    studio: Studio,
    session: z.object({ startsAt: z.iso.datetime(), endsAt: z.iso.datetime(), status: z.enum(SESSION_STATUSES) }),
    guestCount: z.number().int(),
    status: z.enum(WAITLIST_STATUSES),
    confirmed: z.boolean().nullable().openapi({ description: "Whether the email is confirmed (only confirmed entries get offers); null once out of line" }),
    position: z.number().int().nullable().openapi({ description: "Place among those confirmed and waiting (1 = next); null otherwise" }),
    offerExpiresAt: z.iso.datetime().nullable().openapi({ description: "While offered: the seats are held for you until then" }),
    bookingId: z.string().nullable(),
    joinedAt: z.iso.datetime(),
    token: z.string().nullable().openapi({ description: "Secret, while in line: the entry's token (X-Waitlist-Token) for leavePath" }),
    leavePath: z.string().nullable().openapi({ description: "DELETE with the token to leave the list", example: "/api/v1/sessions/ses_0123/waitlist/me" }),
  })
  .openapi("MeWaitlistEntry");

export const MeInterestSchema = z
  .object({
    id: z.string(),
    course: Named,
    city: z.object({ id: z.string(), name: z.string().nullable() }).nullable().openapi({ description: "Null: any city" }),
    registeredAt: z.iso.datetime(),
    notifiedAt: z.iso.datetime().nullable(),
    notifiedSessionId: z.string().nullable(),
  })
  .openapi("MeInterest");

export const MeCommunicationSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ description: "The notification kind (BOOKING_CONFIRMED, OFFER_MADE …)" }),
    channel: z.enum(COMMUNICATION_CHANNELS),
    status: z.enum(COMMUNICATION_STATUSES).openapi({ description: "pending (being sent), sent, or failed" }),
    subject: z.string().nullable(),
    content: z.string().nullable().openapi({ description: "Plain text as sent, with link tokens masked" }),
    bookingId: z.string().nullable(),
    waitlistEntryId: z.string().nullable(),
    sessionId: z.string().nullable(),
    classId: z.string().nullable(),
    requestedAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .openapi("MeCommunication");
