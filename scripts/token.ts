/**
 * Prints a bearer token for local use, signed like the API expects (HS256 with JWT_SECRET; claims
 * sub, role, email, iat, exp, as checked by src/middleware/auth.ts).
 *
 *   npm run token -- --role admin
 *   npm run token -- --role staff --email sam@example.com
 *   npm run token -- --role customer --email ada@example.com --ttl-hours 2
 *
 * JWT_SECRET comes from the environment, else from ./.dev.vars. Only the token goes to stdout,
 * so `TOKEN=$(npm run -s token -- --role admin)` works.
 */
import { sign } from "hono/jwt";

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
const DEFAULT_TTL_HOURS = 24;
const USAGE = "usage: npm run token -- --role admin|staff|customer [--email someone@example.com] [--ttl-hours 24]";

/** Fails with a message on stderr and exit code 1. */
function fail(message: string): never {
  console.error(`token: ${message}\n${USAGE}`);
  return process.exit(1) as never;
}

/** JWT_SECRET from the environment, else from a dotenv-style file (npm runs scripts in the project root). */
function readSecret(devVarsPath = ".dev.vars"): string | undefined {
  const fromEnv = process.env.JWT_SECRET as string | undefined;
  if (fromEnv) return fromEnv;
  if (!fs.existsSync(devVarsPath)) return undefined;
  return util.parseEnv(fs.readFileSync(devVarsPath, "utf8")).JWT_SECRET || undefined;
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
  return { role: role as Role, email, ttlHours };
}

const { role, email, ttlHours } = parseOptions(process.argv.slice(2));
const secret = readSecret();
if (!secret) fail("no JWT_SECRET in the environment or in ./.dev.vars (run `npm run dev:prepare` to create one)");

const now = Math.floor(Date.now() / 1000);
const claims = { sub: `${role}:${email ?? "local-admin"}`, role, ...(email && { email }), iat: now, exp: now + Math.round(ttlHours * 3600) };
process.stdout.write(`${await sign(claims, secret, "HS256")}\n`);
