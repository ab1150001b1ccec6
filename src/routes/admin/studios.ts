/** Admin CRUD for studios: a place in a city, with the IANA time zone its schedules run in. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt } from "drizzle-orm";
import { getDb } from "../../db/client";
import { cities, studios } from "../../db/schema";
import { isValidTimeZone } from "../../domain/recurrence";
import { notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { assertReferencesExist } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";

export const StudioSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    cityId: z.string(),
    timeZone: z.string().openapi({ example: "Europe/London" }),
    currency: z.literal("GBP"),
    address: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Studio");

const StudioInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    cityId: z.string().min(1).max(64).openapi({ description: "An existing city (422 INVALID_REFERENCE otherwise)" }),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .refine(isValidTimeZone, "Not an IANA time zone, e.g. Europe/London")
      .openapi({ example: "Europe/London", description: "IANA zone that recurring schedules expand in" }),
    // No zod default: a PATCH body is this schema made partial, and a default would overwrite.
    currency: z.literal("GBP").optional().openapi({ description: "Only GBP for now; GBP when omitted" }),
    address: z.string().trim().min(1).max(300).nullable().optional(),
  })
  .openapi("StudioInput");

const ListQuery = PaginationQuery.extend({
  cityId: z.string().min(1).max(64).optional().openapi({ description: "Only studios in this city" }),
});

const tags = ["Admin: studios"];
const Params = IdParam("Studio", "stu_shoreditch");

type StudioRow = typeof studios.$inferSelect;
const toStudio = (row: StudioRow) => ({
  ...row,
  currency: "GBP" as const,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export const studioRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List studios",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(StudioSchema), "A page of studios"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, cityId } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select()
        .from(studios)
        .where(and(after ? gt(studios.id, after) : undefined, cityId ? eq(studios.cityId, cityId) : undefined))
        .orderBy(studios.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      return c.json({ data: data.map(toStudio), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a studio",
      ...adminOnly,
      request: { body: jsonBody(StudioInput) },
      responses: { 201: jsonResponse(StudioSchema, "The new studio"), ...errorResponses(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      await assertReferencesExist(db, cities, "cityId", [input.cityId]);
      const [row] = await db
        .insert(studios)
        .values({ id: newId("studio"), ...input })
        .returning();
      return c.json(toStudio(row!), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a studio",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(StudioSchema, "The studio"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await getDb(c.env.DB).query.studios.findFirst({ where: eq(studios.id, id) });
      if (!row) throw notFound("Studio", id);
      return c.json(toStudio(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a studio",
      ...adminOnly,
      request: { params: Params, body: jsonBody(StudioInput.partial()) },
      responses: { 200: jsonResponse(StudioSchema, "The updated studio"), ...errorResponses(400, 401, 403, 404, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      if (input.cityId !== undefined) await assertReferencesExist(db, cities, "cityId", [input.cityId]);
      const [row] = await db
        .update(studios)
        .set({ ...input, updatedAt: new Date() })
        .where(eq(studios.id, id))
        .returning();
      if (!row) throw notFound("Studio", id);
      return c.json(toStudio(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a studio (refused with 409 IN_USE while it has classes or resources)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await getDb(c.env.DB).delete(studios).where(eq(studios.id, id)).returning({ id: studios.id });
      if (deleted.length === 0) throw notFound("Studio", id);
      return c.body(null, 204);
    },
  );
