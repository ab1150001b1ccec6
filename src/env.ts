import type { BookingCoordinatorDO } from "./durable-objects/coordinator";
import type { PromoRedemptionsDO } from "./durable-objects/promo-redemptions";
import type { SeatQuotaDO } from "./durable-objects/seat-quota";
import type { SessionDO } from "./durable-objects/session";
import type { ProjectionMessage } from "./domain/projection";
import type { RollupChunk } from "./jobs/rollup-contract";
import type { DomainEvent } from "./services/events";
import type { NotificationRequest } from "./services/notifications";
import type { WebhookMessage } from "./services/webhooks";

/** Bindings and settings the Worker receives (see wrangler.toml; JWT_SECRET is a secret). */
export interface Env {
  DB: D1Database;
  /** The static files in public/ (wrangler.toml [assets]). */
  ASSETS: Fetcher;
  /** One SessionDO per class session, named by the session id. */
  SESSION: DurableObjectNamespace<SessionDO>;
  /** One BookingCoordinatorDO per booking attempt spanning sessions. */
  COORDINATOR: DurableObjectNamespace<BookingCoordinatorDO>;
  /** One SeatQuotaDO per client address, email identity and signed-in customer: seats taken across sessions. */
  SEAT_QUOTA: DurableObjectNamespace<SeatQuotaDO>;
  /** One PromoRedemptionsDO per promo code (named by its id): the single writer of its uses. */
  PROMO_REDEMPTIONS: DurableObjectNamespace<PromoRedemptionsDO>;
  /** Changes for D1 from the Durable Objects' outboxes (and refusals decided by the Worker). */
  PROJECTION: Queue<ProjectionMessage>;
  /** Attempts to hold or book per client address and per email, per minute. */
  BOOKING_RATE_LIMITER: RateLimit;
  /** Sign-in links a client address may ask for per minute (429 beyond). */
  SIGN_IN_CLIENT_RATE_LIMITER: RateLimit;
  /** Sign-in links one email (with its +sub-addresses) is sent per minute; beyond, nothing is sent. */
  SIGN_IN_EMAIL_RATE_LIMITER: RateLimit;
  /** Staff messages (send-email, session message) one sender may send per minute. */
  STAFF_MESSAGE_RATE_LIMITER: RateLimit;
  /** Demand signals a client address may post per minute. */
  SIGNAL_RATE_LIMITER: RateLimit;
  /** Bookings that carry a promo code per client address per minute (staff exempt), so codes cannot be guessed. */
  PROMO_RATE_LIMITER: RateLimit;
  /** Domain events, written to D1 in batches by their consumer. */
  EVENTS: Queue<DomainEvent>;
  /** Notification requests, rendered and sent by their consumer. */
  NOTIFICATIONS: Queue<NotificationRequest>;
  /** Outgoing webhook deliveries to try now (src/jobs/webhook-deliveries.ts); the D1 row is the truth. */
  WEBHOOKS: Queue<WebhookMessage>;
  /** Metric rollup chunks (daily/weekly, and backfills split into chunks). */
  ROLLUPS: Queue<RollupChunk>;
  HOLD_TTL_SECONDS: string;
  WAITLIST_OFFER_TTL_SECONDS: string;
  /** Comma-separated browser origins (besides PUBLIC_BASE_URL) that may call the API with credentials. */
  CORS_ALLOWED_ORIGINS?: string;
  SIGN_IN_LINK_MINUTES?: string;
  STAFF_INVITE_HOURS?: string;
  CERTIFICATE_COMPLETION_PERCENT?: string;
  RENEWAL_REMINDER_DAYS?: string;
  RENEWAL_OFFER_HOURS?: string;
  /** Comma-separated browser origins allowed to open the live capacity WebSocket. */
  LIVE_ALLOWED_ORIGINS: string;
  /** The public origin every link in a message is built on (src/config.ts `publicBaseUrl`). */
  PUBLIC_BASE_URL?: string;
  MAX_LIVE_CONNECTIONS_PER_SESSION: string;
  /** Live capacity subscribers per session from one client address. */
  MAX_LIVE_CONNECTIONS_PER_CLIENT: string;
  MAX_SEATS_PER_EMAIL_PER_SESSION: string;
  MAX_SEATS_PER_CLIENT_PER_SESSION: string;
  /** What every token key is derived from (bearer, manage, entry, offer): `.dev.vars` locally, `wrangler secret put JWT_SECRET` in production. */
  JWT_SECRET: string;
  /** While rotating: the secret before JWT_SECRET, whose tokens still verify (a secret too). */
  JWT_SECRET_PREVIOUS?: string;
  /** The iss and aud bearer tokens must carry, and their longest lifetime (src/config.ts). */
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  JWT_MAX_LIFETIME_SECONDS?: string;
  MAX_OCCURRENCES_PER_PATTERN: string;
  MAX_BODY_BYTES: string;
  /** Which notification provider delivers messages (src/config.ts): dev-mailbox, resend or none. */
  NOTIFICATION_PROVIDER: string;
  /** One API request in this many emits REQUEST_SAMPLED (the error rate's denominator). */
  REQUEST_SAMPLE_RATE: string;
  /**
   * Alert rule thresholds (src/domain/alert-rules.ts): a JSON string, or an object when set as a
   * JSON var. Missing keys take their defaults; an invalid value is reported and the defaults used.
   */
  ALERT_RULES?: string | Record<string, unknown>;
  /**
   * "true": responses carry X-D1-Statements and X-D1-Writes, the D1 statements run before the
   * response (src/middleware/d1-statements.ts; the benchmarks set it). Anything else: off.
   */
  EXPOSE_D1_STATEMENTS?: string;
}

export type Role = "customer" | "staff" | "admin";

/**
 * Who is calling: a signed-in session (its account's id, email and current role from D1), or in
 * development a sessionless token from `npm run token`.
 */
export interface Principal {
  subject: string;
  role: Role;
  email?: string;
  /** The signed-in session, when the token names one (sign-out ends it), and when it expires (epoch ms). */
  sessionId?: string;
  sessionExpiresAt?: number;
  /** Where the token came from: the session cookie makes writes subject to the CSRF check. */
  via?: "bearer" | "cookie";
}

/** Hono environment shared by every router. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    principal: Principal | undefined;
    /** Set by the idempotency middleware when the request carries an Idempotency-Key. */
    idempotency: { scope: string; key: string; seed: string; requestHash: string } | undefined;
  };
}
