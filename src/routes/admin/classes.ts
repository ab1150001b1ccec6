/** Admin CRUD for classes: what is taught, its price, capacity, teaching role and resources. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { BOOKING_KINDS, classes, classResourceRequirements, resources, studios, teachingRoles } from "../../db/schema";
import { notFound } from "../../errors";
import { newId } from "../../lib/ids";
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
  page,
  PaginationQuery,
  validationError,
} from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { MAX_CERTIFICATE_VALIDITY_DAYS } from "../../domain/certificates";
import { describeCancellationPolicy, MAX_POLICY_HOURS, PAYMENT_MODES, policyOf } from "../../domain/booking-terms";
import { DEFAULT_FOLLOW_UP_HOURS_AFTER, DEFAULT_REMINDER_HOURS_BEFORE, MAX_MESSAGE_HOURS } from "../../domain/reminders";
import { assertReferencesExist, hasNoDuplicates, inIdList, invalidReference } from "../../lib/references";
import { adminOnly, staffOrAdmin } from "./access";

const MAX_PENCE = 100_000_000; // £1m: far above any class, far below integer trouble

const RequirementSchema = z
  .object({
    resourceId: z.string(),
    name: z.string().openapi({ description: "The resource's name" }),
    quantityPerStudent: z.number().int(),
  })
  .openapi("ClassResourceRequirement");

export const ClassSchema = z
  .object({
    id: z.string(),
    studioId: z.string(),
    name: z.string(),
    description: z.string(),
    pricePence: z.number().int().openapi({ description: "Price of one session, in pence" }),
    fullSchedulePricePence: z.number().int().nullable().openapi({ description: "Price of the whole schedule, in pence" }),
    currency: z.literal("GBP"),
    durationMinutes: z.number().int(),
    defaultCapacity: z.number().int(),
    requiredRoleId: z.string(),
    bookingKinds: z.array(z.enum(BOOKING_KINDS)),
    resourceRequirements: z.array(RequirementSchema),
    reminderHoursBefore: z.number().int().nullable().openapi({ description: `Hours before each session its reminder is sent; null: the default (${DEFAULT_REMINDER_HOURS_BEFORE}), 0: none` }),
    followUpHoursAfter: z.number().int().nullable().openapi({ description: `Hours after each session ends its follow-up is sent; null: the default (${DEFAULT_FOLLOW_UP_HOURS_AFTER}), 0: none` }),
    certificateValidityDays: z.number().int().nullable().openapi({ description: "Days a certificate of completion stays valid; null: the class gives none, 0: it never expires" }),
    completionAttendancePercent: z.number().int().nullable().openapi({ description: "Share of a booking's sessions an attendee must be checked in at for a certificate; null: CERTIFICATE_COMPLETION_PERCENT" }),
    paymentMode: z.enum(PAYMENT_MODES).openapi({ description: "online: paid when booking, seats held until paid; at_studio: confirmed now, paid at the desk" }),
    freeCancellationHours: z.number().int().nullable().openapi({ description: "Free cancellation until this many hours before the first session; null: until it starts" }),
    lateCancellationFeePercent: z.number().int().openapi({ description: "Percent of the amount paid kept when a customer cancels after the free window" }),
    selfCancelCutoffHours: z.number().int().nullable().openapi({ description: "No self-cancellation within this many hours of the first session; null: until it starts" }),
    cancellationPolicy: z.string().openapi({ description: "The policy in words, as the quote and the confirmation show it" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Class");

const RequirementInput = z.object({
  resourceId: z.string().min(1).max(64).openapi({ description: "A resource of the class's studio" }),
  quantityPerStudent: z.number().int().min(1).max(1000),
});

/** Hours before the first session a cancellation rule turns on; null: the start itself. */
const PolicyHours = z.number().int().min(0).max(MAX_POLICY_HOURS).nullable().optional();

/** A reminder or follow-up offset in whole hours; null is the default. */
const MessageHours = z.number().int().min(0).max(MAX_MESSAGE_HOURS).nullable().optional();

// No zod defaults here: PATCH bodies are these fields made partial, and a default would overwrite.
const ClassFields = z.object({
  studioId: z.string().min(1).max(64).openapi({ description: "An existing studio (422 INVALID_REFERENCE otherwise)" }),
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(5000).optional().openapi({ description: "Empty when omitted" }),
  // At least 1p: the booking rules accept a total of zero only through a valid 100% promo code.
  pricePence: z.number().int().min(1).max(MAX_PENCE).openapi({ description: "Price of one session, in pence (at least 1)", example: 2500 }),
  fullSchedulePricePence: z
    .number()
    .int()
    .min(1)
    .max(MAX_PENCE)
    .nullable()
    .optional()
    .openapi({ description: "Required when bookingKinds includes FULL_SCHEDULE" }),
  durationMinutes: z.number().int().min(1).max(1440),
  defaultCapacity: z.number().int().min(1).max(10_000),
  requiredRoleId: z.string().min(1).max(64).openapi({ description: "Teaching role the instructor must hold" }),
  bookingKinds: z
    .array(z.enum(BOOKING_KINDS))
    .min(1)
    .max(BOOKING_KINDS.length)
    .refine((kinds) => hasNoDuplicates(kinds), "Each booking kind may appear only once"),
  resourceRequirements: z
    .array(RequirementInput)
    .max(25)
    .refine((items) => hasNoDuplicates(items, (item) => item.resourceId), "Each resource may appear only once")
    .optional()
    .openapi({ description: "Replaces the whole set when given" }),
  reminderHoursBefore: MessageHours.openapi({
    description: `Absolute hours before each session its reminder is sent (0 to ${MAX_MESSAGE_HOURS}; 0: none; null or omitted: the default, ${DEFAULT_REMINDER_HOURS_BEFORE})`,
    example: 24,
  }),
  followUpHoursAfter: MessageHours.openapi({
    description: `Absolute hours after each session ends its follow-up is sent (0 to ${MAX_MESSAGE_HOURS}; 0: none; null or omitted: the default, ${DEFAULT_FOLLOW_UP_HOURS_AFTER})`,
    example: 2,
  }),
  certificateValidityDays: z
    .number()
    .int()
    .min(0)
    .max(MAX_CERTIFICATE_VALIDITY_DAYS)
    .nullable()
    .optional()
    .openapi({ description: `Days a certificate of completion stays valid (0 to ${MAX_CERTIFICATE_VALIDITY_DAYS}; 0: never expires; null or omitted: no certificate)`, example: 365 }),
  completionAttendancePercent: z
    .number()
    .int()
    .min(1)
    .max(100)
    .nullable()
    .optional()
    .openapi({ description: "Percent of a booking's sessions attended that completes the class (1 to 100; null or omitted: CERTIFICATE_COMPLETION_PERCENT)", example: 100 }),
  paymentMode: z
    .enum(PAYMENT_MODES)
    .optional()
    .openapi({ description: "online: paid when booking, the seats held until the payment succeeds (needs PAYMENT_PROVIDER); at_studio (default): confirmed now, paid at the desk" }),
  freeCancellationHours: PolicyHours.openapi({ description: `Free cancellation until this many hours before the first session (0 to ${MAX_POLICY_HOURS}; null or omitted: until it starts)`, example: 48 }),
  lateCancellationFeePercent: z.number().int().min(0).max(100).optional().openapi({ description: "Percent of the amount paid kept after the free window (0 to 100; default 0)", example: 50 }),
  selfCancelCutoffHours: PolicyHours.openapi({ description: `No self-cancellation within this many hours of the first session (0 to ${MAX_POLICY_HOURS}; null or omitted: until it starts)`, example: 12 }),
});

/** A whole class: the fields plus rules across them. PATCH checks it against the merged result. */
const ClassInput = ClassFields.superRefine((value, ctx) => {
  if (value.selfCancelCutoffHours != null && value.freeCancellationHours != null && value.selfCancelCutoffHours > value.freeCancellationHours) {
    ctx.addIssue({ code: "custom", path: ["selfCancelCutoffHours"], message: "Self-cancellation cannot close before the free window does (at most freeCancellationHours)" });
  }
  if (value.bookingKinds.includes("FULL_SCHEDULE") && value.fullSchedulePricePence == null) {
    ctx.addIssue({
      code: "custom",
      path: ["fullSchedulePricePence"],
      message: "Required when bookingKinds includes FULL_SCHEDULE",
    });
  }
}).openapi("ClassInput");

const ListQuery = PaginationQuery.extend({
  studioId: z.string().min(1).max(64).optional().openapi({ description: "Only classes of this studio" }),
});

const tags = ["Admin: classes"];
const Params = IdParam("Class", "cls_wheel_throwing");

type ClassRow = typeof classes.$inferSelect;
type Requirement = z.infer<typeof RequirementSchema>;
type RequirementInput = z.infer<typeof RequirementInput>;

const toClass = (row: ClassRow, requirements: Map<string, Requirement[]>) => ({
  ...row,
  cancellationPolicy: describeCancellationPolicy(policyOf(row)),
  currency: "GBP" as const,
  resourceRequirements: requirements.get(row.id) ?? [],
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** The resource requirements of each of the given classes, with resource names. */
async function requirementsOf(db: Db, classIds: string[]): Promise<Map<string, Requirement[]>> {
  const byClass = new Map<string, Requirement[]>();
  if (classIds.length === 0) return byClass;
  const rows = await db
    .select({
      classId: classResourceRequirements.classId,
      resourceId: classResourceRequirements.resourceId,
      name: resources.name,
      quantityPerStudent: classResourceRequirements.quantityPerStudent,
    })
    .from(classResourceRequirements)
    .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
    .where(inIdList(classResourceRequirements.classId, classIds))
    .orderBy(resources.name, resources.id);
  for (const { classId, ...requirement } of rows) byClass.set(classId, [...(byClass.get(classId) ?? []), requirement]);
  return byClass;
}

/** 422 INVALID_REFERENCE unless every required resource exists and belongs to the class's studio. */
async function assertResourcesOfStudio(db: Db, studioId: string, requirements: readonly { resourceId: string }[]) {
  const ids = requirements.map((r) => r.resourceId);
  await assertReferencesExist(db, resources, "resourceRequirements", ids);
  if (ids.length === 0) return;
  const found = await db.select({ id: resources.id, studioId: resources.studioId }).from(resources).where(inIdList(resources.id, ids));
  const elsewhere = found.filter((r) => r.studioId !== studioId).map((r) => r.id);
  if (elsewhere.length > 0) {
    throw invalidReference("resourceRequirements", `resources of another studio: ${elsewhere.join(", ")}`, {
      otherStudio: elsewhere,
      studioId,
    });
  }
}

/** 422 INVALID_REFERENCE unless the class's studio, role and resources exist (and the resources are the studio's). */
async function assertClassReferences(
  db: Db,
  cls: { studioId: string; requiredRoleId: string },
  requirements: readonly { resourceId: string }[],
) {
  await assertReferencesExist(db, studios, "studioId", [cls.studioId]);
  await assertReferencesExist(db, teachingRoles, "requiredRoleId", [cls.requiredRoleId]);
  await assertResourcesOfStudio(db, cls.studioId, requirements);
}

/** The statement adding a class's requirements, if there are any (for a batch). */
function insertRequirements(db: Db, classId: string, requirements: RequirementInput[]) {
  return requirements.length === 0 ? [] : [db.insert(classResourceRequirements).values(requirements.map((r) => ({ classId, ...r })))];
}

/** Statements that make `requirements` the class's whole set (for a batch). */
function replaceRequirements(db: Db, classId: string, requirements: RequirementInput[]) {
  const remove = db.delete(classResourceRequirements).where(eq(classResourceRequirements.classId, classId));
  return [remove, ...insertRequirements(db, classId, requirements)];
}

export const classRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List classes",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(ClassSchema), "A page of classes"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, studioId } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const db = getDb(c.env.DB);
      const rows = await db
        .select()
        .from(classes)
        .where(and(after ? gt(classes.id, after) : undefined, studioId ? eq(classes.studioId, studioId) : undefined))
        .orderBy(classes.id)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.id]);
      const requirements = await requirementsOf(db, data.map((row) => row.id));
      return c.json({ data: data.map((row) => toClass(row, requirements)), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a class",
      ...adminOnly,
      request: { body: jsonBody(ClassInput) },
      responses: { 201: jsonResponse(ClassSchema, "The new class"), ...errorResponses(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const { resourceRequirements = [], ...fields } = c.req.valid("json");
      const db = getDb(c.env.DB);
      await assertClassReferences(db, fields, resourceRequirements);
      const id = newId("class");
      const insert = db
        .insert(classes)
        .values({ id, ...fields })
        .returning();
      const [[row]] = await db.batch([insert, ...insertRequirements(db, id, resourceRequirements)]);
      return c.json(toClass(row!, await requirementsOf(db, [id])), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a class",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(ClassSchema, "The class"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const db = getDb(c.env.DB);
      const row = await db.query.classes.findFirst({ where: eq(classes.id, id) });
      if (!row) throw notFound("Class", id);
      return c.json(toClass(row, await requirementsOf(db, [id])), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a class (resourceRequirements, when given, replaces the set; the merged class must be valid)",
      ...adminOnly,
      request: { params: Params, body: jsonBody(ClassFields.partial()) },
      responses: { 200: jsonResponse(ClassSchema, "The updated class"), ...errorResponses(400, 401, 403, 404, 413, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { resourceRequirements, ...fields } = c.req.valid("json");
      const db = getDb(c.env.DB);
      const stored = await db.query.classes.findFirst({ where: eq(classes.id, id) });
      if (!stored) throw notFound("Class", id);
      // The class as it would be after the PATCH must be as valid as a new one.
      const merged = {
        ...stored,
        ...fields,
        resourceRequirements: resourceRequirements ?? (await requirementsOf(db, [id])).get(id) ?? [],
      };
      const checked = ClassInput.safeParse(merged);
      if (!checked.success) throw validationError(checked.error, "json");
      await assertClassReferences(db, merged, merged.resourceRequirements);
      const update = db
        .update(classes)
        .set({ ...fields, updatedAt: new Date() })
        .where(eq(classes.id, id))
        .returning();
      const [[row]] = await db.batch([update, ...(resourceRequirements ? replaceRequirements(db, id, resourceRequirements) : [])]);
      if (!row) throw notFound("Class", id);
      return c.json(toClass(row, await requirementsOf(db, [id])), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a class (refused with 409 IN_USE while it has schedule patterns or sessions)",
      ...adminOnly,
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await getDb(c.env.DB).delete(classes).where(eq(classes.id, id)).returning({ id: classes.id });
      if (deleted.length === 0) throw notFound("Class", id);
      return c.body(null, 204);
    },
  );
