/** Request and response schemas of named participants (public and admin routes). */
import { z } from "@hono/zod-openapi";
import { PersonNameSchema } from "../domain/person-name";

export const ParticipantSchema = z
  .object({
    attendeeId: z.string().openapi({ example: "atd_0123abcd-ses_42.2", description: "The seat's attendee id, as on the session roster" }),
    position: z.number().int().openapi({ description: "Seat number on the booking; 1 is the booker" }),
    name: z.string().nullable().openapi({ description: "null while the seat is unnamed" }),
    email: z.string().nullable(),
  })
  .openapi("Participant");

export const ParticipantList = z.object({ data: z.array(ParticipantSchema) }).openapi("ParticipantList");

export const ParticipantsBody = z
  .object({
    participants: z
      .array(
        z.object({
          position: z.number().int().min(1).max(10_000).openapi({ description: "1..guestCount (400 beyond)" }),
          name: PersonNameSchema.openapi({ example: "Grace Hopper", description: "Letters, spaces, apostrophes, hyphens, commas and periods after initials; 1–100 characters" }),
          email: z.email().max(254).toLowerCase().nullable().optional().openapi({ description: "Optional; stored lower-cased; null or omitted clears it" }),
        }),
      )
      .min(1)
      .max(500),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<number>();
    body.participants.forEach((participant, index) => {
      if (seen.has(participant.position)) ctx.addIssue({ code: "custom", path: ["participants", index, "position"], message: "Each position may appear only once" });
      seen.add(participant.position);
    });
  })
  .openapi("ParticipantsInput", { description: "Names the seats listed; seats not listed keep their names" });
