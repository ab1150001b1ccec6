/** Calls to the Worker with wrangler.toml's share and window caps, which vitest.config.ts turns off for the rest of the suite. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";
import { nextClientIp } from "./booking-helpers";

/** wrangler.toml's values for the caps the rest of the suite turns off. */
export const STRICT = { SEAT_SHARE_PER_SESSION_PERCENT: "25", MAX_SEATS_PER_CLIENT_PER_WINDOW: "48", MAX_SEATS_PER_EMAIL_PER_WINDOW: "32" };

/** Calls the Worker with the strict caps (and any other settings given). */
export async function strictCall(method: string, path: string, options: { body?: unknown; ip?: string; token?: string; key?: string; settings?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json", "CF-Connecting-IP": options.ip ?? nextClientIp() };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.key) headers["Idempotency-Key"] = options.key;
  const ctx = createExecutionContext();
  const request = new Request(`http://localhost${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const response = await worker.fetch(request, { ...env, ...STRICT, ...options.settings }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text ? JSON.parse(text) : undefined;
  return { status: response.status, json, headers: response.headers };
}

