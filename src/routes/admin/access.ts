/**
 * Who may call admin routes, in one place: spread one of these into `createRoute({ ... })`. Reads
 * are for staff and admins, writes for admins; both document the bearer token in OpenAPI.
 */
import { bearerAuth } from "../../lib/openapi";
import { requireRole } from "../../middleware/auth";

export const staffOrAdmin = { security: bearerAuth, middleware: [requireRole("staff", "admin")] };
export const adminOnly = { security: bearerAuth, middleware: [requireRole("admin")] };
