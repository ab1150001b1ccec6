/** Admin CRUD for staff: the people who teach, with the teaching roles they hold. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { schedulePatterns, staff, staffTeachingRoles, teachingRoles } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { assertReferencesExist, hasNoDuplicates, inIdList } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";

const RoleRef = z.object({ id: z.string(), name: z.string() }).openapi("TeachingRoleRef");

export const StaffSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    active: z.boolean(),
    teachingRoles: z.array(RoleRef).openapi({ description: "Roles held, by name" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Staff");

const StaffInput = z
  .object({
    email: z.email().max(254).toLowerCase().openapi({ description: "Stored lower-cased; unique (409 ALREADY_EXISTS otherwise)" }),
    firstName: z.string().trim().min(1).max(100),
    lastName: z.string().trim().min(1).max(100),
    active: z.boolean().optional().openapi({ description: "true when omitted on create" }),
    roleIds: z
      .array(z.string().min(1).max(64))
      .max(25)
      .refine((ids) => hasNoDuplicates(ids), "Each role may appear only once")
      .optional()
      .openapi({ description: "Teaching role ids; replaces the whole set. Unknown ids: 422 INVALID_REFERENCE" }),
  })
  .openapi("StaffInput");

const ListQuery = PaginationQuery.extend({
  roleId: z.string().min(1).max(64).optional().openapi({ description: "Only staff holding this teaching role" }),
  active: z
    .enum(["true", "false"])
    .optional()
    .openapi({ description: "Only active (true) or inactive (false) staff" }),
});

const tags = ["Admin: staff"];
const Params = IdParam("Staff member", "stf_sam");

type StaffRow = typeof staff.$inferSelect;
type RoleRef = z.infer<typeof RoleRef>;
const toStaff = (row: StaffRow, roles: Map<string, RoleRef[]>) => ({
  ...row,
  teachingRoles: roles.get(row.id) ?? [],
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** The teaching roles each of the given staff members holds, by name. */
async function rolesOf(db: Db, staffIds: string[]): Promise<Map<string, RoleRef[]>> {
  const byStaff = new Map<string, RoleRef[]>();
  if (staffIds.length === 0) return byStaff;
  const rows = await db
    .select({ staffId: staffTeachingRoles.staffId, id: teachingRoles.id, name: teachingRoles.name })
    .from(staffTeachingRoles)
    .innerJoin(teachingRoles, eq(teachingRoles.id, staffTeachingRoles.roleId))
    .where(inIdList(staffTeachingRoles.staffId, staffIds))
    .orderBy(teachingRoles.name, teachingRoles.id);
  for (const { staffId, ...role } of rows) byStaff.set(staffId, [...(byStaff.get(staffId) ?? []), role]);
  return byStaff;
}

/** The statement granting a staff member roles, if there are any (for a batch). */
function insertRoles(db: Db, staffId: string, roleIds: string[]) {
  return roleIds.length === 0 ? [] : [db.insert(staffTeachingRoles).values(roleIds.map((roleId) => ({ staffId, roleId })))];
}

/** Statements that make `roleIds` the staff member's whole set of roles (for a batch). */
function replaceRoles(db: Db, staffId: string, roleIds: string[]) {
  const remove = db.delete(staffTeachingRoles).where(eq(staffTeachingRoles.staffId, staffId));
  return [remove, ...insertRoles(db, staffId, roleIds)];
}

/** Schedule patterns name default assistants in a JSON list, which no foreign key protects. */
async function assertNotDefaultAssistant(db: Db, staffId: string) {
  const [pattern] = await db
    .select({ id: schedulePatterns.id })
    .from(schedulePatterns)
    .where(sql`exists (select 1 from json_each(${schedulePatterns.defaultAssistantIds}) where value = ${staffId})`)
    .limit(1);
  if (pattern) {
    throw new ApiError("IN_USE", "This staff member is a default assistant of a schedule pattern; deactivate them instead", {
      schedulePatternId: pattern.id,
    });
  }
}

export const staffRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List staff",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(StaffSchema), "A page of staff"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, roleId, active } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const db = getDb(c.env.DB);
      const holdersOf = (id: string) =>
        db.select({ id: staffTeachingRoles.staffId }).from(staffTeachingRoles).where(eq(staffTeachingRoles.roleId, id));
      const rows = await db
        .select()
        .from(staff)
        .where(
          and(
            after ? gt(staff.id, after) : undefined,
            roleId ? inArray(staff.id, holdersOf(roleId)) : undefined,
            active ? eq(staff.active, active === "true") : undefined,
          ),
        )
        .orderBy(staff.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      const roles = await rolesOf(db, data.map((row) => row.id));
      return c.json({ data: data.map((row) => toStaff(row, roles)), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a staff member",
      ...adminOnly,
      request: { body: jsonBody(StaffInput) },
      responses: { 201: jsonResponse(StaffSchema, "The new staff member"), ...errorResponses(400, 401, 403, 409, 413, 422) },
    }),
    async (c) => {
      const { roleIds = [], ...fields } = c.req.valid("json");
      const db = getDb(c.env.DB);
      await assertReferencesExist(db, teachingRoles, "roleIds", roleIds);
      const id = newId("staff");
      const [[row]] = await db.batch([db.insert(staff).values({ id, ...fields }).returning(), ...insertRoles(db, id, roleIds)]);
      return c.json(toStaff(row!, await rolesOf(db, [id])), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a staff member",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(StaffSchema, "The staff member"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      const row = await db.query.staff.findFirst({ where: eq(staff.id, id) });
      if (!row) throw notFound("Staff member", id);
      return c.json(toStaff(row, await rolesOf(db, [id])), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a staff member (roleIds, when given, replaces the set of roles)",
      ...adminOnly,
      request: { params: Params, body: jsonBody(StaffInput.partial()) },
      responses: { 200: jsonResponse(StaffSchema, "The updated staff member"), ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { roleIds, ...fields } = c.req.valid("json");
      const db = getDb(c.env.DB);
      const existing = await db.query.staff.findFirst({ where: eq(staff.id, id), columns: { id: true } });
      if (!existing) throw notFound("Staff member", id);
      if (roleIds) await assertReferencesExist(db, teachingRoles, "roleIds", roleIds);
      const update = db
        .update(staff)
        .set({ ...fields, updatedAt: new Date() })
        .where(eq(staff.id, id))
        .returning();
      const [[row]] = await db.batch([update, ...(roleIds ? replaceRoles(db, id, roleIds) : [])]);
      if (!row) throw notFound("Staff member", id);
      return c.json(toStaff(row, await rolesOf(db, [id])), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a staff member (409 IN_USE while sessions or schedule patterns name them; deactivate instead)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      await assertNotDefaultAssistant(db, id);
      const deleted = await db.delete(staff).where(eq(staff.id, id)).returning({ id: staff.id });
      if (deleted.length === 0) throw notFound("Staff member", id);
      return c.body(null, 204);
    },
  );
