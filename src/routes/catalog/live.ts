/**
 * GET /api/v1/sessions/{id}/live: a read-only WebSocket feed of a session's seats left, answered by
 * the session's Durable Object with the hibernation API. No token needed (the same facts as
 * /availability); browsers are kept to LIVE_ALLOWED_ORIGINS because WebSockets have no CORS.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { configOf } from "../../config";
import { getDb } from "../../db/client";
import { LIVE_CLOSE, LIVE_PING, LIVE_PONG, MAX_CLIENT_MESSAGE_BYTES, originAllowed } from "../../domain/live";
import { ApiError } from "../../errors";
import { createRouter, ErrorSchema, IdParam } from "../../lib/openapi";
import { openLiveSubscription } from "../../services/live";

/** How long a client refused for the connection cap is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 30;

const errorJson = (description: string) => ({ description, content: { "application/json": { schema: ErrorSchema } } });

/** Documentation only: Hono hands validators lower-cased header names, and the checks are in the handler (426, 403). */
const LiveHeaders = z.object({
  Upgrade: z.string().optional().openapi({ description: "Must be `websocket`", example: "websocket" }),
  Origin: z.string().optional().openapi({
    description: "Set by browsers; must be one of LIVE_ALLOWED_ORIGINS. Clients that send none (not browsers) are allowed.",
    example: "http://localhost:5173",
  }),
});

const description = `Opens a WebSocket that streams the session's live capacity. Every message is JSON:

\`{ "type": "snapshot" | "capacity", "sessionId", "availableSpots", "status": "open" | "full" | "cancelled", "waitlistLength", "version" }\`

- \`snapshot\` comes once, right after connecting; \`capacity\` after every change (booking, cancellation, hold, hold expiry, capacity change, waitlist).
- \`version\` is the session's change counter: on one socket it strictly increases (it may skip numbers when one message covers several changes). Compare it with \`version\` from \`/availability\` to order the two.
- Send \`${LIVE_PING}\` to get \`${LIVE_PONG}\` (a keep-alive that never wakes the session). Clients cannot change anything: any other message closes the socket with ${LIVE_CLOSE.POLICY_VIOLATION} (policy violation), one over ${MAX_CLIENT_MESSAGE_BYTES} bytes with ${LIVE_CLOSE.MESSAGE_TOO_BIG} (message too big).
- Subscriptions survive the session's object being evicted or hibernating.`;

export const liveSessionRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/live",
    tags: ["Catalog"],
    summary: "Live capacity over a WebSocket",
    description,
    request: { params: IdParam("Session", "ses_2026_03_02_wheel"), headers: LiveHeaders },
    responses: {
      101: { description: "Switching Protocols: the WebSocket is open and its first message is the snapshot" },
      400: errorJson("The session id is malformed (VALIDATION_FAILED)"),
      403: errorJson("The Origin header is not in LIVE_ALLOWED_ORIGINS (ORIGIN_NOT_ALLOWED)"),
      404: errorJson("No such session (SESSION_NOT_FOUND)"),
      426: errorJson("Not a WebSocket upgrade request (UPGRADE_REQUIRED); the response carries `Upgrade: websocket`"),
      429: errorJson("This client address has MAX_LIVE_CONNECTIONS_PER_CLIENT feeds open on the session already (RATE_LIMITED)"),
      503: errorJson(
        "The session has MAX_LIVE_CONNECTIONS_PER_SESSION subscribers already (LIVE_CONNECTION_LIMIT); retry after the `Retry-After` seconds or poll /availability",
      ),
    },
  }),
  async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      c.header("Upgrade", "websocket");
      throw new ApiError("UPGRADE_REQUIRED", "This route is a WebSocket: send a GET with `Upgrade: websocket`");
    }
    const origin = c.req.header("Origin");
    if (!originAllowed(origin, configOf(c.env).liveAllowedOrigins)) {
      throw new ApiError("ORIGIN_NOT_ALLOWED", `Origin ${origin} may not open live capacity feeds`, { origin });
    }
    const { id } = c.req.valid("param");
    const subscription = await openLiveSubscription(c.env, getDb(c.env.DB), id, c.req.header("CF-Connecting-IP") ?? "unknown");
    if (!subscription.ok && subscription.scope === "client") {
      throw new ApiError("RATE_LIMITED", `This client has the most live feeds on session ${id} it may open (${subscription.max})`, {
        scope: "live_connections_per_client",
        sessionId: id,
        maxConnections: subscription.max,
      });
    }
    if (!subscription.ok) {
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      throw new ApiError("LIVE_CONNECTION_LIMIT", `Session ${id} has the most live subscribers it takes (${subscription.max}); try again later`, {
        sessionId: id,
        maxConnections: subscription.max,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    return subscription.response;
  },
);
