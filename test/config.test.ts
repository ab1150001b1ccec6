/// <reference types="vite/client" />
/**
 * The settings schema (src/config.ts): defaults, how wrangler's string vars are read, that a bad
 * setting fails naming itself, and that what wrangler.toml and vitest.config.ts set parses.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, configOf, parseConfig, SECRET_SETTINGS, SETTING_NAMES } from "../src/config";
import { parseAlertRules } from "../src/domain/alert-rules";

const SECRET = "a-test-secret-of-32-characters!!";

/** The problems a bad configuration is refused with (a ConfigError), or a failure when it parses. */
function problemsOf(settings: Record<string, unknown>): string[] {
  try {
    parseConfig({ JWT_SECRET: SECRET, ...settings });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(settings)} to be refused`);
}

/**
 * The `[vars]` of wrangler.toml, read from the file itself (vitest.config.ts overrides some for
 * the test run, so the test env alone does not show them all). Enough TOML for that section:
 * `NAME = "basic string"`, `NAME = 'literal'` and `NAME = '''multi-line literal'''`.
 */
function wranglerVars(): Record<string, string> {
  const [toml] = Object.values(import.meta.glob<string>("../wrangler.toml", { query: "?raw", import: "default", eager: true }));
  const lines = toml!.split(/\r?\n/);
  const vars: Record<string, string> = {};
  let inVars = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith("[")) inVars = line === "[vars]";
    if (!inVars || line === "" || line.startsWith("#") || line.startsWith("[")) continue;
    const multi = /^([A-Z0-9_]+)\s*=\s*'''(.*)$/.exec(line);
    if (multi) {
      const body = [multi[2]!];
      while (!body[body.length - 1]!.includes("'''")) body.push(lines[++i]!);
      vars[multi[1]!] = body.join("\n").replace(/'''[\s\S]*$/, "").replace(/^\n/, "");
      continue;
    }
    const single = /^([A-Z0-9_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (!single) throw new Error(`wrangler.toml [vars]: cannot read ${line}`);
    vars[single[1]!] = single[2] !== undefined ? (JSON.parse(`"${single[2]}"`) as string) : single[3]!;
  }
  return vars;
}

describe("config defaults", () => {
  it("gives every setting its default when only the secret is set", () => {
    expect(parseConfig({ JWT_SECRET: SECRET })).toEqual({
      holdTtlMs: 600_000,
      waitlistOfferTtlMs: 86_400_000,
      paymentHoldMs: 900_000,
      maxSeatsPerEmailPerSession: 8,
      maxSeatsPerClientPerSession: 16,
      seatSharePerSessionPercent: 25,
      seatWindowMs: 3_600_000,
      corsAllowedOrigins: [],
      signInLinkMs: 900_000,
      staffInviteMs: 259_200_000,
      maxSeatsPerClientPerWindow: 48,
      maxSeatsPerEmailPerWindow: 32,
      waitlistPartiesPerClientPerSession: 3,
      maxWaitlistJoinsPerWindow: 10,
      waitlistConfirmMs: 86_400_000,
      liveAllowedOrigins: [],
      publicBaseUrl: "http://127.0.0.1:8787",
      maxLiveConnectionsPerSession: 2000,
      maxLiveConnectionsPerClient: 20,
      maxBodyBytes: 65_536,
      maxOccurrencesPerPattern: 500,
      requestSampleRate: 10,
      webhookDisableAfterFailures: 5,
      webhookDisableAfterMs: 86_400_000,
      checkInOpensMs: 3_600_000,
      noShowAfterMs: 1_800_000,
      noShowSweepMs: 259_200_000,
      certificateCompletionPercent: 100,
      renewalReminderMs: 2_592_000_000,
      renewalOfferMs: 172_800_000,
      environment: "production",
      notificationProvider: "none",
      resend: { apiKey: undefined, from: undefined, webhookSecret: undefined },
      paymentProvider: "none",
      stripe: { secretKey: undefined, webhookSecret: undefined },
      exposeD1Statements: false,
      catalogCacheMs: 1000,
      fullSessionCacheMs: 1000,
      alertRules: undefined,
      jwtSecret: SECRET,
      keyring: { current: SECRET },
      jwtIssuer: "class-booking",
      jwtAudience: "class-booking-api",
      jwtMaxLifetimeSeconds: 43_200,
    });
  });

  it("treats an empty setting as unset", () => {
    const blank = Object.fromEntries(SETTING_NAMES.filter((name) => !SECRET_SETTINGS.has(name)).map((name) => [name, "  "]));
    expect(parseConfig({ ...blank, JWT_SECRET: SECRET })).toEqual({ ...parseConfig({ JWT_SECRET: SECRET }), alertRules: "  " });
  });
});

describe("config coercion", () => {
  it("reads whole numbers from strings (spaces allowed) or JSON numbers, seconds as milliseconds", () => {
    const config = parseConfig({
      JWT_SECRET: SECRET,
      HOLD_TTL_SECONDS: " 120 ",
      WAITLIST_OFFER_TTL_SECONDS: 3600,
      MAX_SEATS_PER_EMAIL_PER_SESSION: "4",
      MAX_SEATS_PER_CLIENT_PER_SESSION: "+6",
      MAX_LIVE_CONNECTIONS_PER_SESSION: "32768",
      MAX_LIVE_CONNECTIONS_PER_CLIENT: "1",
      MAX_BODY_BYTES: "1024",
      MAX_OCCURRENCES_PER_PATTERN: "10000",
      REQUEST_SAMPLE_RATE: "1",
      CATALOG_CACHE_MS: "0",
      FULL_SESSION_CACHE_MS: "250",
    });
    expect(config).toMatchObject({
      holdTtlMs: 120_000,
      waitlistOfferTtlMs: 3_600_000,
      maxSeatsPerEmailPerSession: 4,
      maxSeatsPerClientPerSession: 6,
      maxLiveConnectionsPerSession: 32_768,
      maxLiveConnectionsPerClient: 1,
      maxBodyBytes: 1024,
      maxOccurrencesPerPattern: 10_000,
      requestSampleRate: 1,
      catalogCacheMs: 0,
      fullSessionCacheMs: 250,
    });
  });

  it("splits the origin list and writes each origin as browsers send it", () => {
    const config = parseConfig({ JWT_SECRET: SECRET, LIVE_ALLOWED_ORIGINS: " HTTP://Localhost:5173/ ,, https://studio.example:443,http://127.0.0.1:8787" });
    expect(config.liveAllowedOrigins).toEqual(["http://localhost:5173", "https://studio.example", "http://127.0.0.1:8787"]);
    expect(parseConfig({ JWT_SECRET: SECRET, LIVE_ALLOWED_ORIGINS: ["https://a.example"] }).liveAllowedOrigins).toEqual(["https://a.example"]);
  });

  it("reads PUBLIC_BASE_URL as one origin, and refuses anything else", () => {
    expect(parseConfig({ JWT_SECRET: SECRET, PUBLIC_BASE_URL: " HTTPS://Book.Example.com:443/ " }).publicBaseUrl).toBe("https://book.example.com");
    for (const bad of ["book.example.com", "https://book.example.com/app", "ftp://book.example.com", "https://user@book.example.com", "javascript:alert(1)"]) {
      expect(problemsOf({ PUBLIC_BASE_URL: bad }), bad).toEqual([expect.stringMatching(/^PUBLIC_BASE_URL must be an http\(s\) origin/)]);
    }
  });

  it("reads the provider name and the benchmark flag", () => {
    expect(parseConfig({ JWT_SECRET: SECRET, ENVIRONMENT: "development", NOTIFICATION_PROVIDER: " dev-mailbox " }).notificationProvider).toBe("dev-mailbox");
    expect(parseConfig({ JWT_SECRET: SECRET, ENVIRONMENT: "development" }).notificationProvider).toBe("dev-mailbox");
    expect(parseConfig({ JWT_SECRET: SECRET, NOTIFICATION_PROVIDER: "resend", RESEND_API_KEY: "re_x", RESEND_FROM: "Studio <a@b.example>" }).resend).toMatchObject({ apiKey: "re_x" });
    expect(parseConfig({ JWT_SECRET: SECRET, EXPOSE_D1_STATEMENTS: "TRUE" }).exposeD1Statements).toBe(true);
    expect(parseConfig({ JWT_SECRET: SECRET, EXPOSE_D1_STATEMENTS: "false" }).exposeD1Statements).toBe(false);
    expect(parseConfig({ JWT_SECRET: SECRET, EXPOSE_D1_STATEMENTS: true }).exposeD1Statements).toBe(true);
  });

  it("passes ALERT_RULES through untouched (src/domain/alert-rules.ts reads it)", () => {
    for (const rules of ['{"lowFill":{"below":0.5}}', { lowFill: { below: 0.5 } }, "not json"]) {
      expect(parseConfig({ JWT_SECRET: SECRET, ALERT_RULES: rules }).alertRules).toBe(rules);
    }
  });
});

describe("bad config fails loudly", () => {
  it("refuses a malformed number instead of falling back to the default, naming the setting and the value", () => {
    for (const [name, value] of [
      ["HOLD_TTL_SECONDS", "10 minutes"],
      ["MAX_BODY_BYTES", "64k"],
      ["REQUEST_SAMPLE_RATE", "2.5"],
      ["MAX_SEATS_PER_EMAIL_PER_SESSION", "1e3"],
      ["MAX_LIVE_CONNECTIONS_PER_SESSION", "0"],
      ["MAX_LIVE_CONNECTIONS_PER_CLIENT", "-5"],
      ["MAX_OCCURRENCES_PER_PATTERN", 0.5],
      ["WAITLIST_OFFER_TTL_SECONDS", "59"],
      ["MAX_SEATS_PER_CLIENT_PER_SESSION", "lots"],
    ] as const) {
      const problems = problemsOf({ [name]: value });
      expect(problems, name).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} must be a whole number from \\d+ to \\d+ `));
      expect(problems[0]!.endsWith(`(got ${JSON.stringify(value)})`), problems[0]).toBe(true);
    }
  });

  it("refuses numbers out of bounds", () => {
    expect(problemsOf({ MAX_LIVE_CONNECTIONS_PER_SESSION: "32769" })).toEqual(['MAX_LIVE_CONNECTIONS_PER_SESSION must be a whole number from 1 to 32768 (got "32769")']);
    expect(problemsOf({ MAX_BODY_BYTES: "100" })).toEqual(['MAX_BODY_BYTES must be a whole number from 1024 to 10485760 (got "100")']);
    expect(problemsOf({ HOLD_TTL_SECONDS: "30" })).toEqual(['HOLD_TTL_SECONDS must be a whole number from 60 to 86400 (got "30")']);
    expect(problemsOf({ FULL_SESSION_CACHE_MS: "1001" })).toEqual(['FULL_SESSION_CACHE_MS must be a whole number from 0 to 1000 (got "1001")']);
  });

  it("refuses what is not an origin, an unknown provider and a flag that is not true or false", () => {
    expect(problemsOf({ LIVE_ALLOWED_ORIGINS: "http://ok.example,localhost:8787,https://x.example/path" })).toEqual([
      expect.stringMatching(/^LIVE_ALLOWED_ORIGINS "localhost:8787" is not an origin .*, "https:\/\/x\.example\/path" is not an origin .*\(got /),
    ]);
    expect(problemsOf({ NOTIFICATION_PROVIDER: "carrier-pigeon" })).toEqual(['NOTIFICATION_PROVIDER must be one of "dev-mailbox", "resend", "none" (got "carrier-pigeon")']);
    expect(problemsOf({ NOTIFICATION_PROVIDER: "dev-mailbox" })).toEqual([expect.stringMatching(/^NOTIFICATION_PROVIDER is "dev-mailbox", which delivers nowhere outside ENVIRONMENT=development/)]);
    expect(problemsOf({ NOTIFICATION_PROVIDER: "resend", RESEND_FROM: "a@b.example" })).toEqual(["RESEND_API_KEY is required when NOTIFICATION_PROVIDER is resend"]);
    expect(problemsOf({ RESEND_WEBHOOK_SECRET: "not a secret" })).toEqual(["RESEND_WEBHOOK_SECRET must be the whsec_… signing secret Resend shows for the webhook"]);
    expect(problemsOf({ ENVIRONMENT: "staging" })).toEqual(['ENVIRONMENT must be one of "development", "production" (got "staging")']);
    expect(problemsOf({ EXPOSE_D1_STATEMENTS: "yes" })).toEqual(['EXPOSE_D1_STATEMENTS must be "true" or "false" (got "yes")']);
  });

  it("needs JWT_SECRET of 16 characters or more, and never prints it", () => {
    expect(() => parseConfig({})).toThrow(/JWT_SECRET is required/);
    const short = "fifteen-chars!!";
    let message = "";
    try {
      parseConfig({ JWT_SECRET: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration .*: JWT_SECRET must be at least 16 characters$/);
    expect(message).not.toContain(short);
    expect(parseConfig({ JWT_SECRET: "x".repeat(16) }).jwtSecret).toBe("x".repeat(16));
  });

  it("reads the bearer token settings and JWT_SECRET_PREVIOUS, which is never printed", () => {
    expect(parseConfig({ JWT_SECRET: SECRET, JWT_ISSUER: " https://id.example ", JWT_AUDIENCE: "api", JWT_MAX_LIFETIME_SECONDS: "3600" })).toMatchObject({
      jwtIssuer: "https://id.example",
      jwtAudience: "api",
      jwtMaxLifetimeSeconds: 3600,
    });
    expect(parseConfig({ JWT_SECRET: SECRET, JWT_SECRET_PREVIOUS: "p".repeat(16) }).keyring).toEqual({ current: SECRET, previous: "p".repeat(16) });
    expect(problemsOf({ JWT_ISSUER: "two words" })).toEqual(['JWT_ISSUER must be 1 to 200 printable characters (got "two words")']);
    expect(problemsOf({ JWT_MAX_LIFETIME_SECONDS: "30" })).toEqual(['JWT_MAX_LIFETIME_SECONDS must be a whole number from 60 to 604800 (got "30")']);
    expect(problemsOf({ JWT_SECRET_PREVIOUS: "short-secret" })).toEqual(["JWT_SECRET_PREVIOUS must be at least 16 characters"]);
  });

  it("names every bad setting at once", () => {
    const problems = problemsOf({ HOLD_TTL_SECONDS: "soon", MAX_BODY_BYTES: "big", JWT_SECRET: "" });
    expect(problems.map((problem) => problem.split(" ")[0])).toEqual(["HOLD_TTL_SECONDS", "MAX_BODY_BYTES", "JWT_SECRET"]);
  });
});

describe("configOf", () => {
  it("parses once per environment object", () => {
    const source = { JWT_SECRET: SECRET, MAX_BODY_BYTES: "2048" };
    const first = configOf(source);
    expect(configOf(source)).toBe(first);
    expect(configOf({ ...source })).not.toBe(first);
    expect(configOf({ ...source })).toEqual(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("throws for a bad environment every time it is asked, never caching a default", () => {
    const source = { JWT_SECRET: SECRET, MAX_BODY_BYTES: "huge" };
    expect(() => configOf(source)).toThrow(ConfigError);
    expect(() => configOf(source)).toThrow(/MAX_BODY_BYTES must be a whole number/);
  });
});

describe("the project's own settings", () => {
  it("parses the test environment (wrangler.toml [vars] with vitest.config.ts's overrides)", () => {
    expect(configOf(env)).toEqual({
      holdTtlMs: 600_000,
      waitlistOfferTtlMs: 86_400_000,
      paymentHoldMs: 900_000,
      maxSeatsPerEmailPerSession: 8,
      maxSeatsPerClientPerSession: 16,
      // vitest.config.ts turns the share and window caps off (test/hostage.test.ts turns them on).
      seatSharePerSessionPercent: 100,
      seatWindowMs: 3_600_000,
      corsAllowedOrigins: [],
      signInLinkMs: 900_000,
      staffInviteMs: 259_200_000,
      maxSeatsPerClientPerWindow: 1_000_000,
      maxSeatsPerEmailPerWindow: 1_000_000,
      waitlistPartiesPerClientPerSession: 3,
      maxWaitlistJoinsPerWindow: 10,
      waitlistConfirmMs: 86_400_000,
      liveAllowedOrigins: ["http://127.0.0.1:8787", "http://localhost:8787", "http://localhost:5173"],
      publicBaseUrl: "http://127.0.0.1:8787",
      // vitest.config.ts: small enough for test/live.test.ts to reach with real sockets.
      maxLiveConnectionsPerSession: 3,
      maxLiveConnectionsPerClient: 2,
      maxBodyBytes: 65_536,
      maxOccurrencesPerPattern: 500,
      requestSampleRate: 10,
      webhookDisableAfterFailures: 5,
      webhookDisableAfterMs: 86_400_000,
      checkInOpensMs: 3_600_000,
      noShowAfterMs: 1_800_000,
      noShowSweepMs: 259_200_000,
      certificateCompletionPercent: 100,
      renewalReminderMs: 2_592_000_000,
      renewalOfferMs: 172_800_000,
      // vitest.config.ts: development, so the dev mailbox delivers.
      environment: "development",
      notificationProvider: "dev-mailbox",
      resend: { apiKey: undefined, from: undefined, webhookSecret: undefined },
      paymentProvider: "local",
      stripe: { secretKey: undefined, webhookSecret: undefined },
      exposeD1Statements: false,
      // vitest.config.ts: tests change the catalog straight in D1, so no Worker-side caching.
      catalogCacheMs: 0,
      fullSessionCacheMs: 0,
      alertRules: env.ALERT_RULES,
      jwtSecret: env.JWT_SECRET,
      keyring: { current: env.JWT_SECRET },
      jwtIssuer: "class-booking",
      jwtAudience: "class-booking-api",
      jwtMaxLifetimeSeconds: 43_200,
    });
  });

  it("parses wrangler.toml's [vars] as written, and knows every one of them", () => {
    const vars = wranglerVars();
    expect(Object.keys(vars).sort()).toEqual(SETTING_NAMES.filter((name) => !SECRET_SETTINGS.has(name)).sort());
    const config = parseConfig({ ...vars, JWT_SECRET: env.JWT_SECRET });
    expect(config).toMatchObject({
      maxLiveConnectionsPerSession: 2000,
      maxLiveConnectionsPerClient: 20,
      holdTtlMs: 600_000,
      maxBodyBytes: 65_536,
      catalogCacheMs: 1000,
      fullSessionCacheMs: 1000,
    });
    expect(parseAlertRules(config.alertRules).problem).toBeNull();
  });
});
