/** Staff view of certificates: lists by class, customer and validity; one certificate; revocation; compliance per class. */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { createRouter, errorResponses, IdParam, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { compliance, getCertificate, listCertificates, revokeCertificate } from "../../services/certificates";
import { adminOnly, staffOrAdmin } from "./access";
import { CertificateSchema } from "../certificate-schemas";

const tags = ["Admin: certificates"];
const Params = IdParam("Certificate", "crt_0123");

const ListQuery = PaginationQuery.extend({
  classId: z.string().min(1).max(64).optional().openapi({ description: "Only certificates of this class" }),
  customerId: z.string().min(1).max(64).optional().openapi({ description: "Only certificates held by this customer" }),
  status: z.enum(["valid", "expiring", "expired"]).optional().openapi({
    description: "Validity now: valid (beyond RENEWAL_REMINDER_DAYS, or never expiring), expiring (within them) or expired; revoked certificates are none of these",
  }),
});

const ComplianceSchema = z
  .object({
    asOf: z.iso.datetime(),
    expiringWithinDays: z.number().int().openapi({ description: "RENEWAL_REMINDER_DAYS: how soon an expiry counts as expiring" }),
    data: z.array(
      z.object({
        classId: z.string(),
        className: z.string(),
        valid: z.number().int(),
        expiring: z.number().int(),
        expired: z.number().int(),
        revoked: z.number().int(),
      }),
    ),
  })
  .openapi("CertificateCompliance");

export const certificateRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/compliance",
      tags,
      summary: "Per class: certificates valid, expiring (within RENEWAL_REMINDER_DAYS), expired and revoked now",
      ...staffOrAdmin,
      responses: { 200: jsonResponse(ComplianceSchema, "Counts per class with certificates"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await compliance(c.env, getDb(c.env.DB)), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Certificates, newest first",
      ...staffOrAdmin,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(page(CertificateSchema), "A page of certificates"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await listCertificates(c.env, getDb(c.env.DB), c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "One certificate",
      ...staffOrAdmin,
      request: { params: Params },
      responses: { 200: jsonResponse(CertificateSchema, "The certificate"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await getCertificate(c.env, getDb(c.env.DB), c.req.valid("param").id), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/revoke",
      tags,
      summary: "Revoke a certificate (idempotent): verification says revoked from now on",
      ...adminOnly,
      request: { params: Params },
      responses: { 200: jsonResponse(CertificateSchema, "The revoked certificate"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await revokeCertificate(c.env, getDb(c.env.DB), c.req.valid("param").id), 200),
  );
