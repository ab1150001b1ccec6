/** Bindings and settings the Worker receives (see wrangler.toml; JWT_SECRET is a secret). */
export interface Env {
  DB: D1Database;
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
  };
}
