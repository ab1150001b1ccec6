/** Helpers for the group booking tests: request bodies and calls with a staff token. */
import { env } from "cloudflare:workers";
import { nextClientIp, uniqueEmail } from "./booking-helpers";
import { call, tokenFor, unique } from "./helpers";

let staffToken: string | undefined;
export async function staff(): Promise<string> {
  staffToken ??= await tokenFor("staff");
  return staffToken;
}

export function participants(count: number, label = "p") {
  return Array.from({ length: count }, (_, i) => ({ name: `Person ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? i : ""} ${label}`, email: uniqueEmail(`${label}${i + 1}`) }));
}

export function groupBody(classId: string, sessionId: string, count: number, overrides: Record<string, unknown> = {}) {
  return {
    reference: `PO-${unique()}`,
    name: "Acme first-aid team",
    company: "Acme Ltd",
    organiser: { name: "Olive Organiser", email: uniqueEmail("organiser") },
    classId,
    sessionId,
    participants: participants(count),
    ...overrides,
  };
}

export async function postGroup(body: unknown, options: { token?: string; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": nextClientIp() };
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  return call("POST", "/api/v1/admin/bookings/groups", { token: options.token ?? (await staff()), body, headers });
}

/** The session DO's own seat counts (the one writer of seats). */
export function doAvailability(sessionId: string) {
  return env.SESSION.getByName(sessionId).availability();
}
