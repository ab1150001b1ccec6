/**
 * Reports benchmark: `npm run bench:reports [-- --bookings 1000000 --repeats 3]`.
 *
 * In a fresh local state directory (never the one `npm start` uses):
 *   1. applies the D1 migrations and, through wrangler's platform proxy (the same local D1 that
 *      `wrangler dev` serves), generates inside SQLite a catalog (200 classes, 20,000 sessions over
 *      the past year), customers (one per 5 bookings), the bookings with one line each, their events
 *      (BOOKING_CONFIRMED, BOOKING_CANCELLED for 1 in 8), their payments (online, at the desk, or none)
 *      and refunds (the cancelled ones), waitlist events, attendance and alerts;
 *      prints how long each part took and the query plan of every report's main query at that size;
 *   2. starts the Worker (`wrangler dev` on 127.0.0.1, a free port) on the same state and times each
 *      report over the past year through the API (median of --repeats runs after one warm-up run),
 *      and GET /health the same number of times, one request at a time.
 * Exit code: 0 when every report answered 200; 1 otherwise; 2 when the service could not start.
 */
import { getPlatformProxy } from "wrangler";
import { addDays, dayRange, utcDateOf } from "../../src/domain/metric-periods";
import { claimsFor, signJwt } from "../../src/lib/jwt-claims";
import { REPORT_NAMES, REPORTS, reportRange } from "../../src/services/reports";
import { machineLine } from "./harness";
import { childProcess, freePort, fs, os, path, util } from "./node";
import { bookingStatements, catalogStatements, waitlistStatement } from "./reports-data";
import { type LocalService, startService } from "./service";

const USAGE = `usage: npm run bench:reports -- [options]
  --bookings N   bookings to generate (default 1000000)
  --repeats N    timed runs of each report; the median is reported (default 3)
  --keep         keep the state directory and the log afterwards`;

const CHUNK = 100_000;
const number = (n: number) => Math.round(n).toLocaleString("en-GB");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function parseOptions(argv: string[]) {
  const { values } = util.parseArgs({
    args: argv,
    options: { bookings: { type: "string" }, repeats: { type: "string" }, keep: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, fallback: number, min: number, max: number) => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      console.error(`bench: --${name} must be a whole number from ${min} to ${max}\n${USAGE}`);
      process.exit(2);
    }
    return value;
  };
  return { bookings: int("bookings", 1_000_000, 1_000, 10_000_000), repeats: int("repeats", 3, 1, 20), keep: values.keep === true };
}

function migrate(cwd: string, stateDir: string, logFd: number): Promise<void> {
  const args = [path.join(cwd, "node_modules", "wrangler", "bin", "wrangler.js"), "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir, "-c", path.join(cwd, "wrangler.toml")];
  const child = childProcess.spawn(process.execPath as string, args, {
    cwd,
    env: { ...(process.env as Record<string, string | undefined>), CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    stdio: ["ignore", logFd, logFd],
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`migrations failed (exit code ${code})`))));
  });
}

/** Generates the data; returns the time each part took. */
async function load(db: D1Database, bookings: number, yearStartMs: number): Promise<[string, number][]> {
  const customers = Math.max(1, Math.floor(bookings / 5));
  const timed: [string, number][] = [];
  let t0 = performance.now();
  for (const statement of catalogStatements(yearStartMs, customers)) await db.prepare(statement.sql).bind(...statement.params).run();
  timed.push([`catalog, ${number(customers)} customers, 2,000 alerts`, performance.now() - t0]);
  t0 = performance.now();
  for (let from = 0; from < bookings; from += CHUNK) {
    for (const statement of bookingStatements(from, Math.min(bookings, from + CHUNK), yearStartMs, customers)) await db.prepare(statement.sql).bind(...statement.params).run();
    process.stdout.write(`\r  bookings loaded: ${number(Math.min(bookings, from + CHUNK))}`);
  }
  process.stdout.write("\n");
  timed.push([`${number(bookings)} bookings (+ lines, events, payments, refunds, attendance)`, performance.now() - t0]);
  t0 = performance.now();
  const entries = Math.floor(bookings / 20);
  for (let from = 0; from < entries; from += CHUNK) {
    const statement = waitlistStatement(from, Math.min(entries, from + CHUNK), yearStartMs);
    await db.prepare(statement.sql).bind(...statement.params).run();
  }
  timed.push([`${number(entries)} waitlist entries (events)`, performance.now() - t0]);
  t0 = performance.now();
  await db.prepare("PRAGMA optimize").run().catch(() => undefined);
  timed.push(["PRAGMA optimize", performance.now() - t0]);
  return timed;
}

async function count(db: D1Database, table: string): Promise<number> {
  return (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
}

async function printPlans(db: D1Database, startDate: string, endDate: string): Promise<void> {
  console.log("\nQuery plans at this size (EXPLAIN QUERY PLAN of each report's main query)");
  for (const name of REPORT_NAMES) {
    const query = REPORTS[name].mainQuery(reportRange(startDate, endDate), { top: 100, nowMs: Date.now() });
    const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).bind(...query.params).all<{ detail: string }>();
    console.log(`  ${name}: ${results.map((row) => row.detail).filter((d) => /^(SEARCH|SCAN)/.test(d)).join(" | ")}`);
  }
}

async function timeGet(url: string, token: string | undefined): Promise<{ ms: number; status: number; rows: number | null }> {
  const started = performance.now();
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(600_000) });
  const text = await response.text();
  const ms = performance.now() - started;
  let rows: number | null = null;
  try {
    rows = (JSON.parse(text) as { data?: unknown[] }).data?.length ?? null;
  } catch {
    // /health or an error page
  }
  return { ms, status: response.status, rows };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const cwd = process.cwd() as string;
  if (!fs.existsSync(path.join(cwd, "wrangler.toml"))) {
    console.error("bench: run it from the project root (npm run bench:reports)");
    return 2;
  }
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "class-booking-bench-reports-"));
  const logPath = `${stateDir}.log`;
  const logFd = fs.openSync(logPath, "a");
  const endDate = utcDateOf(Date.now() - 86_400_000);
  const startDate = addDays(endDate, -364);
  const yearStartMs = dayRange(startDate).startMs;
  console.log("Reports benchmark");
  console.log(machineLine(process.cwd()));
  console.log(`parameters: ${number(options.bookings)} bookings, range ${startDate} – ${endDate} (365 UTC days), ${options.repeats} timed runs per report (median)`);
  console.log(`state: ${stateDir}\nlog:   ${logPath}`);

  let service: LocalService | undefined;
  let dispose: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    if (dispose) await dispose().catch(() => undefined);
    dispose = undefined;
    if (service) await service.stop();
    service = undefined;
    if (!options.keep) fs.rmSync(stateDir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  process.on("exit", () => service?.killNow());
  let exitCode = 0;
  try {
    const t0 = performance.now();
    await migrate(cwd, stateDir, logFd);
    const proxy = await getPlatformProxy<{ DB: D1Database }>({ configPath: path.join(cwd, "wrangler.toml"), persist: { path: path.join(stateDir, "v3") } });
    dispose = proxy.dispose;
    const db = proxy.env.DB;
    const timed = await load(db, options.bookings, yearStartMs);
    console.log(`\nGeneration (inside SQLite, through the platform proxy), ${seconds(performance.now() - t0)} in all including migrations:`);
    for (const [what, ms] of timed) console.log(`  ${what}: ${seconds(ms)}`);
    const tables = ["bookings", "booking_sessions", "customers", "events", "payments", "refunds", "session_attendance", "class_sessions"];
    console.log(`  rows: ${(await Promise.all(tables.map(async (t) => `${t} ${number(await count(db, t))}`))).join(", ")}`);
    await printPlans(db, startDate, endDate);
    await dispose();
    dispose = undefined;

    const jwtSecret = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const [port, inspectorPort] = [await freePort(), await freePort()];
    try {
      service = await startService({ cwd, port, inspectorPort, stateDir, logPath, jwtSecret, logLevel: "warn", startTimeoutMs: 180_000 });
    } catch (error) {
      console.error(`bench: could not start the service: ${(error as Error).message}\nbench: see the log: ${logPath}`);
      options.keep = true;
      return 2;
    }
    const token = await signJwt(claimsFor({ sub: "admin:bench", role: "admin", ttlSeconds: 7200 }), jwtSecret);
    const base = service.baseUrl;
    console.log(`\nservice: ${base}; each report over ${startDate} – ${endDate}, one request at a time`);
    const results: { name: string; runs: number[]; rows: number | null }[] = [];
    for (const name of REPORT_NAMES) {
      const url = `${base}/api/v1/admin/reports/${name}?startDate=${startDate}&endDate=${endDate}`;
      const warm = await timeGet(url, token);
      if (warm.status !== 200) {
        console.log(`  ${name}: answered ${warm.status}`);
        exitCode = 1;
        continue;
      }
      const runs: number[] = [];
      let rows: number | null = null;
      for (let run = 0; run < options.repeats; run++) {
        const answer = await timeGet(url, token);
        if (answer.status !== 200) exitCode = 1;
        runs.push(answer.ms);
        rows = answer.rows;
      }
      results.push({ name, runs, rows });
      console.log(`  ${name}: ${median(runs).toFixed(0)} ms (warm-up ${warm.ms.toFixed(0)} ms)`);
    }
    const calls = REPORT_NAMES.length * options.repeats;
    const health: number[] = [];
    for (let i = 0; i < calls; i++) health.push((await timeGet(`${base}/health`, undefined)).ms);
    const healthMs = median(health);
    const header = ["report", "median ms", "runs (ms)", "rows", "× /health"];
    const lines = [
      ...results.map((r) => [r.name, median(r.runs).toFixed(0), r.runs.map((ms) => ms.toFixed(0)).join(", "), String(r.rows ?? ""), (median(r.runs) / healthMs).toFixed(0)]),
      ["GET /health", healthMs.toFixed(1), `${calls} calls, max ${Math.max(...health).toFixed(1)}`, "", "1"],
    ];
    const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
    const format = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
    console.log(`\n${[format(header), format(widths.map((w) => "-".repeat(w))), ...lines.map(format)].join("\n")}`);
  } catch (error) {
    console.error(`bench: failed: ${(error as Error).stack ?? String(error)}\nbench: see the log: ${logPath}`);
    options.keep = true;
    exitCode = 1;
  } finally {
    await cleanup();
    fs.closeSync(logFd);
    if (!options.keep) fs.rmSync(logPath, { force: true });
  }
  return exitCode;
}

process.exitCode = await main();
