/** Live capacity subscriptions: the session's catalog facts from D1, the socket from its DO. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classSessions } from "../db/schema";
import { LIVE_CLIENT_HEADER, LIVE_SNAPSHOT_HEADER } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { classRequirements, sessionSnapshot } from "./booking-context";
import { sessionObject } from "./session-client";

export type LiveSubscription = { ok: true; response: Response } | { ok: false; scope: "session" | "client"; open: number; max: number };

/**
 * Opens a live capacity WebSocket on a session's DO. The session must exist in D1 (404
 * SESSION_NOT_FOUND otherwise); its snapshot goes along so a DO that has never been used knows its
 * capacity before it sends the first message. Returns the 101 response to hand to the client, or
 * the DO's refusal when the session has as many subscribers as it takes.
 */
export async function openLiveSubscription(env: Env, db: Db, sessionId: string, clientKey: string): Promise<LiveSubscription> {
  const [session] = await db.select().from(classSessions).where(eq(classSessions.id, sessionId));
  if (!session) throw new ApiError("SESSION_NOT_FOUND", `Session ${sessionId} was not found`, { sessionId });
  const snapshot = sessionSnapshot(session, await classRequirements(db, session.classId));
  // A request of our own: nothing the client sent reaches the DO but the upgrade itself.
  const response = await sessionObject(env, sessionId).fetch("https://session-do/live", {
    headers: { Upgrade: "websocket", [LIVE_SNAPSHOT_HEADER]: JSON.stringify(snapshot), [LIVE_CLIENT_HEADER]: clientKey },
  });
  if (response.status === 101 && response.webSocket) return { ok: true, response };
  if (response.status === 503 || response.status === 429) {
    const { open, max } = await response.json<{ open: number; max: number }>();
    return { ok: false, scope: response.status === 503 ? "session" : "client", open, max };
  }
  throw new Error(`SessionDO answered a live subscription with ${response.status}: ${(await response.text()).slice(0, 200)}`);
}
