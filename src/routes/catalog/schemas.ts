/** Response and query schemas shared by the public catalog routes. */
import { z } from "@hono/zod-openapi";
import { BOOKING_KINDS, SESSION_STATUSES } from "../../db/schema";
import { publicDisplayName } from "../../domain/display-name";
import { toLocalIso } from "../../domain/recurrence";

/** An ISO 8601 instant with `Z` or an explicit offset, e.g. `2026-03-01T09:00:00Z`. */
export const InstantParam = (description: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({ description, example: "2026-03-01T00:00:00Z" });

/** Refinement for queries with `from` and `to`: the window must not be empty (bad dates are reported by their own fields). */
export function fromBeforeTo(query: { from?: string; to?: string }): boolean {
  if (!query.from || !query.to) return true;
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  return Number.isNaN(from) || Number.isNaN(to) || from < to;
}

export const PublicStudioRef = z
  .object({ id: z.string(), name: z.string(), timeZone: z.string().openapi({ example: "Europe/London" }) })
  .openapi("PublicStudioRef");

export const PublicCityRef = z.object({ id: z.string(), name: z.string() }).openapi("PublicCityRef");

export const PublicPerson = z
  .object({
    id: z.string(),
    displayName: z.string().openapi({ description: "First name and last initial", example: "Sam T." }),
  })
  .openapi("PublicPerson");

/** Prices and booking options of a class, as shown to customers. */
export const classOfferFields = {
  id: z.string(),
  name: z.string(),
  description: z.string(),
  pricePence: z.number().int().openapi({ description: "Price of one session in pence" }),
  fullSchedulePricePence: z.number().int().nullable().openapi({ description: "Price of the whole schedule in pence, if sold" }),
  currency: z.string().openapi({ example: "GBP" }),
  durationMinutes: z.number().int(),
  bookingKinds: z.array(z.enum(BOOKING_KINDS)),
};

/** When a session runs, in UTC and on the studio's wall clock. */
export const sessionTimeFields = {
  startsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
  endsAt: z.iso.datetime().openapi({ description: "UTC instant" }),
  localStart: z.string().openapi({ description: "Start in the studio's time zone, ISO 8601 with offset", example: "2026-03-02T18:00:00+00:00" }),
  localEnd: z.string().openapi({ description: "End in the studio's time zone, ISO 8601 with offset" }),
};

export const SessionStatus = z.enum(SESSION_STATUSES);

/** UTC and studio-local ISO strings for a session's start and end. */
export function sessionTimes(startsAt: Date, endsAt: Date, timeZone: string) {
  return {
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    localStart: toLocalIso(startsAt, timeZone),
    localEnd: toLocalIso(endsAt, timeZone),
  };
}

/** The public face of a staff member, or null when none is assigned (a left join found nothing). */
export function toPublicPerson(id: string | null, firstName: string | null, lastName: string | null) {
  if (!id) return null;
  return { id, displayName: publicDisplayName(firstName ?? "", lastName ?? "") };
}
