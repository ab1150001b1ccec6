/** Request and response schemas shared by the public and staff waitlist routes. */
import { z } from "@hono/zod-openapi";
import { WAITLIST_PRIORITIES, WAITLIST_STATUSES } from "../db/schema";
import type { WaitlistEntryView } from "../durable-objects/session-contract";
import { ContactSchema } from "./booking-schemas";

const MAX_PARTY = 50;

export const JoinFields = {
  email: ContactSchema.shape.email,
  firstName: ContactSchema.shape.firstName,
  lastName: ContactSchema.shape.lastName,
  guestCount: z.number().int().min(1).max(MAX_PARTY).openapi({ description: "Seats wanted: the customer plus their guests" }),
  preferredContact: z.enum(["email", "sms", "phone"]).optional(),
  alternativeDates: z
    .array(z.iso.date())
    .max(10)
    .optional()
    .openapi({ description: "Other dates (YYYY-MM-DD) that would suit, for staff planning extra sessions" }),
  notes: z.string().trim().max(1000).optional(),
};

export const WaitlistEntrySchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    email: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    guestCount: z.number().int(),
    priority: z.enum(WAITLIST_PRIORITIES),
    status: z.enum(WAITLIST_STATUSES),
    confirmed: z.boolean().openapi({ description: "False until the email is confirmed by the link in the join message: an unconfirmed entry gets no offer and has no position" }),
    confirmBy: z.string().nullable().openapi({ description: "UTC; an unconfirmed entry leaves the waitlist then" }),
    position: z.number().int().nullable().openapi({ description: "Place among those confirmed and still waiting (1 = next); null while unconfirmed, once offered or out of line" }),
    offer: z
      .object({ number: z.number().int(), expiresAt: z.string().openapi({ description: "UTC; the seats are held for the customer until then" }) })
      .nullable(),
    offersMade: z.number().int(),
    bookingId: z.string().nullable(),
    preferredContact: z.string().nullable(),
    alternativeDates: z.array(z.string()).nullable(),
    notes: z.string().nullable(),
    addedBy: z.string().nullable(),
    joinedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WaitlistEntry");

/** The API view of an entry: ISO times, and the offer's hold id kept private. */
export function toEntryResponse(entry: WaitlistEntryView) {
  return {
    ...entry,
    offer: entry.offer ? { number: entry.offer.number, expiresAt: new Date(entry.offer.expiresAt).toISOString() } : null,
    confirmBy: entry.confirmBy === null ? null : new Date(entry.confirmBy).toISOString(),
    joinedAt: new Date(entry.joinedAt).toISOString(),
    updatedAt: new Date(entry.updatedAt).toISOString(),
  };
}

export const TokenQuery = z.object({
  token: z.string().min(1).max(300).optional().openapi({ description: "The entry's token from joining (or send it as X-Waitlist-Token)" }),
});
