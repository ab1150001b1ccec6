/** Admin management of promo codes. Usage is derived from redemptions (see src/services/promos.ts). */
import { createRoute, z } from "@hono/zod-openapi";
import { eq, getTableColumns, gt, sql } from "drizzle-orm";
import { getDb } from "../../db/client";
import { PROMO_KINDS, promoCodes, promoRedemptions } from "../../db/schema";
import { ApiError, notFound } from "../../errors";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { adminOnly, staffOrAdmin } from "./access";
import { currentUses, normalizePromoCode } from "../../services/promos";

/** Fixed discounts above £100,000 are certainly a typo. */
const MAX_FIXED_PENCE = 10_000_000;
const MAX_USES = 1_000_000;

export const PromoCodeSchema = z
  .object({
    id: z.string(),
    code: z.string().openapi({ example: "SPRING10" }),
    kind: z.enum(PROMO_KINDS),
    value: z.number().int().openapi({ description: "Percent off (1–100) or pence off" }),
    validFrom: z.iso.datetime().nullable(),
    validUntil: z.iso.datetime().nullable(),
    maxUses: z.number().int().nullable(),
    maxUsesPerEmail: z.number().int().nullable(),
    active: z.boolean(),
    uses: z.number().int().openapi({ description: "Bookings that have redeemed the code" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("PromoCode");

const instant = z.iso.datetime({ offset: true }).openapi({ description: "ISO 8601 instant", example: "2026-06-01T00:00:00Z" });
const limit = z.number().int().min(1).max(MAX_USES);

const PromoCodeInput = z
  .object({
    code: z
      .string()
      .trim()
      .min(3)
      .max(40)
      .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-' only")
      .transform(normalizePromoCode)
      .openapi({ description: "3–40 characters [A-Z0-9_-]; stored and matched upper-cased", example: "SPRING10" }),
    kind: z.enum(PROMO_KINDS),
    value: z.number().int().min(1).openapi({ description: "Percent off (1–100) or pence off (≥ 1)" }),
    validFrom: instant.optional(),
    validUntil: instant.optional(),
    maxUses: limit.optional().openapi({ description: "Total redemptions allowed; unlimited when absent" }),
    maxUsesPerEmail: limit.optional().openapi({ description: "Redemptions allowed per customer email; unlimited when absent" }),
    active: z.boolean().default(true),
  })
  .superRefine((input, ctx) => {
    if (input.kind === "percent" && input.value > 100) {
      ctx.addIssue({ code: "custom", path: ["value"], message: "a percent discount is 1–100" });
    }
    if (input.kind === "fixed" && input.value > MAX_FIXED_PENCE) {
      ctx.addIssue({ code: "custom", path: ["value"], message: `a fixed discount is at most ${MAX_FIXED_PENCE} pence` });
    }
    if (input.validFrom && input.validUntil && Date.parse(input.validFrom) >= Date.parse(input.validUntil)) {
      ctx.addIssue({ code: "custom", path: ["validUntil"], message: "must be after validFrom" });
    }
  })
  .openapi("PromoCodeInput");

const PromoCodePatch = z
  .object({
    active: z.boolean().optional(),
    validUntil: instant.nullable().optional().openapi({ description: "null removes the end date" }),
    maxUses: limit.nullable().optional().openapi({ description: "Not below the current uses; null removes the limit" }),
  })
  .openapi("PromoCodePatch");

const tags = ["Admin: promo codes"];
const Params = IdParam("Promo code", "prm_spring");

/** Redemptions of the row's promo (uses given back are not counted), as a correlated subquery of D1's projection. */
const uses = sql<number>`(SELECT count(*) FROM ${promoRedemptions} WHERE ${promoRedemptions.promoCodeId} = ${promoCodes.id} AND ${promoRedemptions.status} = 'redeemed')`.mapWith(Number);
const withUses = { ...getTableColumns(promoCodes), uses };

type PromoRow = typeof promoCodes.$inferSelect & { uses: number };
const iso = (date: Date | null) => date?.toISOString() ?? null;
const toPromoCode = (row: PromoRow) => ({
  ...row,
  validFrom: iso(row.validFrom),
  validUntil: iso(row.validUntil),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

function patchProblem(path: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError("VALIDATION_FAILED", `Invalid json. ${path}: ${message}`, {
    location: "json",
    issues: [{ path, message, code: "custom" }],
    ...details,
  });
}

export const promoCodeRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List promo codes by code",
      ...staffOrAdmin,
      request: { query: PaginationQuery },
      responses: { 200: jsonResponse(page(PromoCodeSchema), "A page of promo codes"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const after = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await getDb(c.env.DB)
        .select(withUses)
        .from(promoCodes)
        .where(after ? gt(promoCodes.code, after) : undefined)
        .orderBy(promoCodes.code)
        .limit(limit + 1);
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.code]);
      return c.json({ data: data.map(toPromoCode), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a promo code (409 ALREADY_EXISTS when the code is taken, in any case)",
      ...adminOnly,
      request: { body: jsonBody(PromoCodeInput) },
      responses: { 201: jsonResponse(PromoCodeSchema, "The new promo code"), ...errorResponses(400, 401, 403, 409, 413) },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const [row] = await getDb(c.env.DB)
        .insert(promoCodes)
        .values({
          id: `prm_${crypto.randomUUID().replaceAll("-", "")}`,
          code: input.code,
          kind: input.kind,
          value: input.value,
          validFrom: input.validFrom ? new Date(input.validFrom) : null,
          validUntil: input.validUntil ? new Date(input.validUntil) : null,
          maxUses: input.maxUses ?? null,
          maxUsesPerEmail: input.maxUsesPerEmail ?? null,
          active: input.active,
        })
        .returning();
      return c.json(toPromoCode({ ...row!, uses: 0 }), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a promo code with its number of uses",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(PromoCodeSchema, "The promo code"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const [row] = await getDb(c.env.DB).select(withUses).from(promoCodes).where(eq(promoCodes.id, id));
      if (!row) throw notFound("Promo code", id);
      return c.json(toPromoCode(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Update a promo code: active, validUntil, maxUses (never below the current uses)",
      ...adminOnly,
      request: { params: Params, body: jsonBody(PromoCodePatch) },
      responses: { 200: jsonResponse(PromoCodeSchema, "The updated promo code"), ...errorResponses(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const patch = c.req.valid("json");
      const db = getDb(c.env.DB);
      const current = await db.query.promoCodes.findFirst({ where: eq(promoCodes.id, id) });
      if (!current) throw notFound("Promo code", id);

      const validUntil = patch.validUntil === undefined ? undefined : patch.validUntil === null ? null : new Date(patch.validUntil);
      if (validUntil && current.validFrom && validUntil.getTime() <= current.validFrom.getTime()) {
        throw patchProblem("validUntil", "must be after validFrom", { validFrom: current.validFrom.toISOString() });
      }
      // The floor on maxUses is the uses the code's object has decided (D1's count may lag behind
      // it). A booking redeeming at this very moment was checked against the limit it read.
      const newMaxUses = patch.maxUses;
      const usedNow = await currentUses(c.env, id);
      if (newMaxUses != null && usedNow > newMaxUses) throw patchProblem("maxUses", `must be at least the current uses (${usedNow})`, { uses: usedNow });
      const [row] = await db.update(promoCodes).set({ active: patch.active, validUntil, maxUses: newMaxUses, updatedAt: new Date() }).where(eq(promoCodes.id, id)).returning();
      if (!row) throw notFound("Promo code", id);
      const updated = { ...row, uses: usedNow };
      return c.json(toPromoCode(updated), 200);
    },
  );
