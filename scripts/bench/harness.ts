/**
 * What every benchmark shares: the run's lifecycle (a fresh state directory, the service started
 * on a free loopback port with a random JWT secret, an admin token, cleanup on exit, Ctrl-C or a
 * hang), option parsing helpers, a small JSON client and the admin-API catalog a run books into.
 * Only 127.0.0.1 is ever contacted.
 */
import { claimsFor, signJwt } from "../../src/lib/jwt-claims";
import { freePort, fs, os, path, util } from "./node";
import { type LocalService, startService } from "./service";

// ---- options ------------------------------------------------------------------------------------

export const WRANGLER_LOG_LEVELS = ["debug", "info", "log", "warn", "error", "none"];

/** Prints the problem and the usage, exits 2. */
export function usageError(message: string, usage: string): never {
  console.error(`bench: ${message}\n${usage}`);
  return process.exit(2) as never;
}

/**
 * Parses `--name value` options (strings and booleans) and prints `usage` for --help. Returns the
 * values and a reader for whole numbers within bounds.
 */
export function parseBenchArgs(argv: string[], usage: string, names: { strings: string[]; booleans: string[] }) {
  let values: Record<string, string | boolean | undefined> = {};
  try {
    ({ values } = util.parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(names.strings.map((name) => [name, { type: "string" as const }])),
        ...Object.fromEntries(names.booleans.map((name) => [name, { type: "boolean" as const }])),
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    usageError((error as Error).message, usage);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) usageError(`--${name} must be a whole number from ${min} to ${max}, got ${String(text)}`, usage);
    return value;
  };
  const logLevel = values["log-level"] as string | undefined;
  if (logLevel !== undefined && !WRANGLER_LOG_LEVELS.includes(logLevel)) usageError(`--log-level ${logLevel} is not a wrangler log level`, usage);
  return { values, int, logLevel };
}

/** The options every load benchmark takes: their names for `parseBenchArgs`, usage lines and values. */
export const COMMON_STRING_OPTIONS = ["concurrency", "warmup", "max-seconds", "request-timeout-ms", "log-level"];

export interface CommonDefaults {
  concurrency: number;
  warmup: number;
  maxSeconds: number;
}

export function commonUsage(defaults: CommonDefaults): string {
  return `  --concurrency N          concurrent clients in the measured phases (default ${defaults.concurrency})
  --warmup N               unmeasured requests per route before measuring (default ${defaults.warmup})
  --max-seconds N          time budget for all load phases together (default ${defaults.maxSeconds})
  --request-timeout-ms N   per-request timeout (default 15000)
  --log-level LEVEL        wrangler dev --log-level (default: wrangler's own, "log", as npm start runs it)
  --keep                   keep the state directory and the log afterwards`;
}

export function commonOptions(parsed: ReturnType<typeof parseBenchArgs>, defaults: CommonDefaults) {
  const { values, int, logLevel } = parsed;
  return {
    concurrency: int("concurrency", defaults.concurrency, 1, 1000),
    warmup: int("warmup", defaults.warmup, 0, 10_000),
    maxSeconds: int("max-seconds", defaults.maxSeconds, 10, 3600),
    requestTimeoutMs: int("request-timeout-ms", 15_000, 100, 120_000),
    logLevel,
    keep: values.keep === true,
  };
}

// ---- HTTP ---------------------------------------------------------------------------------------

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One request to the local service; throws unless the status is one of `expect` (default 200/201). */
export async function api(
  base: string,
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; expect?: number[] } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${base}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  const expected = options.expect ?? [200, 201];
  if (!expected.includes(response.status)) {
    throw new Error(`${method} ${route} answered ${response.status}, expected ${expected.join("/")}: ${text.slice(0, 500)}`);
  }
  return { status: response.status, json };
}

// ---- catalog --------------------------------------------------------------------------------------

export interface BenchSession {
  id: string;
  capacity: number;
  label: string;
}

export interface BenchCatalog {
  pricePence: number;
  /** The bench class: every session below is one of its. */
  classId: string;
  /** A one-off session of the bench class, `offsetDays` days after the first (one a day, so the instructor is never double-booked). */
  session(label: string, offsetDays: number, capacity: number): Promise<BenchSession>;
}

/** A city, studio, teaching role, qualified instructor and a bookable class (1500 p), via the admin API. */
export async function createCatalog(base: string, adminToken: string, runId: string): Promise<BenchCatalog> {
  const post = async (route: string, body: unknown) => (await api(base, "POST", `/api/v1/admin${route}`, { token: adminToken, body, expect: [201] })).json;
  const pricePence = 1500;
  const city = await post("/cities", { name: `Bench City ${runId}`, countryCode: "GB" });
  const studio = await post("/studios", { name: `Bench Studio ${runId}`, cityId: city.id, timeZone: "Europe/London" });
  const role = await post("/teaching-roles", { name: `Bench role ${runId}` });
  const instructor = await post("/staff", { email: `instructor-${runId}@bench.example`, firstName: "Bench", lastName: "Instructor", roleIds: [role.id] });
  const klass = await post("/classes", {
    studioId: studio.id,
    name: `Bench class ${runId}`,
    pricePence,
    durationMinutes: 60,
    defaultCapacity: 20,
    requiredRoleId: role.id,
    bookingKinds: ["SINGLE_SESSION"],
  });
  const day = 24 * 3600_000;
  const firstStart = Math.ceil((Date.now() + 30 * day) / 3600_000) * 3600_000;
  return {
    pricePence,
    classId: klass.id,
    async session(label, offsetDays, capacity) {
      const created = await post("/sessions", {
        classId: klass.id,
        startsAt: new Date(firstStart + offsetDays * day).toISOString(),
        capacity,
        location: `Bench ${label}`,
        instructorId: instructor.id,
      });
      return { id: created.id, capacity, label };
    },
  };
}

/** The body of a one-seat booking by a distinct guest number `guest` (see `guestHeaders`). */
export function guestBooking(runId: string, guest: number, session: BenchSession, pricePence: number) {
  return {
    registrationType: "SINGLE_SESSION",
    sessionId: session.id,
    guestCount: 1,
    contact: { email: `guest-${runId}-${guest}@bench.example`, firstName: "Bench", lastName: "Guest" },
    totalAmountPence: pricePence,
    currency: "GBP",
    source: "website",
  };
}

/** A distinct client address per guest: the per-client rate limiter keys on it. Only a header. */
export function guestHeaders(guest: number): Record<string, string> {
  const address = { "CF-Connecting-IP": `10.${(guest >> 16) & 255}.${(guest >> 8) & 255}.${guest & 255}` };
  // One guest in ten asks for the D1 statements its request ran (src/middleware/d1-statements.ts):
  // a sample, so counting does not weigh on the figures measured.
  return guest % 10 === 0 ? { ...address, "X-Count-D1": "1" } : address;
}

// ---- the run --------------------------------------------------------------------------------------

export interface BenchContext {
  service: LocalService;
  base: string;
  /** A token with role admin for this run's secret. */
  adminToken: string;
  /** Short and unique: names, emails and Idempotency-Keys of this run carry it. */
  runId: string;
}

export interface BenchSetup {
  title: string;
  /** One line describing the chosen parameters. */
  parameters: string;
  logLevel: string | undefined;
  /** Keep the state directory and log even when the run succeeds. */
  keep: boolean;
  /** After this long the watchdog ends the run (exit 2). */
  watchdogSeconds: number;
  /** wrangler vars to override for this run. */
  vars?: Record<string, string>;
}

/** The machine the figures come from, in one line. */
export function machineLine(cwd: string): string {
  const wranglerVersion = (JSON.parse(fs.readFileSync(path.join(cwd, "node_modules", "wrangler", "package.json"), "utf8")) as { version: string }).version;
  const cpus = os.cpus();
  return (
    `machine: node ${process.version}, ${cpus.length} CPU(s) (${cpus[0]?.model.trim() ?? "unknown"}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, wrangler ${wranglerVersion}, ` +
    `load average ${os.loadavg().map((n) => n.toFixed(2)).join(" ")}`
  );
}

/**
 * Runs one benchmark: starts the service with fresh state, calls `body`, and always stops the
 * service and removes the state (kept, with the log, when the run failed or `keep` is set).
 * `body` returns the exit code: 0 correct, 1 a correctness problem. Returns 2 when the service
 * could not be started, 1 when `body` threw.
 */
export async function runBench(setup: BenchSetup, body: (context: BenchContext) => Promise<number>): Promise<number> {
  const cwd = process.cwd() as string;
  if (!fs.existsSync(path.join(cwd, "wrangler.toml"))) {
    console.error("bench: run it from the project root (npm run bench:...)");
    return 2;
  }
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "class-booking-bench-"));
  const logPath = `${stateDir}.log`;
  const jwtSecret = [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  let keep = setup.keep;

  console.log(setup.title);
  console.log(machineLine(cwd));
  console.log(`parameters: ${setup.parameters}, wrangler --log-level ${setup.logLevel ?? "(default)"}`);
  console.log(`state: ${stateDir}\nlog:   ${logPath}`);

  let service: LocalService | undefined;
  let finished = false;
  const cleanup = async () => {
    if (service) await service.stop();
    service = undefined;
    if (!keep) fs.rmSync(stateDir, { recursive: true, force: true });
  };
  const onSignal = (signal: string) => {
    console.error(`\nbench: ${signal}, stopping the service (log kept: ${logPath})`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("exit", () => service?.killNow());
  const watchdog = setTimeout(() => {
    if (finished) return;
    console.error(`bench: still running after ${setup.watchdogSeconds} s; giving up (log: ${logPath})`);
    service?.killNow();
    process.exit(2);
  }, setup.watchdogSeconds * 1000);

  try {
    const [port, inspectorPort] = [await freePort(), await freePort()];
    const t0 = performance.now();
    try {
      service = await startService({ cwd, port, inspectorPort, stateDir, logPath, jwtSecret, logLevel: setup.logLevel, startTimeoutMs: 120_000, vars: setup.vars });
    } catch (error) {
      console.error(`bench: could not start the service: ${(error as Error).message}\nbench: see the log: ${logPath}`);
      keep = true;
      return 2;
    }
    console.log(`service: ${service.baseUrl} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const adminToken = await signJwt(claimsFor({ sub: "admin:bench", role: "admin", ttlSeconds: 3600 }), jwtSecret);
    const exitCode = await body({ service, base: service.baseUrl, adminToken, runId });
    if (exitCode !== 0) {
      keep = true;
      console.log(`log kept: ${logPath}`);
    }
    return exitCode;
  } catch (error) {
    console.error(`bench: failed: ${(error as Error).stack ?? String(error)}\nbench: see the log: ${logPath}`);
    keep = true;
    return 1;
  } finally {
    finished = true;
    clearTimeout(watchdog);
    await cleanup();
    if (!keep) fs.rmSync(logPath, { force: true });
  }
}
