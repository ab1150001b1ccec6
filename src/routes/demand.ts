/** Demand signals from clients: a course viewed, a checkout started (POST /api/v1/demand/signals). */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { clientKeyOf } from "../domain/client-identity";
import { createRouter, errorResponses, jsonBody, jsonResponse } from "../lib/openapi";
import { waitUntilOf } from "../lib/wait-until";
import { CLIENT_SIGNAL_TYPES, recordClientSignal } from "../services/demand-signals";

const Id = z.string().trim().min(1).max(64);
const MAX_METADATA_KEYS = 20;

/** Flat and small: a few labelled scalars (where the view came from, an experiment arm…). */
const Metadata = z
  .record(z.string().min(1).max(40), z.union([z.string().max(200), z.number(), z.boolean(), z.null()]))
  .refine((value) => Object.keys(value).length <= MAX_METADATA_KEYS, `At most ${MAX_METADATA_KEYS} keys`)
  .openapi({ description: `Up to ${MAX_METADATA_KEYS} keys (1–40 characters) with string (≤ 200 characters), number, boolean or null values` });

const NewSignalBody = z
  .object({
    courseId: Id.openapi({ description: "The class (course) the customer looked at", example: "cls_wheel_basics" }),
    signalType: z.enum(CLIENT_SIGNAL_TYPES),
    cityId: Id.optional().openapi({ description: "The city the customer browsed in; defaults to the course's city" }),
    metadata: Metadata.optional(),
  })
  .openapi("NewDemandSignal");

const SignalAccepted = z
  .object({
    eventId: z.string().openapi({ description: "The event's id; the demand signal is written with the same id" }),
    signalType: z.enum(CLIENT_SIGNAL_TYPES),
    courseId: z.string(),
    cityId: z.string(),
  })
  .openapi("DemandSignalAccepted");

export const demandSignalRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/signals",
    tags: ["Demand"],
    summary: "Record a course view or a checkout start (public; a customer token links it to the customer)",
    description:
      "Accepted signals are written to demand analytics shortly after (through the events queue). " +
      "Each client address may send a limited number per minute (429 RATE_LIMITED beyond).",
    request: { body: jsonBody(NewSignalBody) },
    responses: {
      202: jsonResponse(SignalAccepted, "Accepted; written to analytics shortly"),
      ...errorResponses(400, 401, 404, 413, 422, 429),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { eventId, cityId } = await recordClientSignal(
      {
        env: c.env,
        db: getDb(c.env.DB),
        principal: c.get("principal"),
        clientKey: clientKeyOf(c.req.header("CF-Connecting-IP")),
        waitUntil: waitUntilOf(c),
      },
      body,
    );
    return c.json({ eventId, signalType: body.signalType, courseId: body.courseId, cityId }, 202);
  },
);
