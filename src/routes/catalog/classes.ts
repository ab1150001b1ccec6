/** Public catalog of classes: what is on, where and when. No token needed. */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { getPublicClass, listPublicClasses } from "../../db/catalog-queries";
import { PAYMENT_MODES } from "../../db/schema";
import { describeCancellationPolicy } from "../../domain/booking-terms";
import { notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import {
  classOfferFields,
  fromBeforeTo,
  InstantParam,
  PublicCityRef,
  PublicPerson,
  PublicStudioRef,
  SessionStatus,
  sessionTimeFields,
  sessionTimes,
  toPublicPerson,
} from "./schemas";

/** Most sessions listed on a class page; narrow the window with from/to to see later ones. */
export const MAX_UPCOMING_SESSIONS = 50;

const tags = ["Catalog"];
const Params = IdParam("Class", "cls_wheel_throwing");
const emptyWindow = { message: "from must be before to", path: ["to"] };

const ClassListQuery = PaginationQuery.extend({
  cityId: z.string().min(1).max(64).optional().openapi({ description: "Only classes in this city" }),
  studioId: z.string().min(1).max(64).optional().openapi({ description: "Only classes at this studio" }),
  from: InstantParam("Only classes with a non-cancelled session starting at or after this instant"),
  to: InstantParam("Only classes with a non-cancelled session starting before this instant"),
}).refine(fromBeforeTo, emptyWindow);

const ClassDetailQuery = z
  .object({
    from: InstantParam("List sessions starting at or after this instant (default and minimum: now)"),
    to: InstantParam("List sessions starting before this instant"),
  })
  .refine(fromBeforeTo, emptyWindow);

const PublicClassSchema = z
  .object({
    ...classOfferFields,
    studio: PublicStudioRef,
    city: PublicCityRef,
    nextSession: z
      .object({ id: z.string(), startsAt: z.iso.datetime() })
      .nullable()
      .openapi({ description: "The next non-cancelled session starting after now, whatever from/to say" }),
  })
  .openapi("PublicClass");

const PublicClassSessionSchema = z
  .object({
    id: z.string(),
    ...sessionTimeFields,
    capacity: z.number().int(),
    status: SessionStatus,
    location: z.string().nullable(),
    instructor: PublicPerson.nullable(),
  })
  .openapi("PublicClassSession");

const PublicClassDetailSchema = z
  .object({
    ...classOfferFields,
    studio: PublicStudioRef,
    city: PublicCityRef,
    requiredTeachingRole: z.object({ id: z.string(), name: z.string() }),
    resourceRequirements: z.array(z.object({ resourceId: z.string(), name: z.string(), quantityPerStudent: z.number().int() })),
    paymentMode: z.enum(PAYMENT_MODES).openapi({ description: "online: paid when booking; at_studio: paid at the desk" }),
    cancellationPolicy: z.string().openapi({ description: "The class's cancellation policy in words" }),
    upcomingSessions: z
      .array(PublicClassSessionSchema)
      .openapi({ description: `Non-cancelled sessions in the window, by start, at most ${MAX_UPCOMING_SESSIONS}` }),
    hasMoreUpcomingSessions: z.boolean().openapi({ description: "More sessions exist in the window than were listed" }),
  })
  .openapi("PublicClassDetail");

export const publicClassRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List classes",
      description: "Classes ordered by name, optionally only those with a session in [from, to).",
      request: { query: ClassListQuery },
      responses: { 200: jsonResponse(page(PublicClassSchema), "A page of classes"), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const { limit, cursor, cityId, studioId, from, to } = c.req.valid("query");
      const after = cursor ? decodeCursor(cursor, 2).map(String) : undefined;
      const rows = await listPublicClasses(getDb(c.env.DB), {
        cityId,
        studioId,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        after: after ? { name: after[0]!, id: after[1]! } : undefined,
        limit,
        now: new Date(),
      });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.name, row.id]);
      return c.json(
        {
          data: data.map(({ nextSessionId, nextSessionStartsAt, ...row }) => ({
            ...row,
            nextSession:
              nextSessionId && nextSessionStartsAt !== null
                ? { id: nextSessionId, startsAt: new Date(Number(nextSessionStartsAt)).toISOString() }
                : null,
          })),
          nextCursor,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a class with its upcoming sessions",
      request: { params: Params, query: ClassDetailQuery },
      responses: { 200: jsonResponse(PublicClassDetailSchema, "The class"), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { from, to } = c.req.valid("query");
      const now = Date.now();
      const found = await getPublicClass(getDb(c.env.DB), id, {
        from: new Date(Math.max(now, from ? Date.parse(from) : now)),
        to: to ? new Date(to) : undefined,
        limit: MAX_UPCOMING_SESSIONS,
      });
      if (!found) throw notFound("Class", id);
      const { sessions, policy, ...details } = found;
      const zone = details.studio.timeZone;
      return c.json(
        {
          ...details,
          cancellationPolicy: describeCancellationPolicy(policy),
          upcomingSessions: sessions.slice(0, MAX_UPCOMING_SESSIONS).map((s) => ({
            id: s.id,
            ...sessionTimes(s.startsAt, s.endsAt, zone),
            capacity: s.capacity,
            status: s.status,
            location: s.location,
            instructor: toPublicPerson(s.instructorId, s.instructorFirstName, s.instructorLastName),
          })),
          hasMoreUpcomingSessions: sessions.length > MAX_UPCOMING_SESSIONS,
        },
        200,
      );
    },
  );
