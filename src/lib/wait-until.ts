/** The request's `waitUntil`, when the runtime gave the app an execution context. */
import type { Context } from "hono";

/** `ExecutionContext.waitUntil`: keeps work running after the response has gone. */
export type WaitUntil = (promise: Promise<unknown>) => void;

export function waitUntilOf(c: Context): WaitUntil | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    // Hono throws when the app was called without one (app.request in a unit test).
    return undefined;
  }
}
