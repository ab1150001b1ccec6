/** Public view of one class session: when, where, who teaches and how full it is. No token needed. */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { getPublicSession } from "../../db/catalog-queries";
import { notFound } from "../../errors";
import { sessionAvailability } from "../../services/availability";
import { createRouter, errorResponses, IdParam, jsonResponse } from "../../lib/openapi";
import {
  classOfferFields,
  PublicCityRef,
  PublicPerson,
  PublicStudioRef,
  SessionStatus,
  sessionTimeFields,
  sessionTimes,
  toPublicPerson,
} from "./schemas";

const tags = ["Catalog"];
const Params = IdParam("Session", "ses_2026_03_02_wheel");

const PublicSessionSchema = z
  .object({
    id: z.string(),
    patternId: z.string().nullable().openapi({ description: "The schedule pattern that generated it; null for a one-off" }),
    class: z.object(classOfferFields),
    studio: PublicStudioRef,
    city: PublicCityRef,
    instructor: PublicPerson.nullable(),
    assistants: z.array(PublicPerson),
    capacity: z.number().int(),
    seatsBooked: z.number().int().openapi({
      description:
        "Seats held by confirmed bookings as recorded in the catalog database. Live availability " +
        "(including holds) is owned by the session's booking engine and may differ briefly.",
    }),
    status: SessionStatus,
    location: z.string().nullable(),
    ...sessionTimeFields,
  })
  .openapi("PublicSession");

const AvailabilitySchema = z
  .object({
    sessionId: z.string(),
    capacity: z.number().int(),
    booked: z.number().int(),
    held: z.number().int().openapi({ description: "Seats in checkout holds and pending offers" }),
    availableSpots: z.number().int(),
    status: z.enum(["open", "full", "cancelled"]),
    isFull: z.boolean(),
    pricePence: z.number().int(),
    currency: z.literal("GBP"),
    resources: z.array(z.object({ resourceId: z.string(), name: z.string(), perStudent: z.number().int(), available: z.number().int() })),
    waitlistLength: z.number().int().openapi({ description: "Parties on the waitlist: waiting, or holding an offer" }),
    version: z.number().int().openapi({ description: "Increases with every change to the session's seats or waitlist" }),
  })
  .openapi("SessionAvailability");

export const publicSessionRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/availability",
      tags,
      summary: "Live seats and resources left, answered by the session's Durable Object",
      request: { params: Params },
      responses: { 200: jsonResponse(AvailabilitySchema, "Availability"), ...errorResponses(404) },
    }),
    async (c) => c.json(await sessionAvailability(c.env, getDb(c.env.DB), c.req.valid("param").id), 200),
  )
  .openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a class session",
    request: { params: Params },
    responses: { 200: jsonResponse(PublicSessionSchema, "The session"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const found = await getPublicSession(getDb(c.env.DB), id);
    if (!found) throw notFound("Session", id);
    const { currency, instructorId, instructorFirstName, instructorLastName, assistants, startsAt, endsAt, ...session } = found;
    return c.json(
      {
        ...session,
        class: { ...session.class, currency },
        instructor: toPublicPerson(instructorId, instructorFirstName, instructorLastName),
        assistants: assistants.map((a) => toPublicPerson(a.id, a.firstName, a.lastName)!),
        ...sessionTimes(startsAt, endsAt, session.studio.timeZone),
      },
      200,
    );
  },
);
