/**
 * The Worker's settings in one place: every `[vars]` entry of wrangler.toml and the JWT_SECRET
 * secret, each with its default and its bounds, read through `configOf(env)` under names that
 * say what they are (`config.holdTtlMs`, `config.liveAllowedOrigins`, …).
 *
 * Wrangler vars arrive as strings (or as numbers, booleans and objects when set as JSON vars):
 * numbers are parsed, comma lists split, and a missing or empty setting takes its default. A
 * malformed setting is never replaced by its default: parsing throws a `ConfigError` naming every
 * bad setting, so bad config fails loudly instead of quietly running on values nobody chose.
 * ALERT_RULES is passed through untouched: src/domain/alert-rules.ts reads it, and reports an
 * invalid value as an alert while the default thresholds keep working.
 */
import { z } from "zod";

/** The notification providers there are (src/services/notification-providers.ts). */
export const NOTIFICATION_PROVIDERS = ["record"] as const;
export type NotificationProviderName = (typeof NOTIFICATION_PROVIDERS)[number];

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

/** The settings as the environment names them. */
const settings = {
  /** How long a checkout hold keeps its seats, in seconds. */
  HOLD_TTL_SECONDS: wholeNumber(600, 60, 86_400),
  /** How long a waitlist offer holds its seats before passing to the next in line, in seconds. */
  WAITLIST_OFFER_TTL_SECONDS: wholeNumber(86_400, 60, 30 * 86_400),
  /** Seats one email may hold or book in one session (staff exempt). */
  MAX_SEATS_PER_EMAIL_PER_SESSION: wholeNumber(8, 1, 10_000),
  /** Seats one client address may hold or book in one session (staff exempt). */
  MAX_SEATS_PER_CLIENT_PER_SESSION: wholeNumber(16, 1, 10_000),
  /** Browser origins allowed to open the live capacity WebSocket; none by default. */
  LIVE_ALLOWED_ORIGINS: originList,
  /** Live capacity subscribers per session; a Durable Object takes at most 32,768 WebSockets. */
  MAX_LIVE_CONNECTIONS_PER_SESSION: wholeNumber(2000, 1, 32_768),
  /** Live capacity subscribers per session from one client address. */
  MAX_LIVE_CONNECTIONS_PER_CLIENT: wholeNumber(20, 1, 32_768),
  /** The largest request body the API reads, in bytes (413 PAYLOAD_TOO_LARGE beyond). */
  MAX_BODY_BYTES: wholeNumber(64 * 1024, 1024, 10 * 1024 * 1024),
  /** The most occurrences a schedule pattern may expand to (422 OCCURRENCE_LIMIT_EXCEEDED beyond). */
  MAX_OCCURRENCES_PER_PATTERN: wholeNumber(500, 1, 10_000),
  /** One API request in this many emits REQUEST_SAMPLED (the request error rate's denominator). */
  REQUEST_SAMPLE_RATE: wholeNumber(10, 1, 1_000_000),
  /** Who delivers notifications. */
  NOTIFICATION_PROVIDER: z.preprocess(
    (value) => (isUnset(value) ? "record" : typeof value === "string" ? value.trim() : value),
    z.enum(NOTIFICATION_PROVIDERS, { error: `must be one of ${NOTIFICATION_PROVIDERS.map((name) => `"${name}"`).join(", ")}` }),
  ),
  /** How long a Worker keeps the catalog facts a booking reads (session, class, price, instructor); 0 turns it off (at most 1 s). */
  CATALOG_CACHE_MS: wholeNumber(1000, 0, 1000),
  /** How long a Worker refuses a session it saw full without asking its object; 0 turns it off (at most 1 s). */
  FULL_SESSION_CACHE_MS: wholeNumber(1000, 0, 1000),
  /** Benchmarks only: responses count the D1 statements run before them (src/middleware/d1-statements.ts). */
  EXPOSE_D1_STATEMENTS: flag(false),
  /** Alert thresholds, passed through to src/domain/alert-rules.ts (which reports an invalid value itself). */
  ALERT_RULES: z.unknown(),
  /** HMAC key for HS256 bearer tokens and signed links: a secret, never a var. */
  JWT_SECRET: z
    .string({ error: "is required: `.dev.vars` locally (npm start writes one), `wrangler secret put JWT_SECRET` in production" })
    .min(16, { error: "must be at least 16 characters" }),
};

type SettingName = keyof typeof settings;

/** The names `configOf` reads from the environment. */
export const SETTING_NAMES = Object.keys(settings) as SettingName[];

/** Settings whose values never appear in an error message. */
const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set(["JWT_SECRET"]);

/** The environment, or any object with some of its settings (tests pass their own). */
export type ConfigSource = { readonly [Name in SettingName]?: unknown };

/** Every setting, parsed, under the names code reads them by. */
export const ConfigSchema = z.object(settings).transform((env) => ({
  holdTtlMs: env.HOLD_TTL_SECONDS * 1000,
  waitlistOfferTtlMs: env.WAITLIST_OFFER_TTL_SECONDS * 1000,
  maxSeatsPerEmailPerSession: env.MAX_SEATS_PER_EMAIL_PER_SESSION,
  maxSeatsPerClientPerSession: env.MAX_SEATS_PER_CLIENT_PER_SESSION,
  liveAllowedOrigins: env.LIVE_ALLOWED_ORIGINS,
  maxLiveConnectionsPerSession: env.MAX_LIVE_CONNECTIONS_PER_SESSION,
  maxLiveConnectionsPerClient: env.MAX_LIVE_CONNECTIONS_PER_CLIENT,
  maxBodyBytes: env.MAX_BODY_BYTES,
  maxOccurrencesPerPattern: env.MAX_OCCURRENCES_PER_PATTERN,
  requestSampleRate: env.REQUEST_SAMPLE_RATE,
  notificationProvider: env.NOTIFICATION_PROVIDER,
  exposeD1Statements: env.EXPOSE_D1_STATEMENTS,
  catalogCacheMs: env.CATALOG_CACHE_MS,
  fullSessionCacheMs: env.FULL_SESSION_CACHE_MS,
  alertRules: env.ALERT_RULES,
  jwtSecret: env.JWT_SECRET,
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
