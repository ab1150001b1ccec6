/**
 * Outgoing webhook endpoints (Standard Webhooks), admin only: subscribe a URL to events, see its
 * delivery log, send a test, redeliver. The signing secret is answered only at creation and
 * rotation. (The inbound Resend webhook is src/routes/webhooks.ts.)
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_ENDPOINT_STATUSES } from "../../db/schema";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhooks";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { ApiError } from "../../errors";
import {
  createEndpoint,
  deleteEndpoint,
  endpointById,
  listDeliveries,
  listEndpoints,
  queueTestDelivery,
  redeliver,
  rotateSecret,
  updateEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../../services/webhooks";
import { adminOnly } from "./access";

const tags = ["Admin: webhooks"];
const Params = IdParam("Webhook endpoint", "whe_0123");
const DeliveryParams = Params.extend({
  deliveryId: z.string().min(1).max(64).openapi({ param: { name: "deliveryId", in: "path" }, example: "msg_0123" }),
});

const Url = z.url({ protocol: /^https?$/ }).max(2000).openapi({ description: "https in production; a public host (no private, loopback or internal address, no credentials)", example: "https://hooks.example.com/studio" });
const Events = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).openapi({ description: "Event types to receive" });

const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: z.enum(WEBHOOK_ENDPOINT_STATUSES),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    failingSince: z.iso.datetime().nullable().openapi({ description: "The first failed attempt since the last success; null while healthy" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("WebhookEndpoint");

const EndpointWithSecret = EndpointSchema.extend({
  secret: z.string().openapi({ description: "whsec_… signing secret (Standard Webhooks); shown only now", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("WebhookEndpointWithSecret");

const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The webhook-id header, the same on every attempt" }),
    endpointId: z.string(),
    eventType: z.string(),
    eventId: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("WebhookDelivery");

const CreateBody = z.object({ url: Url, events: Events, description: z.string().trim().max(500).optional() });
const PatchBody = z
  .object({ url: Url.optional(), events: Events.optional(), description: z.string().trim().max(500).nullable().optional(), status: z.enum(WEBHOOK_ENDPOINT_STATUSES).optional() })
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: "nothing to change" });

const iso = (date: Date | null) => date?.toISOString() ?? null;
const toEndpoint = ({ secret: _secret, createdBy: _createdBy, ...row }: WebhookEndpoint) => ({
  ...row,
  failingSince: iso(row.failingSince),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});
const toDelivery = ({ payload: _payload, ...row }: WebhookDelivery) => ({
  ...row,
  lastAttemptAt: iso(row.lastAttemptAt),
  nextAttemptAt: iso(row.nextAttemptAt),
  createdAt: row.createdAt.toISOString(),
});

/** A keyset cursor of (createdAt ms, id), or undefined for the first page. */
function afterOf(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [createdAtMs, id] = decodeCursor(cursor, 2);
  if (typeof createdAtMs !== "number" || !Number.isSafeInteger(createdAtMs) || typeof id !== "string") {
    throw new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", { location: "query", issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }] });
  }
  return { createdAt: new Date(createdAtMs), id };
}

export const webhookRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Subscribe a URL to events; the answer carries the signing secret, shown only this once",
      ...adminOnly,
      request: { body: jsonBody(CreateBody) },
      responses: { 201: jsonResponse(EndpointWithSecret, "The endpoint and its secret"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const row = await createEndpoint(c.env, getDb(c.env.DB), c.req.valid("json"), c.get("principal")!.subject);
      return c.json({ ...toEndpoint(row), secret: row.secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List webhook endpoints, newest first (no secrets)",
      ...adminOnly,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(EndpointSchema), "A page of endpoints"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const rows = await listEndpoints(getDb(c.env.DB), { limit: limit + 1, after: afterOf(cursor) });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.createdAt.getTime(), row.id]);
      return c.json({ data: data.map(toEndpoint), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "One webhook endpoint (no secret)",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(EndpointSchema, "The endpoint"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(toEndpoint(await endpointById(getDb(c.env.DB), c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Change the URL, events, description or status; enabling clears the failure count",
      ...adminOnly,
      request: { params: Params, body: jsonBody(PatchBody) },
      responses: { 200: jsonResponse(EndpointSchema, "The endpoint"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(toEndpoint(await updateEndpoint(c.env, getDb(c.env.DB), c.req.valid("param").id, c.req.valid("json"))), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete an endpoint and its delivery log",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      await deleteEndpoint(getDb(c.env.DB), c.req.valid("param").id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/rotate-secret",
      tags,
      summary: "Replace the signing secret (the old one stops at once); the new one is shown only now",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(EndpointWithSecret, "The endpoint and its new secret"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const row = await rotateSecret(getDb(c.env.DB), c.req.valid("param").id);
      return c.json({ ...toEndpoint(row), secret: row.secret }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/test",
      tags,
      summary: "Send a webhook.test message through the usual delivery path (queued; follow it in the delivery log)",
      ...adminOnly,
      request: { params: Params },
      responses: { 202: jsonResponse(DeliverySchema, "The queued delivery"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(toDelivery(await queueTestDelivery(c.env, getDb(c.env.DB), c.req.valid("param").id)), 202),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/deliveries",
      tags,
      summary: "The endpoint's delivery log, newest first",
      ...adminOnly,
      request: { params: Params, query: PaginationQuery },
      responses: { 200: jsonResponse(page(DeliverySchema), "A page of deliveries"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const db = getDb(c.env.DB);
      await endpointById(db, id);
      const rows = await listDeliveries(db, id, { limit: limit + 1, after: afterOf(cursor) });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.createdAt.getTime(), row.id]);
      return c.json({ data: data.map(toDelivery), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/deliveries/{deliveryId}/redeliver",
      tags,
      summary: "Send a delivery again from its first attempt (the same webhook-id)",
      ...adminOnly,
      request: { params: DeliveryParams },
      responses: { 202: jsonResponse(DeliverySchema, "The delivery, pending again"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid("param");
      return c.json(toDelivery(await redeliver(c.env, getDb(c.env.DB), id, deliveryId)), 202);
    },
  );
