/** Helpers for live capacity tests: open the feed through the Worker and read it message by message. */
import { exports } from "cloudflare:workers";
import type { CapacityMessage } from "../src/domain/live";
import { nextClientIp } from "./booking-helpers";

export const ALLOWED_ORIGIN = "http://localhost:5173";

/**
 * GET /api/v1/sessions/{id}/live as a WebSocket upgrade (or not, with `upgrade: false`), from a
 * client address of its own unless `CF-Connecting-IP` is given (the per-client cap is 2 in tests).
 */
export function requestLive(sessionId: string, headers: Record<string, string> = {}, upgrade = true): Promise<Response> {
  const withClient = { "CF-Connecting-IP": nextClientIp(), ...headers };
  return exports.default.fetch(`http://localhost/api/v1/sessions/${sessionId}/live`, {
    headers: upgrade ? { Upgrade: "websocket", ...withClient } : withClient,
  });
}

/** A client end of the feed that queues what arrives, so a test can await messages in order. */
export class LiveFeed {
  private readonly received: (CapacityMessage | string)[] = [];
  private read = 0;
  private wake: (() => void) | null = null;
  private closeEvent: CloseEvent | null = null;
  /** Every capacity/snapshot message so far, in arrival order. */
  readonly history: CapacityMessage[] = [];

  constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer);
      let message: CapacityMessage | string = data;
      if (data.startsWith("{")) {
        message = JSON.parse(data) as CapacityMessage;
        this.history.push(message);
      }
      this.received.push(message);
      this.wake?.();
    });
    socket.addEventListener("close", (event) => {
      this.closeEvent = event;
      this.wake?.();
    });
    socket.accept();
  }

  /** The next message not read yet (JSON parsed; "pong" as a string), waiting up to `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<CapacityMessage | string> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.received.length) {
      if (this.closeEvent) throw new Error(`the feed closed (${this.closeEvent.code} ${this.closeEvent.reason}) while a message was awaited`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.received[this.read++]!;
  }

  /** The next message, which must be a capacity or snapshot message. */
  async nextCapacity(timeoutMs?: number): Promise<CapacityMessage> {
    const message = await this.next(timeoutMs);
    if (typeof message === "string") throw new Error(`expected a capacity message, got ${message}`);
    return message;
  }

  /** Resolves with the close event once the server has closed the socket. */
  async closed(timeoutMs = 5_000): Promise<CloseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closeEvent) {
      if (Date.now() >= deadline) throw new Error(`the feed did not close within ${timeoutMs} ms`);
      await this.next(deadline - Date.now()).catch(() => undefined);
    }
    return this.closeEvent;
  }

  /** Messages that arrived but were not read with next(). */
  unread(): (CapacityMessage | string)[] {
    return this.received.slice(this.read);
  }
}

/** Opens the feed for a session and reads its snapshot. */
export async function openLive(sessionId: string, headers: Record<string, string> = {}): Promise<{ feed: LiveFeed; snapshot: CapacityMessage }> {
  const response = await requestLive(sessionId, headers);
  if (response.status !== 101 || !response.webSocket) throw new Error(`expected 101, got ${response.status}: ${await response.text()}`);
  const feed = new LiveFeed(response.webSocket);
  return { feed, snapshot: await feed.nextCapacity() };
}
