/** Request and response schemas of the staff customer records (src/routes/admin/customers.ts, booking-customer.ts). */
import { z } from "@hono/zod-openapi";
import { ATTENDANCE_STATUSES, BOOKING_KINDS, BOOKING_SOURCES, BOOKING_STATUSES, CERTIFICATE_STATUSES, CONTACT_PREFERENCES } from "../../db/schema";
import { PaginationQuery } from "../../lib/openapi";
import type { CustomerProfile } from "../../services/customer-records";
import { CommunicationSchema, toCommunication } from "./bookings";

export const MAX_STAFF_NOTES = 4000;
export const MAX_PREFERENCES = 50;

export const CustomerSearchQuery = PaginationQuery.extend({
  q: z
    .string()
    .trim()
    .max(254)
    .optional()
    .openapi({
      description:
        "Prefix of an email, first or last name (or \"first last\"), or phone number as stored; case-insensitive for ASCII letters. " +
        "With an @ only emails are searched; digits (and + ( ) - spaces) only phone numbers. Empty or absent: every customer, by email.",
      example: "ada",
    }),
});

export const CustomerSummarySchema = z
  .object({
    id: z.string(),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    phone: z.string().nullable(),
    preferredContact: z.enum(CONTACT_PREFERENCES).nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("CustomerSummary");

const PreferenceValue = z.union([z.string().max(500), z.number().finite(), z.boolean(), z.null()]);
const Preferences = z
  .record(z.string().min(1).max(64), PreferenceValue)
  .refine((value) => Object.keys(value).length <= MAX_PREFERENCES, `at most ${MAX_PREFERENCES} preferences`)
  .openapi({ description: `A flat object of at most ${MAX_PREFERENCES} string, number, boolean or null values`, example: { seat: "front", wheelchair: true } });

export const CustomerPatch = z
  .object({
    staffNotes: z.string().max(MAX_STAFF_NOTES).nullable().optional().openapi({ description: `Staff only, never shown to the customer; null clears (at most ${MAX_STAFF_NOTES} characters)` }),
    preferences: Preferences.nullable().optional().openapi({ description: "Replaces the whole object; null clears" }),
  })
  .strict()
  .refine((value) => value.staffNotes !== undefined || value.preferences !== undefined, { message: "send staffNotes, preferences or both" })
  .openapi("CustomerPatch");

const Stats = z.object({
  totalBookings: z.number().int().openapi({ description: "Bookings still confirmed" }),
  seatsBooked: z.number().int().openapi({ description: "Seats of their confirmed lines (seats × sessions)" }),
  totalSpentPence: z.number().int().openapi({ description: "What their confirmed lines cost, in pence" }),
  firstBookingAt: z.iso.datetime().nullable(),
  lastBookingAt: z.iso.datetime().nullable(),
  upcomingBookings: z.number().int().openapi({ description: "Confirmed bookings with a confirmed session still to come" }),
  noShows: z.number().int().openapi({ description: "Attendees marked no_show on confirmed lines" }),
  certificates: z.number().int().openapi({ description: "Certificates issued and not revoked (expired ones included)" }),
});

const HistoryBooking = z.object({
  id: z.string(),
  status: z.enum(BOOKING_STATUSES),
  registrationType: z.enum(BOOKING_KINDS),
  classId: z.string(),
  className: z.string(),
  guestCount: z.number().int(),
  totalAmountPence: z.number().int(),
  currency: z.string(),
  source: z.string().openapi({ description: `Where the booking came from: ${BOOKING_SOURCES.join(", ")}` }),
  bookedBy: z.string().nullable().openapi({ description: "The staff subject who booked on the customer's behalf" }),
  notes: z.string().nullable().openapi({ description: "The customer's own booking notes" }),
  confirmedAt: z.iso.datetime(),
  cancelledAt: z.iso.datetime().nullable(),
  sessions: z.array(
    z.object({
      sessionId: z.string(),
      startsAt: z.iso.datetime(),
      endsAt: z.iso.datetime(),
      seats: z.number().int(),
      pricePence: z.number().int(),
      status: z.enum(BOOKING_STATUSES),
      attendance: z.array(z.object({ attendeeId: z.string(), status: z.enum(ATTENDANCE_STATUSES), recordedBy: z.string(), recordedAt: z.iso.datetime() })),
    }),
  ),
});

export const CustomerProfileSchema = CustomerSummarySchema.extend({
  staffNotes: z.string().nullable().openapi({ description: "Staff only: never in anything the customer sees" }),
  preferences: z.record(z.string(), PreferenceValue),
  stats: Stats,
  history: z.object({
    bookings: z.array(HistoryBooking).openapi({ description: "The latest 50 bookings, newest first, cancelled ones included" }),
    moreBookings: z.boolean().openapi({ description: "True when there are older bookings: GET /admin/bookings?email= lists them all" }),
    communications: z.array(CommunicationSchema).openapi({ description: "The latest 50 messages, newest first (GET /admin/customers/{id}/communications pages through all)" }),
    certificates: z.array(
      z.object({
        id: z.string(),
        number: z.string(),
        classId: z.string(),
        bookingId: z.string(),
        holderName: z.string(),
        status: z.enum(CERTIFICATE_STATUSES),
        issuedAt: z.iso.datetime(),
        expiresAt: z.iso.datetime().nullable(),
      }),
    ),
  }),
}).openapi("CustomerProfile");

/** The profile as the API sends it (communications with ISO times). */
export const toProfileResponse = (profile: CustomerProfile) => ({
  ...profile,
  history: { ...profile.history, communications: profile.history.communications.map(toCommunication) },
});
