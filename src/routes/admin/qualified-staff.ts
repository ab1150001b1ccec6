/** GET /api/v1/admin/classes/{id}/qualified-staff: who may teach a class, and who is free for one of its sessions. */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { getDb } from "../../db/client";
import { classes, classSessions, teachingRoles } from "../../db/schema";
import { notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonResponse } from "../../lib/openapi";
import { invalidReference } from "../../lib/references";
import { staffOrAdmin } from "./access";
import { availableAmong, qualifiedStaffFor } from "../../services/staff-assignment";

const QualifiedPerson = z
  .object({
    id: z.string(),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    roles: z.array(z.object({ id: z.string(), name: z.string() })).openapi({ description: "Every teaching role the person holds" }),
    available: z
      .boolean()
      .optional()
      .openapi({ description: "With ?sessionId=: true when the person teaches or assists no other non-cancelled session overlapping it" }),
  })
  .openapi("QualifiedStaffMember");

const QualifiedStaffSchema = z
  .object({
    classId: z.string(),
    requiredRole: z.object({ id: z.string(), name: z.string() }),
    sessionId: z.string().nullable(),
    data: z.array(QualifiedPerson),
  })
  .openapi("QualifiedStaff");

const Query = z.object({
  sessionId: z.string().min(1).max(64).optional().openapi({ description: "A session of this class: adds `available` per person" }),
});

export const qualifiedStaffRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/qualified-staff",
    tags: ["Admin: classes"],
    summary: "List active staff holding the class's required teaching role (with ?sessionId=, who is available for that session)",
    ...staffOrAdmin,
    request: { params: IdParam("Class", "cls_yoga"), query: Query },
    responses: { 200: jsonResponse(QualifiedStaffSchema, "Qualified staff, by last name"), ...errorResponses(400, 401, 403, 404, 422) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { sessionId } = c.req.valid("query");
    const db = getDb(c.env.DB);
    const [row] = await db
      .select({ class: classes, role: { id: teachingRoles.id, name: teachingRoles.name } })
      .from(classes)
      .innerJoin(teachingRoles, eq(teachingRoles.id, classes.requiredRoleId))
      .where(eq(classes.id, id));
    if (!row) throw notFound("Class", id);
    const people = await qualifiedStaffFor(db, row.role.id);
    if (!sessionId) return c.json({ classId: id, requiredRole: row.role, sessionId: null, data: people }, 200);

    const session = await db.query.classSessions.findFirst({ where: eq(classSessions.id, sessionId) });
    if (!session || session.classId !== id) throw invalidReference("sessionId", `no session ${sessionId} of class ${id}`, { sessionId });
    const free = await availableAmong(
      db,
      people.map((person) => person.id),
      { sessionId, startsAt: session.startsAt, endsAt: session.endsAt },
    );
    const data = people.map((person) => ({ ...person, available: free.has(person.id) }));
    return c.json({ classId: id, requiredRole: row.role, sessionId, data }, 200);
  },
);
