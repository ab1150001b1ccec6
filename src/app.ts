/**
 * The app factory: middleware, the error handler and every router. Tests and the Worker entry
 * build the same app.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { configOf } from "./config";
import { domainEvent } from "./domain/events";
import type { AppEnv } from "./env";
import { ApiError, type ErrorCode } from "./errors";
import { authenticate, requireRole } from "./middleware/auth";
import { apiCors } from "./middleware/origins";
import { d1Statements } from "./middleware/d1-statements";
import { idempotency } from "./middleware/idempotency";
import { noStore } from "./middleware/no-store";
import { ownRequestId, requestLog } from "./middleware/request-log";
import { requestSample, requestShape } from "./middleware/request-sample";
import { waitUntilOf } from "./lib/wait-until";
import { forgetCatalog } from "./services/edge-cache";
import { adminRoutes } from "./routes/admin";
import { assetRoutes } from "./routes/assets";
import { authRoutes } from "./routes/auth";
import { bookingRoutes } from "./routes/bookings";
import { bookingMoveRoutes } from "./routes/booking-moves";
import { participantRoutes } from "./routes/participants";
import { signInPage } from "./routes/sign-in-page";
import { consolePages } from "./routes/console";
import { bookingPages } from "./routes/site/bookings";
import { mePages } from "./routes/site/me";
import { waitlistPages } from "./routes/site/waitlist";
import { catalogSite } from "./routes/site/catalog";
import { classSite } from "./routes/site/classes";
import { calendarRoutes } from "./routes/calendar";
import { calendarFeedRoutes } from "./routes/calendar-feeds";
import { catalogRoutes } from "./routes/catalog";
import { demandSignalRoutes } from "./routes/demand";
import { docsRoutes } from "./routes/docs";
import { devMailboxApi, devMailboxPage } from "./routes/dev-mailbox";
import { devCheckoutApi, devCheckoutPage } from "./routes/dev-checkout";
import { paymentWebhookRoutes } from "./routes/payment-webhooks";
import { holdRoutes } from "./routes/holds";
import { quoteRoutes } from "./routes/quotes";
import { meRoutes } from "./routes/me";
import { notifyMeRoutes } from "./routes/notify-me";
import { waitlistRoutes } from "./routes/waitlist";
import { waitlistOfferRoutes } from "./routes/waitlist-offers";
import { waitlistConfirmationRoutes } from "./routes/waitlist-confirmations";
import { webhookRoutes } from "./routes/webhooks";
import { certificateVerificationRoutes, myCertificateRoutes, renewalOfferRoutes } from "./routes/certificates";
import { certificatePages } from "./routes/site/certificates";
import { dispatchEvents } from "./services/events";

/**
 * Rotating a calendar feed answers with its new secret URL, which D1 must not keep (only its hash
 * is stored): a key is ignored there, and a retry simply rotates again.
 */
const CALENDAR_FEED_ROTATE = /^\/api\/v1\/me\/calendar-feed\/rotate\/?$/;

/** Writes whose Idempotency-Key record a Durable Object keeps beside the write (no D1 on their path). */
const RECORDED_BY_OBJECTS = [/^\/api\/v1\/bookings\/?$/, /^\/api\/v1\/holds\/?$/, /^\/api\/v1\/bookings\/[^/]+\/cancel$/, /^\/api\/v1\/bookings\/[^/]+\/move$/, /^\/api\/v1\/waitlist-offers\/[^/]+\/accept$/, /^\/api\/v1\/renewal-offers\/[^/]+\/accept$/];

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use(ownRequestId());
  app.use(requestLog());
  // nosniff, no framing, no referrer… on every response; JSON loads nothing, so its CSP allows
  // nothing. Pages set their own (src/routes/docs.ts), which this keeps (overwrite: false).
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      xFrameOptions: "DENY",
      overwrite: false,
    }),
  );
  app.use("/api/*", noStore());
  app.use(d1Statements());
  // A live feed's 101 comes from its Durable Object with headers nobody may change: copy it so
  // the middleware above can add theirs.
  app.use("/api/*", async function mutableUpgrade(c, next) {
    await next();
    const { webSocket } = c.res;
    if (c.res.status === 101 && webSocket) c.res = new Response(null, { status: 101, webSocket, headers: c.res.headers });
  });
  app.use("/api/*", requestSample());
  app.use("/api/*", async (c, next) => {
    const maxSize = configOf(c.env).maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxSize} bytes`, { maxBytes: maxSize });
      },
    })(c, next);
  });
  app.use("/api/*", apiCors());
  app.use("/api/*", authenticate());
  // Every POST that creates something accepts Idempotency-Key (DESIGN invariant 4).
  app.use("/api/v1/*", idempotency({ recordedByObjects: RECORDED_BY_OBJECTS, ignoredOn: [/^\/api\/v1\/auth\//, CALENDAR_FEED_ROTATE] }));
  // Belt and braces: nothing under /admin is ever public, whatever a single route declares.
  app.use("/api/v1/admin/*", requireRole("staff", "admin"));
  // An admin write may change what bookings read (capacity, prices, instructors): this Worker forgets its cache.
  app.use("/api/v1/admin/*", async function forgetCatalogOnWrite(c, next) {
    await next();
    if (c.req.method !== "GET") forgetCatalog();
  });

  app.route("/api/v1/auth", authRoutes);
  app.route("/api/v1", catalogRoutes);
  // Calendar files: /bookings/{id}/calendar.ics, /classes/{id}/calendar.ics, /calendar/feeds/{secret}.ics.
  app.route("/api/v1", calendarRoutes);
  app.route("/api/v1/sessions", waitlistRoutes);
  app.route("/api/v1/waitlist-offers", waitlistOfferRoutes);
  app.route("/api/v1/waitlist-confirmations", waitlistConfirmationRoutes);
  app.route("/api/v1/webhooks", webhookRoutes);
  app.route("/api/v1/dev", devMailboxApi);
  app.route("/api/v1/dev/checkout", devCheckoutApi);
  app.route("/api/v1/payments/webhooks", paymentWebhookRoutes);
  app.route("/api/v1/demand/waitlist", notifyMeRoutes);
  app.route("/api/v1/holds", holdRoutes);
  app.route("/api/v1/quotes", quoteRoutes);
  app.route("/api/v1/bookings", bookingRoutes);
  app.route("/api/v1/bookings", participantRoutes);
  app.route("/api/v1/bookings", bookingMoveRoutes);
  // The customer portal. Its routes check the role one by one, so a router mounted beside it
  // under /api/v1/me (the calendar feed) keeps its own access rules.
  app.route("/api/v1/me", meRoutes);
  app.route("/api/v1/me/calendar-feed", calendarFeedRoutes);
  app.route("/api/v1/me/certificates", myCertificateRoutes);
  app.route("/api/v1/certificates", certificateVerificationRoutes);
  app.route("/api/v1/renewal-offers", renewalOfferRoutes);
  app.route("/api/v1/demand", demandSignalRoutes);
  app.route("/api/v1/admin", adminRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "The accessToken from POST /api/v1/auth/verify (sign-in by emailed link); browsers may send the session cookie instead. " +
      "It names a server-side session: after sign-out it is refused, and the role is the account's current one. " +
      "In development only, `npm run token -- --role admin` mints a sessionless token.",
  });
  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Class booking API",
      version: "1.0.0",
      description:
        "Booking backend for studios, workshops and training providers. Every error has the shape " +
        '`{"error":{"code","message","details","requestId"}}`; the codes are listed in the Error schema.',
    },
    servers: [{ url: "/" }],
  });
  app.route("/", docsRoutes);
  app.route("/dev", devMailboxPage);
  app.route("/dev/checkout", devCheckoutPage);
  app.route("/", signInPage);
  app.route("/", consolePages);
  app.route("/", bookingPages);
  app.route("/", waitlistPages);
  app.route("/", mePages);
  app.route("/", certificatePages);
  app.route("/", catalogSite);
  app.route("/", classSite);
  app.route("/assets", assetRoutes);
  // Browsers ask for /favicon.ico on pages without an icon link (the API reference, the dev mailbox).
  app.get("/favicon.ico", (c) => c.redirect("/assets/favicon.svg", 301));
  app.get("/health", (c) => c.json({ ok: true }));

  app.notFound((c) => errorResponse(c, new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`)));
  app.onError(async (err, c) => {
    const apiError = toApiError(err, c.req.method);
    if (isServerFailure(apiError) && c.req.path.startsWith("/api/")) await emitRequestFailed(c, apiError);
    return errorResponse(c, apiError);
  });
  return app;
}

/**
 * A 5xx that is the server failing, for the request error rate. A full live feed (503
 * LIVE_CONNECTION_LIMIT) is a capacity answer working as designed, not a failure.
 */
function isServerFailure(err: ApiError): boolean {
  return err.status >= 500 && err.code !== "LIVE_CONNECTION_LIMIT";
}

/** A 5xx answered to an API request, for the request error rate (src/middleware/request-sample.ts). */
async function emitRequestFailed(c: Context<AppEnv>, err: ApiError) {
  const event = domainEvent("REQUEST_FAILED", {
    code: err.code,
    clientKey: c.req.header("CF-Connecting-IP") ?? null,
    data: { ...requestShape(c), status: err.status },
  });
  await dispatchEvents(c.env, [event], waitUntilOf(c));
}

/** Maps anything thrown to an ApiError; unknown failures are logged and hidden behind INTERNAL_ERROR. */
function toApiError(err: unknown, method: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  const constraint = constraintFailure(err);
  if (constraint === "UNIQUE") return new ApiError("ALREADY_EXISTS", "A record with the same unique value already exists");
  if (constraint === "FOREIGN KEY") {
    return method === "DELETE"
      ? new ApiError("IN_USE", "This record is still referenced by other records")
      : new ApiError("INVALID_REFERENCE", "A referenced record does not exist");
  }
  console.error(JSON.stringify({ level: "error", msg: "unhandled error", error: String(err), stack: (err as Error)?.stack }));
  return new ApiError("INTERNAL_ERROR", "Something went wrong on our side");
}

function fromHttpException(err: HTTPException): ApiError {
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: /json/i.test(err.message) ? "INVALID_JSON" : "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
  };
  const code = byStatus[err.status] ?? "BAD_REQUEST";
  return new ApiError(code, code === "INVALID_JSON" ? "The request body is not valid JSON" : err.message || code);
}

/** SQLite constraint failures reach us wrapped (drizzle → D1); look through the cause chain. */
function constraintFailure(err: unknown): "UNIQUE" | "FOREIGN KEY" | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/UNIQUE constraint failed/i.test(e.message)) return "UNIQUE";
    if (/FOREIGN KEY constraint failed/i.test(e.message)) return "FOREIGN KEY";
  }
  return undefined;
}

function errorResponse(c: Context<AppEnv>, err: ApiError) {
  const requestId = c.get("requestId");
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  return c.json({ error: { code: err.code, message: err.message, details: err.details, requestId } }, err.status);
}
