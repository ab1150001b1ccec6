/**
 * Accounts and their roles (admins only): list them, change a role, and invite a staff member by
 * email. Roles live in D1 and apply to the next request (src/services/staff-access.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, page, PaginationQuery } from "../../lib/openapi";
import { decodeCursor, toPage } from "../../lib/pagination";
import { type Account, inviteStaff, listAccounts, setRole } from "../../services/staff-access";
import { adminOnly } from "./access";

const Role = z.enum(["customer", "staff", "admin"]);

const AccountSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: Role,
    staffId: z.string().nullable(),
    roleSetBy: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Account");

const toAccount = (row: Account) => ({ ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() });
const actor = (principal: { email?: string; subject: string } | undefined) => principal?.email ?? principal?.subject ?? "unknown";
const tags = ["Admin: accounts"];

export const accountRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "Accounts, by email",
      ...adminOnly,
      request: { query: PaginationQuery.extend({ role: Role.optional() }) },
      responses: { 200: jsonResponse(page(AccountSchema), "A page of accounts"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { role, limit, cursor } = c.req.valid("query");
      const afterEmail = cursor ? String(decodeCursor(cursor, 1)[0]) : undefined;
      const rows = await listAccounts(getDb(c.env.DB), { role, afterEmail, limit });
      const { data, nextCursor } = toPage(rows, limit, (row) => [row.email]);
      return c.json({ data: data.map(toAccount), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Change an account's role",
      description: "Applies to the account's next request. Demoting the only admin is 409 LAST_ADMIN.",
      ...adminOnly,
      request: { params: IdParam("Account", "acc_123"), body: jsonBody(z.object({ role: Role })) },
      responses: { 200: jsonResponse(AccountSchema, "The account"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const account = await setRole(getDb(c.env.DB), { accountId: c.req.valid("param").id, role: c.req.valid("json").role, setBy: actor(c.get("principal")) }, new Date());
      return c.json(toAccount(account), 200);
    },
  );

export const staffInviteRoutes = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/{id}/invite",
    tags,
    summary: "Invite a staff member to sign in, with a role",
    description: "Gives the staff member's email the role (staff unless `admin`) and emails a sign-in link valid for STAFF_INVITE_HOURS. Inviting again sends a fresh link.",
    ...adminOnly,
    request: { params: IdParam("Staff member", "stf_sam"), body: jsonBody(z.object({ role: z.enum(["staff", "admin"]).default("staff") })) },
    responses: {
      202: jsonResponse(z.object({ account: AccountSchema, inviteExpiresAt: z.iso.datetime() }), "Invited"),
      ...errorResponses(400, 401, 403, 404, 409, 503),
    },
  }),
  async (c) => {
    const { account, expiresAt } = await inviteStaff(c.env, getDb(c.env.DB), { staffId: c.req.valid("param").id, role: c.req.valid("json").role, invitedBy: actor(c.get("principal")) }, new Date());
    return c.json({ account: toAccount(account), inviteExpiresAt: expiresAt.toISOString() }, 202);
  },
);
