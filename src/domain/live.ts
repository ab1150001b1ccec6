/**
 * Live capacity over WebSockets, the pure parts: what subscribers are sent, which browser origins
 * may subscribe, whether one more subscriber fits, and how a client message is answered. The
 * limits themselves are settings (src/config.ts).
 * Clients only listen: the one message they may send is "ping" (answered "pong" by the runtime
 * without waking the session's Durable Object); anything else closes the socket.
 */
import type { Availability, SessionStatus } from "./seating";

export const LIVE_PING = "ping";
export const LIVE_PONG = "pong";

/** A client message longer than this is closed with 1009 before anything looks at it. */
export const MAX_CLIENT_MESSAGE_BYTES = 128;

/** WebSocket close codes (RFC 6455 §7.4.1) the server uses. */
export const LIVE_CLOSE = {
  /** A message other than "ping": clients cannot change anything over the socket. */
  POLICY_VIOLATION: 1008,
  /** A message longer than MAX_CLIENT_MESSAGE_BYTES. */
  MESSAGE_TOO_BIG: 1009,
} as const;

/**
 * What a subscriber receives: "snapshot" once, right after connecting, then "capacity" after every
 * change. `version` is the session's change counter: it strictly increases from one message to
 * the next on a socket (it may skip numbers when one message covers several changes).
 */
export interface CapacityMessage {
  type: "snapshot" | "capacity";
  sessionId: string;
  availableSpots: number;
  status: SessionStatus;
  waitlistLength: number;
  version: number;
}

/** The message for a session's state, as sent on the wire. */
export function capacityMessage(
  type: CapacityMessage["type"],
  state: { sessionId: string; availability: Pick<Availability, "availableSpots" | "status">; waitlistLength: number; version: number },
): string {
  const message: CapacityMessage = {
    type,
    sessionId: state.sessionId,
    availableSpots: state.availability.availableSpots,
    status: state.availability.status,
    waitlistLength: state.waitlistLength,
    version: state.version,
  };
  return JSON.stringify(message);
}

/**
 * Whether a live subscription from this Origin is allowed. Browsers send Origin on every WebSocket
 * handshake and apply no CORS to it, so the allow-list (`config.liveAllowedOrigins`; compared
 * case-insensitively, a trailing slash ignored) is what keeps other sites' pages out. No Origin
 * header means a non-browser client, which is allowed: it could claim any Origin anyway.
 */
export function originAllowed(origin: string | null | undefined, allowList: readonly string[]): boolean {
  if (origin === null || origin === undefined) return true;
  const wanted = normaliseOrigin(origin);
  return allowList.some((allowed) => {
    const normalised = normaliseOrigin(allowed);
    return normalised !== "" && normalised === wanted;
  });
}

function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}

/** A socket's tag for its client address (tags are at most 256 characters). */
export function clientTag(clientKey: string): string {
  return `client:${clientKey}`.slice(0, 256);
}

/**
 * Whether one more subscriber fits next to the `open` ones: `max` is
 * `config.maxLiveConnectionsPerSession` for the session, `config.maxLiveConnectionsPerClient`
 * for one client address (a few tabs, not the whole room).
 */
export function roomForSubscriber(open: number, max: number): boolean {
  return open < max;
}

/**
 * How the server answers a client message that reached it: null for "ping" (normally answered by
 * the runtime before it gets here; answer "pong"), otherwise the close that ends the connection,
 * too big (1009) or not allowed (1008). Close reasons stay under the protocol's 123 bytes.
 */
export function closeForClientMessage(message: string | ArrayBuffer): { code: number; reason: string } | null {
  if (message === LIVE_PING) return null;
  const bytes = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
  if (bytes > MAX_CLIENT_MESSAGE_BYTES) {
    return { code: LIVE_CLOSE.MESSAGE_TOO_BIG, reason: `Message too big: clients may only send "${LIVE_PING}"` };
  }
  return { code: LIVE_CLOSE.POLICY_VIOLATION, reason: `Read-only feed: clients may only send "${LIVE_PING}"` };
}
