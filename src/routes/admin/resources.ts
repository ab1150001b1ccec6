/** Admin CRUD for resources: things a studio has a fixed number of, such as potter's wheels. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, notExists } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { classResourceRequirements, resources, studios } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { assertReferencesExist } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";

export const ResourceSchema = z
  .object({
    id: z.string(),
    studioId: z.string(),
    name: z.string(),
    quantity: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Resource");

const ResourceInput = z
  .object({
    studioId: z.string().min(1).max(64).openapi({ description: "An existing studio (422 INVALID_REFERENCE otherwise)" }),
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: "Unique within the studio (409 ALREADY_EXISTS otherwise)", example: "Potter's wheel" }),
    quantity: z.number().int().min(0).max(100_000).openapi({ description: "Units the studio has" }),
  })
  .openapi("ResourceInput");

const ListQuery = PaginationQuery.extend({
  studioId: z.string().min(1).max(64).optional().openapi({ description: "Only resources of this studio" }),
});

const tags = ["Admin: resources"];
const Params = IdParam("Resource", "res_wheel");

type ResourceRow = typeof resources.$inferSelect;
const toResource = (row: ResourceRow) => ({ ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() });

const requirementsOf = (db: Db, resourceId: string) =>
  db
    .select({ classId: classResourceRequirements.classId })
    .from(classResourceRequirements)
    .where(eq(classResourceRequirements.resourceId, resourceId));

/** 409 IN_USE while a class requires the resource (its foreign key cascades, so nothing else would stop it). */
async function assertNotRequired(db: Db, resourceId: string, why: string) {
  const [requirement] = await requirementsOf(db, resourceId).limit(1);
  if (requirement) throw new ApiError("IN_USE", `${why}: a class requires this resource`, { classId: requirement.classId });
}

export const resourceRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List resources",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(ResourceSchema), "A page of resources"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, studioId } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select()
        .from(resources)
        .where(and(after ? gt(resources.id, after) : undefined, studioId ? eq(resources.studioId, studioId) : undefined))
        .orderBy(resources.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      return c.json({ data: data.map(toResource), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a resource",
      ...adminOnly,
      request: { body: jsonBody(ResourceInput) },
      responses: { 201: jsonResponse(ResourceSchema, "The new resource"), ...errorResponses(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      await assertReferencesExist(db, studios, "studioId", [input.studioId]);
      const [row] = await db
        .insert(resources)
        .values({ id: newId("resource"), ...input })
        .returning();
      return c.json(toResource(row!), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a resource",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(ResourceSchema, "The resource"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await getDb(c.env.DB).query.resources.findFirst({ where: eq(resources.id, id) });
      if (!row) throw notFound("Resource", id);
      return c.json(toResource(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a resource (moving it to another studio is refused with 409 IN_USE while a class requires it)",
      ...adminOnly,
      request: { params: Params, body: jsonBody(ResourceInput.partial()) },
      responses: { 200: jsonResponse(ResourceSchema, "The updated resource"), ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const db = getDb(c.env.DB);
      const existing = await db.query.resources.findFirst({ where: eq(resources.id, id), columns: { studioId: true } });
      if (!existing) throw notFound("Resource", id);
      if (input.studioId !== undefined && input.studioId !== existing.studioId) {
        await assertReferencesExist(db, studios, "studioId", [input.studioId]);
        // A class may only use its own studio's resources.
        await assertNotRequired(db, id, "Cannot move the resource to another studio");
      }
      const [row] = await db
        .update(resources)
        .set({ ...input, updatedAt: new Date() })
        .where(eq(resources.id, id))
        .returning();
      if (!row) throw notFound("Resource", id);
      return c.json(toResource(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a resource (refused with 409 IN_USE while a class requires it)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      // One statement, so a requirement added meanwhile cannot be cascaded away unseen.
      const deleted = await db
        .delete(resources)
        .where(and(eq(resources.id, id), notExists(requirementsOf(db, id))))
        .returning({ id: resources.id });
      if (deleted.length > 0) return c.body(null, 204);
      await assertNotRequired(db, id, "Cannot delete the resource");
      throw notFound("Resource", id);
    },
  );
