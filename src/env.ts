import type { SessionDO } from "./durable-objects/session";

/** Bindings and settings the Worker receives (see wrangler.toml; JWT_SECRET is a secret). */
export interface Env {
  DB: D1Database;
  /** One SessionDO per class session, named by the session id. */
  SESSION: DurableObjectNamespace<SessionDO>;
  /** Attempts to hold or book per client address and per email, per minute. */
  BOOKING_RATE_LIMITER: RateLimit;
  HOLD_TTL_SECONDS: string;
  MAX_SEATS_PER_EMAIL_PER_SESSION: string;
  MAX_SEATS_PER_CLIENT_PER_SESSION: string;
  /** HMAC key for HS256 bearer tokens: `.dev.vars` locally, `wrangler secret put JWT_SECRET` in production. */
  JWT_SECRET: string;
  MAX_OCCURRENCES_PER_PATTERN: string;
  MAX_BODY_BYTES: string;
}

export type Role = "customer" | "staff" | "admin";

/** Who is calling, from a verified bearer token. */
export interface Principal {
  subject: string;
  role: Role;
  email?: string;
}

/** Hono environment shared by every router. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    principal: Principal | undefined;
    /** Set by the idempotency middleware when the request carries an Idempotency-Key. */
    idempotency: { scope: string; key: string; seed: string } | undefined;
  };
}
