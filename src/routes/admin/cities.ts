/** Admin CRUD for cities. */
import { createRoute, z } from "@hono/zod-openapi";
import { eq, gt } from "drizzle-orm";
import { getDb } from "../../db/client";
import { cities } from "../../db/schema";
import { notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";

export const CitySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    countryCode: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("City");

const CityInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    countryCode: z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2 code, e.g. GB"),
  })
  .openapi("CityInput");

const tags = ["Admin: cities"];
const Params = IdParam("City", "cty_london");

type CityRow = typeof cities.$inferSelect;
const toCity = (row: CityRow) => ({ ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() });

export const cityRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List cities",
      ...staffOrAdmin,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(CitySchema), "A page of cities"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select()
        .from(cities)
        .where(after ? gt(cities.id, after) : undefined)
        .orderBy(cities.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      return c.json({ data: data.map(toCity), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a city",
      ...adminOnly,
      request: { body: jsonBody(CityInput) },
      responses: { 201: jsonResponse(CitySchema, "The new city"), ...errorResponses(400, 401, 403, 409, 413) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const [row] = await getDb(c.env.DB)
        .insert(cities)
        .values({ id: newId("city"), ...input })
        .returning();
      return c.json(toCity(row!), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a city",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(CitySchema, "The city"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await getDb(c.env.DB).query.cities.findFirst({ where: eq(cities.id, id) });
      if (!row) throw notFound("City", id);
      return c.json(toCity(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a city",
      ...adminOnly,
      request: { params: Params, body: jsonBody(CityInput.partial()) },
      responses: { 200: jsonResponse(CitySchema, "The updated city"), ...errorResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const [row] = await getDb(c.env.DB)
        .update(cities)
        .set({ ...c.req.valid("json"), updatedAt: new Date() })
        .where(eq(cities.id, id))
        .returning();
      if (!row) throw notFound("City", id);
      return c.json(toCity(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a city (refused with 409 IN_USE while studios are in it)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await getDb(c.env.DB).delete(cities).where(eq(cities.id, id)).returning({ id: cities.id });
      if (deleted.length === 0) throw notFound("City", id);
      return c.body(null, 204);
    },
  );
