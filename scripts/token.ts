/**
 * Prints a bearer token for local use, signed like the API expects (src/lib/jwt-claims.ts: HS256
 * under the key derived from JWT_SECRET, with its kid; claims sub, role, email, iss, aud, iat, exp).
 *
 *   npm run token -- --role admin
 *   npm run token -- --role staff --email sam@example.com
 *   npm run token -- --role customer --email ada@example.com --ttl-hours 2
 *
 * JWT_SECRET (and JWT_ISSUER, JWT_AUDIENCE, JWT_MAX_LIFETIME_SECONDS when not the defaults) come
 * from the environment, else from ./.dev.vars. Only the token goes to stdout, so
 * `TOKEN=$(npm run -s token -- --role admin)` works.
 */
import { claimsFor, JWT_DEFAULTS, signJwt } from "../src/lib/jwt-claims";

// Node built-ins through process.getBuiltinModule: the project's types are the Workers ones, without @types/node.
interface NodeUtil {
  parseArgs(config: {
    args: string[];
    options: Record<string, { type: "string" | "boolean"; short?: string }>;
    allowPositionals: boolean;
  }): { values: Record<string, string | boolean | undefined> };
  parseEnv(content: string): Record<string, string>;
}
interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: "utf8"): string;
}
const util = process.getBuiltinModule("node:util") as NodeUtil;
const fs = process.getBuiltinModule("node:fs") as NodeFs;

const ROLES = ["customer", "staff", "admin"] as const;
type Role = (typeof ROLES)[number];
const DEFAULT_TTL_HOURS = JWT_DEFAULTS.maxLifetimeSeconds / 3600;
const USAGE = `usage: npm run token -- --role admin|staff|customer [--email someone@example.com] [--ttl-hours ${DEFAULT_TTL_HOURS}]`;

/** Fails with a message on stderr and exit code 1. */
function fail(message: string): never {
  console.error(`token: ${message}\n${USAGE}`);
  return process.exit(1) as never;
}

/** A setting from the environment, else from a dotenv-style file (npm runs scripts in the project root). */
function readSetting(name: string, devVarsPath = ".dev.vars"): string | undefined {
  const fromEnv = process.env[name] as string | undefined;
  if (fromEnv) return fromEnv;
  if (!fs.existsSync(devVarsPath)) return undefined;
  return util.parseEnv(fs.readFileSync(devVarsPath, "utf8"))[name] || undefined;
}

function parseOptions(argv: string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = util.parseArgs({
      args: argv,
      options: { role: { type: "string" }, email: { type: "string" }, "ttl-hours": { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const role = values.role as string | undefined;
  if (!role || !(ROLES as readonly string[]).includes(role)) fail(`--role must be one of ${ROLES.join(", ")}, got ${role ?? "nothing"}`);
  const email = (values.email as string | undefined)?.trim().toLowerCase();
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) fail(`--email ${email} is not an email address`);
  if (role !== "admin" && !email) fail(`--email is required for --role ${role} (it identifies the ${role})`);
  const ttlText = (values["ttl-hours"] as string | undefined) ?? String(DEFAULT_TTL_HOURS);
  const ttlHours = Number(ttlText);
  if (!Number.isFinite(ttlHours) || ttlHours <= 0) fail(`--ttl-hours must be a positive number, got ${ttlText}`);
  // The API refuses a token living longer than its JWT_MAX_LIFETIME_SECONDS.
  const maxHours = Number(readSetting("JWT_MAX_LIFETIME_SECONDS") ?? JWT_DEFAULTS.maxLifetimeSeconds) / 3600;
  if (ttlHours > maxHours) fail(`--ttl-hours must be at most ${maxHours} (JWT_MAX_LIFETIME_SECONDS), got ${ttlText}`);
  return { role: role as Role, email, ttlHours };
}

const { role, email, ttlHours } = parseOptions(process.argv.slice(2));
const secret = readSetting("JWT_SECRET");
if (!secret) fail("no JWT_SECRET in the environment or in ./.dev.vars (run `npm run dev:prepare` to create one)");

const claims = claimsFor({
  sub: `${role}:${email ?? "local-admin"}`,
  role,
  email,
  ttlSeconds: Math.round(ttlHours * 3600),
  issuer: readSetting("JWT_ISSUER"),
  audience: readSetting("JWT_AUDIENCE"),
});
process.stdout.write(`${await signJwt(claims, secret)}\n`);
