/** Shared test helpers: tokens for each role and a JSON client for the Worker under test. */
import { env, exports } from "cloudflare:workers";
import type { Role } from "../src/env";
import { claimsFor, signJwt } from "../src/lib/jwt-claims";

export async function tokenFor(role: Role, email = `${role}-${crypto.randomUUID()}@example.test`): Promise<string> {
  return signJwt(claimsFor({ sub: `${role}:${email}`, role, email, ttlSeconds: 3600 }), env.JWT_SECRET);
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Raw body, sent as is (for malformed-input tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Calls the Worker's own fetch handler and parses JSON when there is any. */
export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
  const response = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text && response.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : undefined;
  return { status: response.status, json, headers: response.headers, text };
}

/** A short unique suffix so tests never collide on unique names. */
export const unique = () => crypto.randomUUID().slice(0, 8);

/**
 * Polls `check` until it returns something other than undefined/null/false (or stops throwing), for
 * work that finishes after the response: queue consumers, `waitUntil`. Fails after `timeoutMs`
 * with the last error, so a test that waits for the wrong thing says what it last saw.
 */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== null && result !== false) return result;
      lastError = new Error("condition not met yet");
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Not true after ${timeoutMs} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Retries an assertion block until it passes, and returns what it returns (queue consumers run on their own time). */
export async function eventuallyPasses<T>(check: () => Promise<T>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
