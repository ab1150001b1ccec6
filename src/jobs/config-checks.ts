/**
 * Settings that parse but cannot be right for where the Worker runs, kept open as alerts by the
 * hourly cron until fixed: today a production PUBLIC_BASE_URL that is not a public https origin
 * (wrangler.toml's local default left in place). Every link in a message is built on it, and the
 * CSRF and CORS checks do not trust it meanwhile (src/middleware/origins.ts).
 */
import { and, eq, ne } from "drizzle-orm";
import { configOf, isPublicHttpsOrigin } from "../config";
import type { Db } from "../db/client";
import { alerts } from "../db/schema";
import type { Env } from "../env";
import { raiseAlert, resolveAlert } from "../services/alerts";

export const PUBLIC_BASE_URL_ALERT = { type: "PUBLIC_BASE_URL_INVALID", subjectKey: "config:PUBLIC_BASE_URL" } as const;

export async function checkPublicBaseUrl(env: Env, db: Db, now: Date): Promise<{ valid: boolean }> {
  const { environment, publicBaseUrl } = configOf(env);
  const valid = environment !== "production" || isPublicHttpsOrigin(publicBaseUrl);
  const open = await db.query.alerts.findFirst({
    where: and(eq(alerts.type, PUBLIC_BASE_URL_ALERT.type), eq(alerts.subjectKey, PUBLIC_BASE_URL_ALERT.subjectKey), ne(alerts.status, "resolved")),
  });
  if (valid) {
    if (open) await resolveAlert(db, open.id, "system", now);
    return { valid };
  }
  await raiseAlert(db, {
    ...PUBLIC_BASE_URL_ALERT,
    severity: "critical",
    title: "PUBLIC_BASE_URL is not this service's public https origin: links in messages lead nowhere",
    details: { publicBaseUrl, fix: "set PUBLIC_BASE_URL in wrangler.toml [vars] to the https origin customers use" },
    now,
  });
  return { valid };
}
