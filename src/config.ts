/**
 * The Worker's settings in one place: every `[vars]` entry of wrangler.toml and the JWT_SECRET
 * (and, while rotating, JWT_SECRET_PREVIOUS) secret, each with its default and its bounds, read
 * through `configOf(env)` under names that say what they are (`config.holdTtlMs`, `config.liveAllowedOrigins`, …).
 *
 * Wrangler vars arrive as strings (or as numbers, booleans and objects when set as JSON vars):
 * numbers are parsed, comma lists split, and a missing or empty setting takes its default. A
 * malformed setting is never replaced by its default: parsing throws a `ConfigError` naming every
 * bad setting, so bad config fails loudly instead of quietly running on values nobody chose.
 * ALERT_RULES is passed through untouched: src/domain/alert-rules.ts reads it, and reports an
 * invalid value as an alert while the default thresholds keep working.
 */
import { z } from "zod";
import { CHECKOUT_PROVIDER_NAMES } from "./domain/payments";

/**
 * The notification providers there are (src/services/notification-providers.ts): the dev mailbox
 * (development only: messages land in D1, readable at /dev/mailbox), Resend, or none (messages
 * stay pending and an alert says so: nothing pretends to be sent).
 */
export const NOTIFICATION_PROVIDERS = ["dev-mailbox", "resend", "none"] as const;
export type NotificationProviderName = (typeof NOTIFICATION_PROVIDERS)[number];

/**
 * Who takes online payments (src/services/payments/factory.ts): the local provider (development
 * only: its checkout is a page on this Worker, /dev/checkout/{id}), Stripe, or none (an online
 * booking is refused with PAYMENT_UNAVAILABLE: nothing pretends to take money). Never "desk": staff
 * record desk payments, no setting sends checkouts there.
 */
export const PAYMENT_PROVIDERS = [...CHECKOUT_PROVIDER_NAMES, "none"] as const;
export type PaymentProviderSetting = (typeof PAYMENT_PROVIDERS)[number];

/** Where the Worker runs: development (npm start, the tests) has the dev mailbox; production is the default. */
export const ENVIRONMENTS = ["development", "production"] as const;

/** A secret or text setting that may be left out. */
function optionalText(max: number) {
  return z.preprocess((value) => (isUnset(value) ? undefined : typeof value === "string" ? value.trim() : value), z.string({ error: "must be a string" }).max(max).optional());
}

/** Bearer token defaults, shared with the scripts and tests that mint tokens (src/lib/jwt-claims.ts). */
export const JWT_DEFAULTS = { issuer: "class-booking", audience: "class-booking-api", maxLifetimeSeconds: 12 * 3600 } as const;

/** A setting nobody set: missing, or an empty string (wrangler has no way to unset a var). */
function isUnset(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/** A whole number within bounds, from a string var (`"600"`) or a JSON var (`600`). */
function wholeNumber(fallback: number, min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (value) => (isUnset(value) ? fallback : typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value),
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  );
}

/** "true" or "false" (any case), or a JSON boolean. */
function flag(fallback: boolean) {
  const words: Record<string, boolean> = { true: true, false: false };
  return z.preprocess(
    (value) => (isUnset(value) ? fallback : typeof value === "string" ? (words[value.trim().toLowerCase()] ?? value) : value),
    z.boolean({ error: 'must be "true" or "false"' }),
  );
}

/**
 * A browser origin as browsers send it in `Origin`: scheme, host and a port only when it is not
 * the scheme's default, lower-cased (`HTTP://Localhost:80/` is `http://localhost`). Undefined
 * when the text is not an http(s) origin (a path, a query, credentials or no scheme).
 */
function originOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  return bare && (url.protocol === "http:" || url.protocol === "https:") ? url.origin : undefined;
}

/**
 * Whether an origin can be this service's public one in production: https, on a host that is not
 * localhost or a loopback address. wrangler.toml ships a local PUBLIC_BASE_URL; a deploy that
 * forgets to set it must neither trust it (src/middleware/origins.ts) nor go unnoticed (an alert).
 */
export function isPublicHttpsOrigin(origin: string): boolean {
  const { protocol, hostname } = new URL(origin);
  const loopback = hostname === "localhost" || hostname.endsWith(".localhost") || /^127\./.test(hostname) || hostname === "[::1]" || hostname === "0.0.0.0";
  return protocol === "https:" && !loopback;
}

/** A comma-separated list of origins (or a JSON array of them), each normalised by `originOf`. */
const originList = z.preprocess(
  (value) =>
    isUnset(value)
      ? []
      : typeof value === "string"
        ? value
            .split(",")
            .map((item) => item.trim())
            .filter((item) => item !== "")
        : value,
  z.array(
    z.string().transform((text, ctx) => {
      const origin = originOf(text);
      if (origin === undefined) {
        ctx.addIssue({ code: "custom", message: `"${text}" is not an origin like https://example.com or http://localhost:8787` });
        return z.NEVER;
      }
      return origin;
    }),
    { error: "must be a comma-separated list of origins" },
  ),
);

/** One http(s) origin (normalised by `originOf`), or `fallback` when unset. */
function origin(fallback: string) {
  return z.preprocess(
    (value) => (isUnset(value) ? fallback : typeof value === "string" ? value.trim() : value),
    z.string({ error: "must be an origin like https://book.example.com" }).transform((text, ctx) => {
      const normalised = originOf(text);
      if (normalised === undefined) {
        ctx.addIssue({ code: "custom", message: "must be an http(s) origin like https://book.example.com (no path, query or credentials)" });
        return z.NEVER;
      }
      return normalised;
    }),
  );
}

/** A short word of printable ASCII (a JWT's iss or aud), trimmed, or `fallback` when unset. */
function claimText(fallback: string) {
  return z.preprocess(
    (value) => (isUnset(value) ? fallback : typeof value === "string" ? value.trim() : value),
    z.string({ error: "must be 1 to 200 printable characters" }).regex(/^[\x21-\x7e]{1,200}$/, { error: "must be 1 to 200 printable characters" }),
  );
}

/** The settings as the environment names them. */
const settings = {
  /** How long a checkout hold keeps its seats, in seconds. */
  HOLD_TTL_SECONDS: wholeNumber(600, 60, 86_400),
  /** How long an online booking's seats are held for its payment, in minutes (the checkout closes then). */
  PAYMENT_HOLD_MINUTES: wholeNumber(15, 1, 24 * 60),
  /** How long a waitlist offer holds its seats before passing to the next in line, in seconds. */
  WAITLIST_OFFER_TTL_SECONDS: wholeNumber(86_400, 60, 30 * 86_400),
  /** Seats one email may hold or book in one session (staff exempt). */
  MAX_SEATS_PER_EMAIL_PER_SESSION: wholeNumber(8, 1, 10_000),
  /** Seats one client address may hold or book in one session (staff exempt). */
  MAX_SEATS_PER_CLIENT_PER_SESSION: wholeNumber(16, 1, 10_000),
  /** Percent of a session's capacity one email, and one client address, may hold or book (at least 1 seat, at most the caps above). */
  SEAT_SHARE_PER_SESSION_PERCENT: wholeNumber(25, 1, 100),
  /** The sliding window over which seats taken across all sessions are counted, in minutes. */
  SEAT_WINDOW_MINUTES: wholeNumber(60, 1, 7 * 24 * 60),
  /** Seats (per session: a course of 10 for 2 is 20) one client address may hold or book in the window (staff exempt). */
  MAX_SEATS_PER_CLIENT_PER_WINDOW: wholeNumber(48, 1, 1_000_000),
  /** … and one email (its +sub-addresses with it), or one signed-in customer. */
  MAX_SEATS_PER_EMAIL_PER_WINDOW: wholeNumber(32, 1, 1_000_000),
  /** Parties one client address (or signed-in customer) may have waiting in one session's waitlist (staff exempt). */
  WAITLIST_PARTIES_PER_CLIENT_PER_SESSION: wholeNumber(3, 1, 1000),
  /** Waitlist joins one client address, and one email, may make across all sessions in the seat window. */
  MAX_WAITLIST_JOINS_PER_CLIENT_PER_WINDOW: wholeNumber(10, 1, 1_000_000),
  /** How long an anonymous waitlist entry has to confirm its email (the join message's link) before it leaves the line, in minutes. */
  WAITLIST_CONFIRM_MINUTES: wholeNumber(1440, 1, 30 * 24 * 60),
  /** Browser origins allowed to open the live capacity WebSocket; none by default. */
  LIVE_ALLOWED_ORIGINS: originList,
  /** The public origin of this service: every link in a message (manage, offer, booking links) is built on it. */
  PUBLIC_BASE_URL: origin("http://127.0.0.1:8787"),
  /** Browser origins besides PUBLIC_BASE_URL that may call the API with credentials (CORS) and send cookie-authenticated writes; none by default. */
  CORS_ALLOWED_ORIGINS: originList,
  /** How long an emailed sign-in link works, in minutes (used once). */
  SIGN_IN_LINK_MINUTES: wholeNumber(15, 1, 60),
  /** How long a staff invitation link works, in hours (used once). */
  STAFF_INVITE_HOURS: wholeNumber(72, 1, 14 * 24),
  /** Percent of a booking's sessions an attendee must be checked in at for a certificate, where the class sets none. */
  CERTIFICATE_COMPLETION_PERCENT: wholeNumber(100, 1, 100),
  /** Days before a certificate expires that its holder is reminded and offered a seat to renew. */
  RENEWAL_REMINDER_DAYS: wholeNumber(30, 1, 365),
  /** How long a renewal offer holds its seat, in hours. */
  RENEWAL_OFFER_HOURS: wholeNumber(48, 1, 14 * 24),
  /** Live capacity subscribers per session; a Durable Object takes at most 32,768 WebSockets. */
  MAX_LIVE_CONNECTIONS_PER_SESSION: wholeNumber(2000, 1, 32_768),
  /** Live capacity subscribers per session from one client address. */
  MAX_LIVE_CONNECTIONS_PER_CLIENT: wholeNumber(20, 1, 32_768),
  /** The largest request body the API reads, in bytes (413 PAYLOAD_TOO_LARGE beyond). */
  MAX_BODY_BYTES: wholeNumber(64 * 1024, 1024, 10 * 1024 * 1024),
  /** The most occurrences a schedule pattern may expand to (422 OCCURRENCE_LIMIT_EXCEEDED beyond). */
  MAX_OCCURRENCES_PER_PATTERN: wholeNumber(500, 1, 10_000),
  /** How long before a session's start staff may check attendees in, in minutes (409 ATTENDANCE_NOT_OPEN before). */
  CHECK_IN_OPENS_MINUTES: wholeNumber(60, 0, 24 * 60),
  /** How long after a session's start attendees still `booked` become `no_show` (the no-show sweep), in minutes. */
  NO_SHOW_AFTER_MINUTES: wholeNumber(30, 1, 7 * 24 * 60),
  /** How far back the no-show sweep looks for sessions it has not swept yet, in days (bounds each run's work). */
  NO_SHOW_SWEEP_DAYS: wholeNumber(3, 1, 90),
  /** One API request in this many emits REQUEST_SAMPLED (the request error rate's denominator). */
  REQUEST_SAMPLE_RATE: wholeNumber(10, 1, 1_000_000),
  /** Outgoing webhooks: an endpoint whose deliveries fail every attempt this many times in a row is disabled. */
  WEBHOOK_DISABLE_AFTER_FAILURES: wholeNumber(5, 1, 1000),
  /** Outgoing webhooks: an endpoint with no success for more than this many hours since its first failure is disabled (at most 30 days). */
  WEBHOOK_DISABLE_AFTER_HOURS: wholeNumber(24, 1, 720),
  /** development (`npm start` writes it into .dev.vars, the tests set it) or production, the default. */
  ENVIRONMENT: z.preprocess(
    (value) => (isUnset(value) ? "production" : typeof value === "string" ? value.trim() : value),
    z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.map((name) => `"${name}"`).join(", ")}` }),
  ),
  /** Who delivers notifications; unset: the dev mailbox in development, none in production. */
  NOTIFICATION_PROVIDER: z.preprocess(
    (value) => (isUnset(value) ? undefined : typeof value === "string" ? value.trim() : value),
    z.enum(NOTIFICATION_PROVIDERS, { error: `must be one of ${NOTIFICATION_PROVIDERS.map((name) => `"${name}"`).join(", ")}` }).optional(),
  ),
  /** Resend: the API key (a secret), the From address (`Studio <bookings@studio.example>`) and the webhook signing secret (`whsec_…`, a secret). */
  RESEND_API_KEY: optionalText(200),
  RESEND_FROM: optionalText(300),
  RESEND_WEBHOOK_SECRET: optionalText(200),
  /** Who takes online payments; unset: the local provider in development, none in production. */
  PAYMENT_PROVIDER: z.preprocess(
    (value) => (isUnset(value) ? undefined : typeof value === "string" ? value.trim() : value),
    z.enum(PAYMENT_PROVIDERS, { error: `must be one of ${PAYMENT_PROVIDERS.map((name) => `"${name}"`).join(", ")}` }).optional(),
  ),
  /** Stripe: the secret API key (`sk_…`, or a restricted `rk_…`) and the webhook endpoint's signing secret (`whsec_…`); both secrets. */
  STRIPE_SECRET_KEY: optionalText(500),
  STRIPE_WEBHOOK_SECRET: optionalText(500),
  /** How long a Worker keeps the catalog facts a booking reads (session, class, price, instructor); 0 turns it off (at most 1 s). */
  CATALOG_CACHE_MS: wholeNumber(1000, 0, 1000),
  /** How long a Worker refuses a session it saw full without asking its object; 0 turns it off (at most 1 s). */
  FULL_SESSION_CACHE_MS: wholeNumber(1000, 0, 1000),
  /** Benchmarks only: responses count the D1 statements run before them (src/middleware/d1-statements.ts). */
  EXPOSE_D1_STATEMENTS: flag(false),
  /** Alert thresholds, passed through to src/domain/alert-rules.ts (which reports an invalid value itself). */
  ALERT_RULES: z.unknown(),
  /** The `iss` every bearer token must carry. */
  JWT_ISSUER: claimText(JWT_DEFAULTS.issuer),
  /** The `aud` every bearer token must carry (or include). */
  JWT_AUDIENCE: claimText(JWT_DEFAULTS.audience),
  /** The longest a bearer token may live, `exp - iat`, in seconds. */
  JWT_MAX_LIFETIME_SECONDS: wholeNumber(JWT_DEFAULTS.maxLifetimeSeconds, 60, 7 * 86_400),
  /** The secret every token key is derived from (bearer tokens, manage, entry and offer tokens): a secret, never a var. */
  JWT_SECRET: z
    .string({ error: "is required: `.dev.vars` locally (npm start writes one), `wrangler secret put JWT_SECRET` in production" })
    .min(16, { error: "must be at least 16 characters" }),
  /** During a rotation, the secret before JWT_SECRET: tokens made with it still verify. Optional, a secret. */
  JWT_SECRET_PREVIOUS: z.preprocess((value) => (isUnset(value) ? undefined : value), z.string({ error: "must be a string" }).min(16, { error: "must be at least 16 characters" }).optional()),
};

type SettingName = keyof typeof settings;

/** The names `configOf` reads from the environment. */
export const SETTING_NAMES = Object.keys(settings) as SettingName[];

/** Settings whose values never appear in an error message. */
export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set(["JWT_SECRET", "JWT_SECRET_PREVIOUS", "RESEND_API_KEY", "RESEND_WEBHOOK_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);

/** The environment, or any object with some of its settings (tests pass their own). */
export type ConfigSource = { readonly [Name in SettingName]?: unknown };

/** Every setting, parsed, under the names code reads them by. */
export const ConfigSchema = z
  .object(settings)
  .superRefine((env, context) => {
    const provider = env.NOTIFICATION_PROVIDER;
    if (provider === "dev-mailbox" && env.ENVIRONMENT !== "development") {
      context.addIssue({ code: "custom", path: ["NOTIFICATION_PROVIDER"], message: 'is "dev-mailbox", which delivers nowhere outside ENVIRONMENT=development' });
    }
    // Resend's (Svix's) signing secrets are `whsec_` and base64: anything else could never verify a webhook.
    if (env.RESEND_WEBHOOK_SECRET !== undefined && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(env.RESEND_WEBHOOK_SECRET)) {
      context.addIssue({ code: "custom", path: ["RESEND_WEBHOOK_SECRET"], message: "must be the whsec_… signing secret Resend shows for the webhook" });
    }
    if (provider === "resend") {
      for (const name of ["RESEND_API_KEY", "RESEND_FROM"] as const) {
        if (env[name] === undefined) context.addIssue({ code: "custom", path: [name], message: "is required when NOTIFICATION_PROVIDER is resend" });
      }
    }
    // The local provider's checkout takes no money: outside development it would confirm bookings for free.
    if (env.PAYMENT_PROVIDER === "local" && env.ENVIRONMENT !== "development") {
      context.addIssue({ code: "custom", path: ["PAYMENT_PROVIDER"], message: 'is "local", which takes no money and is refused outside ENVIRONMENT=development' });
    }
    if (env.STRIPE_SECRET_KEY !== undefined && !/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(env.STRIPE_SECRET_KEY)) {
      context.addIssue({ code: "custom", path: ["STRIPE_SECRET_KEY"], message: "must be a Stripe secret key (sk_live_…, sk_test_… or a restricted rk_…)" });
    }
    if (env.STRIPE_WEBHOOK_SECRET !== undefined && !/^whsec_[A-Za-z0-9+/=_-]+$/.test(env.STRIPE_WEBHOOK_SECRET)) {
      context.addIssue({ code: "custom", path: ["STRIPE_WEBHOOK_SECRET"], message: "must be the whsec_… signing secret of the Stripe webhook endpoint (or of `stripe listen`)" });
    }
    if (env.PAYMENT_PROVIDER === "stripe") {
      for (const name of ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"] as const) {
        if (env[name] === undefined) context.addIssue({ code: "custom", path: [name], message: "is required when PAYMENT_PROVIDER is stripe" });
      }
    }
  })
  .transform((env) => ({
  holdTtlMs: env.HOLD_TTL_SECONDS * 1000,
  waitlistOfferTtlMs: env.WAITLIST_OFFER_TTL_SECONDS * 1000,
  paymentHoldMs: env.PAYMENT_HOLD_MINUTES * 60_000,
  maxSeatsPerEmailPerSession: env.MAX_SEATS_PER_EMAIL_PER_SESSION,
  maxSeatsPerClientPerSession: env.MAX_SEATS_PER_CLIENT_PER_SESSION,
  seatSharePerSessionPercent: env.SEAT_SHARE_PER_SESSION_PERCENT,
  seatWindowMs: env.SEAT_WINDOW_MINUTES * 60_000,
  maxSeatsPerClientPerWindow: env.MAX_SEATS_PER_CLIENT_PER_WINDOW,
  maxSeatsPerEmailPerWindow: env.MAX_SEATS_PER_EMAIL_PER_WINDOW,
  waitlistPartiesPerClientPerSession: env.WAITLIST_PARTIES_PER_CLIENT_PER_SESSION,
  maxWaitlistJoinsPerWindow: env.MAX_WAITLIST_JOINS_PER_CLIENT_PER_WINDOW,
  waitlistConfirmMs: env.WAITLIST_CONFIRM_MINUTES * 60_000,
  liveAllowedOrigins: env.LIVE_ALLOWED_ORIGINS,
  publicBaseUrl: env.PUBLIC_BASE_URL,
  corsAllowedOrigins: env.CORS_ALLOWED_ORIGINS,
  signInLinkMs: env.SIGN_IN_LINK_MINUTES * 60_000,
  staffInviteMs: env.STAFF_INVITE_HOURS * 3_600_000,
  certificateCompletionPercent: env.CERTIFICATE_COMPLETION_PERCENT,
  renewalReminderMs: env.RENEWAL_REMINDER_DAYS * 86_400_000,
  renewalOfferMs: env.RENEWAL_OFFER_HOURS * 3_600_000,
  maxLiveConnectionsPerSession: env.MAX_LIVE_CONNECTIONS_PER_SESSION,
  maxLiveConnectionsPerClient: env.MAX_LIVE_CONNECTIONS_PER_CLIENT,
  maxBodyBytes: env.MAX_BODY_BYTES,
  maxOccurrencesPerPattern: env.MAX_OCCURRENCES_PER_PATTERN,
  requestSampleRate: env.REQUEST_SAMPLE_RATE,
  webhookDisableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES,
  webhookDisableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
  checkInOpensMs: env.CHECK_IN_OPENS_MINUTES * 60_000,
  noShowAfterMs: env.NO_SHOW_AFTER_MINUTES * 60_000,
  noShowSweepMs: env.NO_SHOW_SWEEP_DAYS * 86_400_000,
  environment: env.ENVIRONMENT,
  notificationProvider: env.NOTIFICATION_PROVIDER ?? (env.ENVIRONMENT === "development" ? ("dev-mailbox" as const) : ("none" as const)),
  resend: { apiKey: env.RESEND_API_KEY, from: env.RESEND_FROM, webhookSecret: env.RESEND_WEBHOOK_SECRET },
  paymentProvider: env.PAYMENT_PROVIDER ?? (env.ENVIRONMENT === "development" ? ("local" as const) : ("none" as const)),
  stripe: { secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET },
  exposeD1Statements: env.EXPOSE_D1_STATEMENTS,
  catalogCacheMs: env.CATALOG_CACHE_MS,
  fullSessionCacheMs: env.FULL_SESSION_CACHE_MS,
  alertRules: env.ALERT_RULES,
  jwtSecret: env.JWT_SECRET,
  /** What token checks accept (src/lib/tokens.ts `Keyring`); minting uses `current`. */
  keyring: env.JWT_SECRET_PREVIOUS === undefined ? { current: env.JWT_SECRET } : { current: env.JWT_SECRET, previous: env.JWT_SECRET_PREVIOUS },
  jwtIssuer: env.JWT_ISSUER,
  jwtAudience: env.JWT_AUDIENCE,
  jwtMaxLifetimeSeconds: env.JWT_MAX_LIFETIME_SECONDS,
}));

export type Config = z.infer<typeof ConfigSchema>;

/** The configuration is unusable; `problems` has one line per bad setting, each starting with its name. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (wrangler.toml [vars], .dev.vars or secrets): ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the settings afresh; throws a ConfigError naming every bad one. Most code wants `configOf`. */
export function parseConfig(env: ConfigSource): Config {
  const raw: Partial<Record<SettingName, unknown>> = {};
  for (const name of SETTING_NAMES) raw[name] = env[name];
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return Object.freeze(result.data);
  const problems = new Map<string, string[]>();
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? "config") as SettingName;
    problems.set(name, [...(problems.get(name) ?? []), issue.message]);
  }
  throw new ConfigError(
    [...problems].map(([name, messages]) => {
      const given = SECRET_SETTINGS.has(name as SettingName) ? "" : ` (got ${describe(raw[name as SettingName])})`;
      return `${name} ${[...new Set(messages)].join(", ")}${given}`;
    }),
  );
}

function describe(value: unknown): string {
  const text = value === undefined ? "nothing" : JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

const parsed = new WeakMap<object, Config>();

/**
 * The settings of this environment, parsed the first time it is asked for and remembered for as
 * long as the environment object lives (the runtime hands the same object to every request).
 * Throws a ConfigError naming every bad setting.
 */
export function configOf(env: ConfigSource): Config {
  let config = parsed.get(env);
  if (config === undefined) {
    config = parseConfig(env);
    parsed.set(env, config);
  }
  return config;
}
