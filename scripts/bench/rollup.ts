/**
 * Rollup benchmark: `npm run bench:rollup [-- --sizes 100000,1000000 ...]`.
 *
 * In a fresh local state directory (never the one `npm start` uses):
 *
 *   1. applies the D1 migrations and, through wrangler's platform proxy (the same local D1 that
 *      `wrangler dev` serves), writes a catalog and 100,000 events spread over one past ISO week,
 *      generated inside SQLite;
 *   2. times the day rollup (one day of the week) and the week rollup (its seven days again, then
 *      the week from them), by calling the very functions the queue consumer runs (src/jobs/rollups.ts),
 *      and checks the result against a count of the events;
 *   3. adds events up to 1,000,000 and times the same again; prints events/s for both sizes and
 *      their ratio (≈ 1 when the cost grows linearly with the events), and the query plans;
 *   4. starts the Worker (`wrangler dev` on 127.0.0.1, a free port) on the same state, times a
 *      trivial route (GET /health) and a backfill through the API and the rollup queue, end to end.
 *
 * Exit code: 0 when every rollup agreed with the events (the linearity target is printed as
 * PASS/FAIL, not enforced); 1 on a disagreement or failure; 2 when the service could not start.
 * Only 127.0.0.1 is ever contacted.
 */
import { getPlatformProxy } from "wrangler";
import { addDays, dayRange, previousWeekStart } from "../../src/domain/metric-periods";
import { ROLLUP_QUERIES, rollupDay, rollupWeek } from "../../src/jobs/rollups";
import { claimsFor, signJwt } from "../../src/lib/jwt-claims";
import { machineLine } from "./harness";
import { figuresOf, runPhase } from "./load";
import { childProcess, freePort, fs, os, path, sleep, util } from "./node";
import { catalogStatements, eventsStatement } from "./rollup-data";
import { type LocalService, startService } from "./service";

const USAGE = `usage: npm run bench:rollup -- [options]
  --sizes N,N,...        event counts to measure at, ascending (default 100000,1000000)
  --repeats N            timed runs of each rollup per size; the median is reported (default 3)
  --trivial-requests N   GET /health requests for the trivial figure (default 2000)
  --concurrency N        concurrent clients for the trivial figure (default 10)
  --skip-service         do not start the Worker (no trivial route, no end-to-end backfill)
  --keep                 keep the state directory and the log afterwards`;

interface Options {
  sizes: number[];
  repeats: number;
  trivialRequests: number;
  concurrency: number;
  skipService: boolean;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = util.parseArgs({
      args: argv,
      options: {
        sizes: { type: "string" },
        repeats: { type: "string" },
        "trivial-requests": { type: "string" },
        concurrency: { type: "string" },
        "skip-service": { type: "boolean" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) usageError(`--${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  const sizes = String(values.sizes ?? "100000,1000000").split(",").map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1000 || n > 20_000_000) || sizes.some((n, i) => i > 0 && n <= sizes[i - 1]!)) {
    usageError("--sizes must be ascending whole numbers from 1000 to 20,000,000");
  }
  return {
    sizes,
    repeats: int("repeats", 3, 1, 20),
    trivialRequests: int("trivial-requests", 2000, 0, 100_000),
    concurrency: int("concurrency", 10, 1, 200),
    skipService: values["skip-service"] === true,
    keep: values.keep === true,
  };
}

function usageError(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  return process.exit(2) as never;
}

// ---- helpers -----------------------------------------------------------------------------------

const number = (n: number) => Math.round(n).toLocaleString("en-GB");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/** Applies the migrations to the state directory with the project's wrangler, output to the log. */
function migrate(cwd: string, stateDir: string, logFd: number): Promise<void> {
  const wrangler = path.join(cwd, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir, "-c", path.join(cwd, "wrangler.toml")];
  fs.writeSync(logFd, `\n$ wrangler ${args.slice(1).join(" ")}\n`);
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

interface Timing {
  events: number;
  ms: number[];
}

interface SizeResult {
  size: number;
  loadMs: number;
  day: Timing;
  week: Timing;
  weekSumMs: number[];
}

async function count(db: D1Database, sql: string, ...params: unknown[]): Promise<number> {
  return (await db.prepare(sql).bind(...params).first<{ n: number }>())!.n;
}

/** The weekly `events.total` must equal the events of the week, and the day's the events of the day. */
async function verify(db: D1Database, monday: string, day: string, problems: string[], label: string): Promise<void> {
  const week = dayRange(monday);
  const inWeek = await count(db, `SELECT count(*) AS n FROM events WHERE occurred_at >= ? AND occurred_at < ?`, week.startMs, week.startMs + 7 * 86_400_000);
  const weekly = await count(db, `SELECT value AS n FROM metrics WHERE granularity = 'weekly' AND period_start = ? AND scope = 'all' AND metric = 'events.total'`, monday);
  const { startMs, endMs } = dayRange(day);
  const inDay = await count(db, `SELECT count(*) AS n FROM events WHERE occurred_at >= ? AND occurred_at < ?`, startMs, endMs);
  const daily = await count(db, `SELECT value AS n FROM metrics WHERE granularity = 'daily' AND period_start = ? AND scope = 'all' AND metric = 'events.total'`, day);
  if (weekly !== inWeek) problems.push(`${label}: weekly events.total ${weekly}, events in the week ${inWeek}`);
  if (daily !== inDay) problems.push(`${label}: daily events.total ${daily}, events in the day ${inDay}`);
}

// ---- the run ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const cwd = process.cwd() as string;
  if (!fs.existsSync(path.join(cwd, "wrangler.toml"))) usageError("run it from the project root (npm run bench:rollup)");
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "class-booking-bench-rollup-"));
  const logPath = `${stateDir}.log`;
  const logFd = fs.openSync(logPath, "a");
  console.log("Rollup benchmark");
  console.log(machineLine(process.cwd()));
  console.log(`parameters: sizes ${options.sizes.map(number).join(" → ")} events over one week, ${options.repeats} timed runs per rollup (median reported)`);
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
  process.on("SIGTERM", () => void cleanup().finally(() => process.exit(130)));
  process.on("exit", () => service?.killNow());

  const problems: string[] = [];
  const monday = previousWeekStart(Date.now());
  const day = addDays(monday, 3);
  const weekStartMs = dayRange(monday).startMs;
  try {
    await migrate(cwd, stateDir, logFd);
    const proxy = await getPlatformProxy<{ DB: D1Database }>({ configPath: path.join(cwd, "wrangler.toml"), persist: { path: path.join(stateDir, "v3") } });
    dispose = proxy.dispose;
    const db = proxy.env.DB;
    if ((await count(db, `SELECT count(*) AS n FROM d1_migrations`)) < 1) throw new Error("the platform proxy does not see the migrated database");
    for (const statement of catalogStatements(weekStartMs)) await db.prepare(statement.sql).bind(...statement.params).run();

    console.log(`\nweek ${monday} – ${addDays(monday, 6)} (UTC); the day rollup is ${day}\n`);
    const results: SizeResult[] = [];
    let loaded = 0;
    for (const size of options.sizes) {
      const t0 = performance.now();
      for (let from = loaded; from < size; from += 100_000) {
        const statement = eventsStatement(from, Math.min(size, from + 100_000), weekStartMs);
        await db.prepare(statement.sql).bind(...statement.params).run();
      }
      const loadMs = performance.now() - t0;
      loaded = size;
      await db.prepare("PRAGMA optimize").run().catch(() => undefined);

      const dayTiming: Timing = { events: 0, ms: [] };
      const weekTiming: Timing = { events: 0, ms: [] };
      const weekSumMs: number[] = [];
      for (let run = 0; run < options.repeats; run++) {
        let started = performance.now();
        const dayResult = await rollupDay(db, day);
        dayTiming.ms.push(performance.now() - started);
        dayTiming.events = dayResult.inputRows;

        started = performance.now();
        await rollupWeek(db, monday, "recompute");
        weekTiming.ms.push(performance.now() - started);

        // The weekly step alone: every day present, so only the sum of the daily rows runs.
        started = performance.now();
        await rollupWeek(db, monday, "missing");
        weekSumMs.push(performance.now() - started);
      }
      weekTiming.events = await count(db, `SELECT count(*) AS n FROM events WHERE occurred_at >= ? AND occurred_at < ?`, weekStartMs, weekStartMs + 7 * 86_400_000);
      await verify(db, monday, day, problems, `${number(size)} events`);
      const result = { size, loadMs, day: dayTiming, week: weekTiming, weekSumMs };
      results.push(result);
      console.log(
        `${number(size)} events loaded in ${(loadMs / 1000).toFixed(1)} s; day rollup ${median(dayTiming.ms).toFixed(0)} ms ` +
          `(runs ${dayTiming.ms.map((ms) => ms.toFixed(0)).join(", ")}), week rollup ${median(weekTiming.ms).toFixed(0)} ms ` +
          `(runs ${weekTiming.ms.map((ms) => ms.toFixed(0)).join(", ")})`,
      );
    }
    report(results);
    await printPlans(db, weekStartMs, monday);
    await dispose();
    dispose = undefined;

    if (!options.skipService) {
      const code = await measureService(cwd, stateDir, logPath, options, monday, day, problems);
      if (code !== 0) return code;
    }
  } catch (error) {
    console.error(`bench: failed: ${(error as Error).stack ?? String(error)}\nbench: see the log: ${logPath}`);
    options.keep = true;
    return 1;
  } finally {
    await cleanup();
    fs.closeSync(logFd);
    if (!options.keep) fs.rmSync(logPath, { force: true });
  }

  if (problems.length > 0) {
    console.log(`\nFAILED: ${problems.length} problem(s)`);
    for (const problem of problems) console.log(`  - ${problem}`);
    return 1;
  }
  console.log("\ncorrectness: OK (every rollup's events.total equals the events it covers)");
  return 0;
}

function report(results: SizeResult[]): void {
  const header = ["events loaded", "day events", "day ms", "day events/s", "week events", "week ms", "week events/s", "week sum only ms"];
  const rows = results.map((r) => {
    const dayMs = median(r.day.ms);
    const weekMs = median(r.week.ms);
    return [number(r.size), number(r.day.events), dayMs.toFixed(0), number((r.day.events / dayMs) * 1000), number(r.week.events), weekMs.toFixed(0), number((r.week.events / weekMs) * 1000), median(r.weekSumMs).toFixed(0)];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join("  ");
  console.log(`\n${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}`);

  const first = results[0]!;
  const last = results[results.length - 1]!;
  if (first === last) return;
  const rate = (t: Timing) => t.events / median(t.ms);
  const dayRatio = rate(last.day) / rate(first.day);
  const weekRatio = rate(last.week) / rate(first.week);
  const verdict = (ratio: number) => (ratio >= 0.7 ? "PASS" : "FAIL");
  console.log(
    `\nevents/s at ${number(last.size)} ÷ events/s at ${number(first.size)} (1.0 = cost exactly linear in the events; target ≥ 0.7):` +
      `\n  day rollup   ${dayRatio.toFixed(2)}  ${verdict(dayRatio)}` +
      `\n  week rollup  ${weekRatio.toFixed(2)}  ${verdict(weekRatio)}`,
  );
  // What each added event costs, free of the fixed cost per rollup (a few D1 round trips).
  const marginal = (t1: Timing, t2: Timing) => ((median(t2.ms) - median(t1.ms)) / (t2.events - t1.events)) * 1000;
  const average = (t: Timing) => (median(t.ms) / t.events) * 1000;
  console.log(
    `  µs per event: day ${average(first.day).toFixed(2)} at ${number(first.size)}, ${average(last.day).toFixed(2)} at ${number(last.size)}, ` +
      `${marginal(first.day, last.day).toFixed(2)} for the events added; week ${average(first.week).toFixed(2)}, ${average(last.week).toFixed(2)}, ` +
      `${marginal(first.week, last.week).toFixed(2)}`,
  );
}

/**
 * The query plans of the rollup's reads: each must search an index, never scan a whole table — but
 * the money's, which scans payments and refunds until they have an index on when money moved
 * (src/db/revenue.ts).
 */
async function printPlans(db: D1Database, weekStartMs: number, monday: string): Promise<void> {
  console.log("\nQuery plans (EXPLAIN QUERY PLAN)");
  const plans: [string, string, unknown[]][] = [
    ["day events", ROLLUP_QUERIES.dayEvents, [weekStartMs, weekStartMs + 86_400_000]],
    ["sessions that ran", ROLLUP_QUERIES.daySessions, [weekStartMs, weekStartMs + 86_400_000]],
    ["money that moved", ROLLUP_QUERIES.dayMoney, [weekStartMs, weekStartMs + 86_400_000]],
    ["week from days", ROLLUP_QUERIES.sumWeek.replace(/^\s*INSERT INTO metrics \([^)]*\)\s*/, ""), [monday, addDays(monday, 7), 0]],
  ];
  for (const [name, sql, params] of plans) {
    try {
      const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
      console.log(`  ${name}:`);
      for (const row of results) console.log(`    ${row.detail}`);
    } catch (error) {
      console.log(`  ${name}: (no plan: ${String(error)})`);
    }
  }
}

/** Serves the Worker on the same state: a trivial route, then a backfill through the API and the queue. */
async function measureService(cwd: string, stateDir: string, logPath: string, options: Options, monday: string, day: string, problems: string[]): Promise<number> {
  const jwtSecret = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const [port, inspectorPort] = [await freePort(), await freePort()];
  let service: LocalService;
  const t0 = performance.now();
  try {
    service = await startService({ cwd, port, inspectorPort, stateDir, logPath, jwtSecret, logLevel: "warn", startTimeoutMs: 120_000 });
  } catch (error) {
    console.error(`bench: could not start the service: ${(error as Error).message}\nbench: see the log: ${logPath}`);
    options.keep = true;
    return 2;
  }
  try {
    const base = service.baseUrl;
    console.log(`\nservice: ${base} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const deadline = Date.now() + 120_000;
    if (options.trivialRequests > 0) {
      const phase = (name: string, total: number) => runPhase({ name, total, concurrency: options.concurrency, deadline, requestTimeoutMs: 10_000, plan: () => ({ url: `${base}/health` }) });
      await phase("warm-up", Math.min(200, options.trivialRequests));
      const trivial = figuresOf(await phase("trivial", options.trivialRequests));
      console.log(
        `trivial route GET /health: ${trivial.requests} requests at ${options.concurrency} concurrent clients, ${trivial.rps.toFixed(0)} req/s, ` +
          `p50 ${trivial.p50.toFixed(1)} ms, p99 ${trivial.p99.toFixed(1)} ms${trivial.errors > 0 ? `, ${trivial.errors} errors` : ""}`,
      );
      if (trivial.errors > 0) problems.push(`GET /health: ${trivial.errors} errors`);
    }

    const token = await signJwt(claimsFor({ sub: "admin:bench", role: "admin", ttlSeconds: 3600 }), jwtSecret);
    for (const [granularity, period] of [["daily", day], ["weekly", monday]] as const) {
      const started = Date.now();
      const response = await fetch(`${base}/api/v1/admin/metrics/rollup`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ startDate: period, endDate: granularity === "daily" ? period : addDays(period, 6), granularity }),
      });
      const text = await response.text();
      if (response.status !== 202) {
        problems.push(`POST /api/v1/admin/metrics/rollup answered ${response.status}: ${text.slice(0, 300)}`);
        continue;
      }
      const ms = await waitForRollup(base, token, granularity, period, started, deadline);
      if (ms === null) problems.push(`the ${granularity} backfill of ${period} did not finish in time`);
      else console.log(`backfill through the API and the queue, ${granularity} ${period}: rows written ${ms} ms after the request (end to end, incl. queue delivery and 25 ms polling)`);
    }
    return 0;
  } finally {
    await service.stop();
  }
}

/** Polls the metrics API until the period's events.total row was computed after `since`; the elapsed ms, or null. */
async function waitForRollup(base: string, token: string, granularity: string, period: string, since: number, deadline: number): Promise<number | null> {
  const url = `${base}/api/v1/admin/metrics?granularity=${granularity}&startDate=${period}&endDate=${period}&metric=events.total`;
  while (Date.now() < deadline) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { data?: { computedAt: string }[] };
    const computedAt = body.data?.[0] ? Date.parse(body.data[0].computedAt) : 0;
    if (computedAt >= since) return Date.now() - since;
    await sleep(25);
  }
  return null;
}

process.exitCode = await main();
