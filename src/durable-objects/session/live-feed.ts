/**
 * Live capacity subscribers (hibernatable WebSockets): accepting one with its snapshot, and the
 * capacity message sent after every committed change. Broadcasts happen after commit, never
 * inside a transaction, so subscribers only ever see committed state.
 */
import { configOf } from "../../config";
import { capacityMessage, clientTag, roomForSubscriber } from "../../domain/live";
import type { Env } from "../../env";
import { availabilityNow } from "./ledger";
import { readConfig } from "./storage";
import { waitlistLength } from "./waitlist-line";

export function liveMessage(sql: SqlStorage, type: "snapshot" | "capacity"): string {
  const config = readConfig(sql);
  return capacityMessage(type, {
    sessionId: config?.session_id ?? "",
    availability: availabilityNow(sql),
    waitlistLength: waitlistLength(sql),
    version: config?.version ?? 0,
  });
}

export class LiveFeed {
  /** The last version subscribers were sent; read back from storage after hibernation. */
  private sentVersion: number;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {
    this.sentVersion = readConfig(ctx.storage.sql)?.version ?? 0;
  }

  /**
   * Accepts a subscriber, or answers 503 (the session's room is full) or 429 (this client's share
   * is). No await between reading the state and accepting, so no change falls between the snapshot
   * and the first broadcast.
   */
  accept(clientAddress: string): Response {
    const open = this.ctx.getWebSockets().length;
    const { maxLiveConnectionsPerSession: max, maxLiveConnectionsPerClient: maxPerClient } = configOf(this.env);
    if (!roomForSubscriber(open, max)) return Response.json({ open, max }, { status: 503 });
    const tag = clientTag(clientAddress);
    const openByClient = this.ctx.getWebSockets(tag).length;
    if (!roomForSubscriber(openByClient, maxPerClient)) return Response.json({ open: openByClient, max: maxPerClient }, { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [tag]);
    server.send(liveMessage(this.ctx.storage.sql, "snapshot"));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends the current state to every subscriber if it changed since the last message. */
  broadcast(): void {
    const sockets = this.ctx.getWebSockets();
    // Nobody listening: no read at all. A subscriber gets its snapshot on joining, and the stale
    // `sentVersion` only means the next change is sent for certain.
    if (sockets.length === 0) return;
    const version = readConfig(this.ctx.storage.sql)?.version ?? 0;
    if (version <= this.sentVersion) return;
    this.sentVersion = version;
    const message = liveMessage(this.ctx.storage.sql, "capacity");
    for (const ws of sockets) {
      try {
        ws.send(message);
      } catch {
        // Closing already: its close handshake is under way.
      }
    }
  }
}

/** Answers a subscriber's close frame (a no-op where the runtime already replied). */
export function answerClose(ws: WebSocket, code: number, reason: string): void {
  try {
    // 1005 (the client sent no code) and 1006 (no close frame) may not be sent in a close frame.
    if (code === 1005 || code === 1006) ws.close();
    else ws.close(code, reason);
  } catch {
    // Closed already: nothing left to answer.
  }
}
