/** Admin CRUD for teaching roles (instructor, assistant, …): what a class requires and staff hold. */
import { createRoute, z } from "@hono/zod-openapi";
import { eq, gt } from "drizzle-orm";
import { getDb } from "../../db/client";
import { teachingRoles } from "../../db/schema";
import { notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";

export const TeachingRoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("TeachingRole");

const TeachingRoleInput = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ description: "Unique (409 ALREADY_EXISTS otherwise)", example: "Wheel instructor" }),
    description: z.string().trim().max(2000).nullable().optional(),
  })
  .openapi("TeachingRoleInput");

const tags = ["Admin: teaching roles"];
const Params = IdParam("Teaching role", "rol_instructor");

type TeachingRoleRow = typeof teachingRoles.$inferSelect;
const toTeachingRole = (row: TeachingRoleRow) => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export const teachingRoleRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List teaching roles",
      ...staffOrAdmin,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(TeachingRoleSchema), "A page of teaching roles"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select()
        .from(teachingRoles)
        .where(after ? gt(teachingRoles.id, after) : undefined)
        .orderBy(teachingRoles.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      return c.json({ data: data.map(toTeachingRole), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a teaching role",
      ...adminOnly,
      request: { body: jsonBody(TeachingRoleInput) },
      responses: { 201: jsonResponse(TeachingRoleSchema, "The new teaching role"), ...errorResponses(400, 401, 403, 409, 413) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const [row] = await getDb(c.env.DB)
        .insert(teachingRoles)
        .values({ id: newId("teachingRole"), ...input })
        .returning();
      return c.json(toTeachingRole(row!), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a teaching role",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(TeachingRoleSchema, "The teaching role"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await getDb(c.env.DB).query.teachingRoles.findFirst({ where: eq(teachingRoles.id, id) });
      if (!row) throw notFound("Teaching role", id);
      return c.json(toTeachingRole(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a teaching role",
      ...adminOnly,
      request: { params: Params, body: jsonBody(TeachingRoleInput.partial()) },
      responses: { 200: jsonResponse(TeachingRoleSchema, "The updated teaching role"), ...errorResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const [row] = await getDb(c.env.DB)
        .update(teachingRoles)
        .set({ ...c.req.valid("json"), updatedAt: new Date() })
        .where(eq(teachingRoles.id, id))
        .returning();
      if (!row) throw notFound("Teaching role", id);
      return c.json(toTeachingRole(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a teaching role (409 IN_USE while a class requires it; staff simply lose it)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await getDb(c.env.DB).delete(teachingRoles).where(eq(teachingRoles.id, id)).returning({ id: teachingRoles.id });
      if (deleted.length === 0) throw notFound("Teaching role", id);
      return c.body(null, 204);
    },
  );
