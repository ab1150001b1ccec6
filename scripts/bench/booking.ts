/**
 * Booking benchmark: `npm run bench:booking [-- --concurrency 50 --requests 3000 ...]`.
 *
 * Starts the Worker locally (`wrangler dev` on 127.0.0.1, a free port, a fresh state directory),
 * creates its own catalog through the admin API, then drives it from this process:
 *
 *   warm-up      a few hundred requests to each route, not measured
 *   trivial #1   GET /health
 *   hot          POST /api/v1/bookings on one session with room for everyone (capacity 10,000)
 *   trivial #2   GET /health again; the trivial figure is the mean of #1 and #2
 *   small        POST /api/v1/bookings on a small session (capacity 20): most are refused (409)
 *   probe        one client, requests in turn: where the time of one booking goes
 *
 * Every booking is a distinct guest (email, CF-Connecting-IP, Idempotency-Key), one seat, the
 * right price. Afterwards every session is checked: the DO's booked seats ≤ capacity, equal to the
 * 201s the bench received, no seats left held, and D1's projection (admin view) agrees.
 *
 * Exit code: 0 when the run is correct (performance targets are printed as PASS/FAIL, not enforced);
 * 1 on any oversell, disagreement, 5xx or transport error; 2 when the service could not be run.
 * Only 127.0.0.1 is ever contacted.
 */
import { type CpuUse, cpuBetween, snapshot } from "./cpu";
import { api, type BenchSession as Session, createCatalog, guestBooking, guestHeaders, parseBenchArgs, runBench } from "./harness";
import { figuresOf, type Figures, type Outcome, type PhaseResult, type PlannedRequest, refusalsOf, runPhase } from "./load";
import { sleep } from "./node";
import type { LocalService } from "./service";

// ---- options ------------------------------------------------------------------------------------

const USAGE = `usage: npm run bench:booking -- [options]
  --concurrency N          concurrent clients in the measured phases (default 50)
  --requests N             booking attempts on the hot session (default 3000)
  --trivial-requests N     GET /health requests in each of the two trivial phases (default 3000)
  --small-requests N       booking attempts on the small session (default 1000)
  --small-capacity N       seats of the small session (default 20)
  --hot-capacity N         seats of the hot session (default 10000, the API's maximum)
  --warmup N               unmeasured requests per route before measuring (default 300)
  --probe N                rounds of the single-client probe, 0 to skip (default 40)
  --max-seconds N          time budget for all load phases together (default 240)
  --request-timeout-ms N   per-request timeout (default 15000)
  --log-level LEVEL        wrangler dev --log-level (default: wrangler's own, "log", as npm start runs it)
  --keep                   keep the state directory and the log afterwards`;

interface Options {
  concurrency: number;
  requests: number;
  trivialRequests: number;
  smallRequests: number;
  smallCapacity: number;
  hotCapacity: number;
  warmup: number;
  probe: number;
  maxSeconds: number;
  requestTimeoutMs: number;
  logLevel: string | undefined;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values, int, logLevel } = parseBenchArgs(argv, USAGE, {
    strings: ["concurrency", "requests", "trivial-requests", "small-requests", "small-capacity", "hot-capacity", "warmup", "probe", "max-seconds", "request-timeout-ms", "log-level"],
    booleans: ["keep"],
  });
  return {
    concurrency: int("concurrency", 50, 1, 1000),
    requests: int("requests", 3000, 1, 100_000),
    trivialRequests: int("trivial-requests", 3000, 1, 200_000),
    smallRequests: int("small-requests", 1000, 0, 100_000),
    smallCapacity: int("small-capacity", 20, 1, 10_000),
    hotCapacity: int("hot-capacity", 10_000, 1, 10_000),
    warmup: int("warmup", 300, 0, 10_000),
    probe: int("probe", 40, 0, 1000),
    maxSeconds: int("max-seconds", 240, 10, 3600),
    requestTimeoutMs: int("request-timeout-ms", 15_000, 100, 120_000),
    logLevel,
    keep: values.keep === true,
  };
}

// ---- fixtures -----------------------------------------------------------------------------------

interface Fixtures {
  pricePence: number;
  warm: Session;
  hot: Session;
  small: Session;
}

/** Three one-off sessions of the bench class, via the admin API: warm-up, hot and small. */
async function createFixtures(base: string, adminToken: string, runId: string, options: Options): Promise<Fixtures> {
  const catalog = await createCatalog(base, adminToken, runId);
  return {
    pricePence: catalog.pricePence,
    warm: await catalog.session("warm-up", 0, 10_000),
    hot: await catalog.session("hot", 1, options.hotCapacity),
    small: await catalog.session("small", 2, options.smallCapacity),
  };
}

// ---- the run ------------------------------------------------------------------------------------

/** What the bench saw per session: the 201s and their booking ids. */
class Ledger {
  private readonly created = new Map<string, Set<string>>();
  readonly problems: string[] = [];

  record(outcome: Outcome): void {
    if (outcome.status !== 201 || !outcome.tag) return;
    let id: string | undefined;
    try {
      id = (JSON.parse(outcome.body) as { booking?: { id?: string } }).booking?.id;
    } catch {
      // handled below
    }
    if (!id) {
      this.problems.push(`a 201 for session ${outcome.tag} without a booking id: ${outcome.body.slice(0, 200)}`);
      return;
    }
    const ids = this.created.get(outcome.tag) ?? new Set<string>();
    if (ids.has(id)) this.problems.push(`booking id ${id} was returned by two different 201s`);
    ids.add(id);
    this.created.set(outcome.tag, ids);
  }

  count(sessionId: string): number {
    return this.created.get(sessionId)?.size ?? 0;
  }
}

function run(options: Options): Promise<number> {
  const setup = {
    title: "Booking benchmark",
    parameters:
      `concurrency ${options.concurrency}, hot ${options.requests} attempts on capacity ${options.hotCapacity}, ` +
      `small ${options.smallRequests} attempts on capacity ${options.smallCapacity}, trivial 2 × ${options.trivialRequests}, ` +
      `warm-up ${options.warmup}/route, probe ${options.probe} rounds, budget ${options.maxSeconds} s`,
    logLevel: options.logLevel,
    keep: options.keep,
    // The load phases have their own budget; this covers start-up, fixtures and checks.
    watchdogSeconds: options.maxSeconds + 240,
  };
  return runBench(setup, async ({ service, base, adminToken, runId }) => {
    const fixtures = await createFixtures(base, adminToken, runId, options);
    console.log(`fixtures: class price ${fixtures.pricePence} p; sessions warm-up ${fixtures.warm.id}, hot ${fixtures.hot.id}, small ${fixtures.small.id}`);
    const result = await measure(base, options, runId, fixtures, service);
    return report(base, adminToken, options, fixtures, result);
  });
}

interface Measured {
  /** CPU per request of each measured phase, by phase name (Linux only). */
  cpu: Map<string, CpuUse>;
  trivial: PhaseResult[];
  hot: PhaseResult;
  small: PhaseResult | undefined;
  probe: ProbeResult[];
  ledger: Ledger;
}

async function measure(base: string, options: Options, runId: string, fixtures: Fixtures, service: LocalService): Promise<Measured> {
  const deadline = Date.now() + options.maxSeconds * 1000;
  const ledger = new Ledger();
  const cpu = new Map<string, CpuUse>();
  let client = 0;

  /** A new guest: distinct email, client address and Idempotency-Key. */
  const booking = (session: Session, idempotent = true): PlannedRequest => {
    client += 1;
    const headers: Record<string, string> = { "Content-Type": "application/json", ...guestHeaders(client) };
    if (idempotent) headers["Idempotency-Key"] = `bench-${runId}-${client}`;
    return {
      url: `${base}/api/v1/bookings`,
      tag: session.id,
      init: { method: "POST", headers, body: JSON.stringify(guestBooking(runId, client, session, fixtures.pricePence)) },
    };
  };
  const health = (): PlannedRequest => ({ url: `${base}/health` });
  const phase = (name: string, total: number, plan: (index: number) => PlannedRequest, concurrency = options.concurrency) =>
    runPhase({ name, total, concurrency, deadline, requestTimeoutMs: options.requestTimeoutMs, plan, onOutcome: (outcome) => ledger.record(outcome) });
  const progress = (result: PhaseResult) => {
    const f = figuresOf(result);
    console.log(
      `  ${result.name}: ${f.requests} requests in ${(result.wallMs / 1000).toFixed(1)} s, ${f.rps.toFixed(0)} req/s, ` +
        `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms${result.cutShort ? " (stopped by the time budget)" : ""}`,
    );
    return result;
  };

  if (options.warmup > 0) {
    console.log("warm-up (not measured)");
    progress(await phase("warm-up GET /health", options.warmup, health));
    progress(await phase("warm-up availability", Math.min(options.warmup, 100), () => ({ url: `${base}/api/v1/sessions/${fixtures.warm.id}/availability` })));
    progress(await phase("warm-up bookings", options.warmup, () => booking(fixtures.warm)));
  }

  /** A measured phase, with the CPU the service's processes and this client spent on it. */
  const measured = async (name: string, total: number, plan: (index: number) => PlannedRequest) => {
    const before = snapshot(service.processGroup(), service.port);
    const result = await phase(name, total, plan);
    const use = cpuBetween(before, snapshot(service.processGroup(), service.port), result.requests);
    if (use) cpu.set(name, use);
    return progress(result);
  };

  console.log("measuring");
  const trivial1 = await measured("trivial #1", options.trivialRequests, health);
  const hot = await measured("hot booking", options.requests, () => booking(fixtures.hot));
  const trivial2 = await measured("trivial #2", options.trivialRequests, health);
  const small = options.smallRequests > 0 ? await measured("small booking", options.smallRequests, () => booking(fixtures.small)) : undefined;

  const probe = options.probe > 0 ? await runProbe(base, options, fixtures, booking, ledger, deadline) : [];
  return { cpu, trivial: [trivial1, trivial2], hot, small, probe, ledger };
}

// ---- single-client probe ------------------------------------------------------------------------

interface ProbeResult {
  name: string;
  latencies: number[];
  statuses: Map<string, number>;
}

/**
 * One client, one request at a time, the routes taken in turn each round (so drift is shared):
 * what one request of each kind costs without queueing.
 */
async function runProbe(
  base: string,
  options: Options,
  fixtures: Fixtures,
  booking: (session: Session, idempotent?: boolean) => PlannedRequest,
  ledger: Ledger,
  deadline: number,
): Promise<ProbeResult[]> {
  const routes: { name: string; plan: () => PlannedRequest }[] = [
    { name: "GET /health", plan: () => ({ url: `${base}/health` }) },
    { name: "GET /api/v1/sessions/{id}", plan: () => ({ url: `${base}/api/v1/sessions/${fixtures.warm.id}` }) },
    { name: "GET /api/v1/sessions/{id}/availability", plan: () => ({ url: `${base}/api/v1/sessions/${fixtures.warm.id}/availability` }) },
    { name: "POST /bookings, no Idempotency-Key", plan: () => booking(fixtures.warm, false) },
    { name: "POST /bookings, Idempotency-Key", plan: () => booking(fixtures.warm, true) },
  ];
  // Once the small phase has filled the small session, a refused booking: the whole path but the seat write.
  if (options.smallRequests >= fixtures.small.capacity) {
    routes.push({ name: "POST /bookings refused (full), no key", plan: () => booking(fixtures.small, false) });
  }
  const results = routes.map((route) => ({ name: route.name, latencies: [] as number[], statuses: new Map<string, number>() }));
  for (let round = 0; round < options.probe && Date.now() < deadline; round++) {
    for (const [index, route] of routes.entries()) {
      const phase = await runPhase({
        name: route.name,
        total: 1,
        concurrency: 1,
        deadline,
        requestTimeoutMs: options.requestTimeoutMs,
        plan: route.plan,
        onOutcome: (outcome) => ledger.record(outcome),
      });
      const target = results[index]!;
      target.latencies.push(...phase.latencies);
      for (const [key, count] of phase.byStatus) target.statuses.set(key, (target.statuses.get(key) ?? 0) + count);
      if (phase.transportErrors > 0) target.statuses.set("transport error", (target.statuses.get("transport error") ?? 0) + phase.transportErrors);
    }
  }
  return results;
}

// ---- report and checks --------------------------------------------------------------------------

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "-");

function table(rows: { route: string; f: Figures; refusals: string }[]): string {
  const header = ["route", "requests", "ok", "refused", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "refused by code"];
  const body = rows.map(({ route, f, refusals }) => [
    route,
    String(f.requests),
    String(f.ok),
    String(f.refused),
    String(f.errors),
    f.rps.toFixed(0),
    ms(f.p50),
    ms(f.p99),
    ms(f.max),
    refusals || "-",
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 || column === cells.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

async function report(base: string, adminToken: string, options: Options, fixtures: Fixtures, measured: Measured): Promise<number> {
  const { cpu, trivial, hot, small, probe, ledger } = measured;
  const problems: string[] = [...ledger.problems];

  const rows = [
    { route: "GET /health (trivial #1)", f: figuresOf(trivial[0]!), refusals: refusalsOf(trivial[0]!) },
    { route: "GET /health (trivial #2)", f: figuresOf(trivial[1]!), refusals: refusalsOf(trivial[1]!) },
    { route: `POST /api/v1/bookings hot (cap ${fixtures.hot.capacity})`, f: figuresOf(hot), refusals: refusalsOf(hot) },
    ...(small ? [{ route: `POST /api/v1/bookings small (cap ${fixtures.small.capacity})`, f: figuresOf(small), refusals: refusalsOf(small) }] : []),
  ];
  console.log(`\nResults at ${options.concurrency} concurrent clients (latency = request sent to body read, as the client sees it)\n`);
  console.log(table(rows));

  const trivialRps = (rows[0]!.f.rps + rows[1]!.f.rps) / 2;
  const hotFigures = rows[2]!.f;
  const ratio = trivialRps > 0 ? hotFigures.rps / trivialRps : 0;
  const ratioOk = ratio >= 0.5;
  const p99Ok = hotFigures.p99 < 200;
  console.log(
    `\ntrivial route, mean of the two phases: ${trivialRps.toFixed(0)} req/s` +
      ` (#1 ${rows[0]!.f.rps.toFixed(0)}, #2 ${rows[1]!.f.rps.toFixed(0)}; they differ by ${pctDiff(rows[0]!.f.rps, rows[1]!.f.rps)})`,
  );
  console.log(`booking ÷ trivial throughput: ${hotFigures.rps.toFixed(0)} / ${trivialRps.toFixed(0)} = ${ratio.toFixed(3)}  target ≥ 0.5  ${ratioOk ? "PASS" : "FAIL"}`);
  console.log(`booking p99 at ${options.concurrency} concurrent clients: ${ms(hotFigures.p99)} ms  target < 200 ms  ${p99Ok ? "PASS" : "FAIL"}`);

  if (cpu.size > 0) {
    console.log(
      "\nCPU ms per request, from /proc. One thread of the Worker's workerd runs the Worker, the Durable Objects and the local\n" +
        "D1 and rate-limiter simulators; 'JS thread' is the share of the phase it ran, + the share it was ready but waiting for a CPU.\n",
    );
    const roles = ["worker workerd", "proxy workerd", "wrangler node", "bench client"];
    const header = ["phase", ...roles, "total", "JS thread ran + waited"];
    const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
    const cpuRows = [...cpu].map(([name, use]) => {
      const values = roles.map((role) => use.perRequest.get(role) ?? 0);
      const thread = use.workerThreadRunning > 0 ? `${percent(use.workerThreadRunning)} + ${percent(use.workerThreadWaiting)}` : `${percent(use.workerBusy)} of a core`;
      return [name, ...values.map((v) => v.toFixed(2)), values.reduce((a, b) => a + b, 0).toFixed(2), thread];
    });
    const widths = header.map((title, column) => Math.max(title.length, ...cpuRows.map((row) => row[column]!.length)));
    const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
    console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...cpuRows.map(line)].join("\n"));
  }

  if (probe.length > 0) {
    console.log(`\nSingle-client probe (${options.probe} rounds, one request at a time, routes in turn)\n`);
    const probeRows = probe.map((p) => {
      const sorted = [...p.latencies].sort((a, b) => a - b);
      const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
      return [p.name, String(sorted.length), ms(sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN), ms(mean), ms(sorted[sorted.length - 1] ?? Number.NaN), [...p.statuses].map(([k, n]) => `${k} ×${n}`).join(", ")];
    });
    const header = ["route", "n", "p50 ms", "mean ms", "max ms", "statuses"];
    const widths = header.map((title, column) => Math.max(title.length, ...probeRows.map((row) => row[column]!.length)));
    const line = (cells: string[]) => cells.map((cell, column) => (column === 0 || column === 5 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
    console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...probeRows.map(line)].join("\n"));
    for (const p of probe) {
      for (const [key, count] of p.statuses) {
        if (key.startsWith("5") || key === "transport error") problems.push(`probe ${p.name}: ${key} ×${count}`);
      }
    }
  }

  // 5xx and transport errors anywhere are failures.
  for (const result of [...trivial, hot, ...(small ? [small] : [])]) {
    const f = figuresOf(result);
    if (f.errors > 0) problems.push(`${result.name}: ${f.errors} error(s) (5xx or transport): ${result.failures.join(" | ")}`);
    if (result.cutShort) console.log(`note: ${result.name} was stopped by the time budget after ${result.requests} requests`);
  }
  const expectedRefusals = new Set(["409 SESSION_FULL", "409 INSUFFICIENT_CAPACITY"]);
  for (const result of [hot, ...(small ? [small] : [])]) {
    for (const [key, count] of result.byStatus) {
      if (key !== "201" && !expectedRefusals.has(key)) problems.push(`${result.name}: unexpected answer ${key} ×${count}`);
    }
  }

  console.log("\nCorrectness (after the run)\n");
  for (const session of [fixtures.warm, fixtures.hot, fixtures.small]) {
    problems.push(...(await checkSession(base, adminToken, session, ledger.count(session.id))));
  }

  if (problems.length > 0) {
    console.log(`\nFAILED: ${problems.length} correctness problem(s)`);
    for (const problem of problems) console.log(`  - ${problem}`);
    return 1;
  }
  console.log("\ncorrectness: OK (nothing oversold, DO and D1 agree with the 201s received, no 5xx)");
  return 0;
}

function pctDiff(a: number, b: number): string {
  const mean = (a + b) / 2;
  return mean > 0 ? `${((Math.abs(a - b) / mean) * 100).toFixed(1)}%` : "-";
}

/**
 * The DO's view (availability) and D1's (admin seatsBooked) against the 201s received. D1 is
 * written from the DO's outbox, synchronously on the happy path, by the alarm on retry: give it a
 * few seconds to converge before calling a difference a failure.
 */
async function checkSession(base: string, adminToken: string, session: Session, created: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  let live: any;
  let admin: any;
  for (;;) {
    live = (await api(base, "GET", `/api/v1/sessions/${session.id}/availability`)).json;
    admin = (await api(base, "GET", `/api/v1/admin/sessions/${session.id}`, { token: adminToken })).json;
    const settled = live.held === 0 && admin.seatsBooked === live.booked;
    if (settled || Date.now() >= deadline) break;
    await sleep(500);
  }
  console.log(
    `  ${session.label.padEnd(8)} ${session.id}: capacity ${live.capacity}, DO booked ${live.booked}, held ${live.held}, ` +
      `D1 seatsBooked ${admin.seatsBooked}, 201s received ${created}`,
  );
  const problems: string[] = [];
  const name = `${session.label} session ${session.id}`;
  if (live.capacity !== session.capacity) problems.push(`${name}: capacity ${live.capacity}, created with ${session.capacity}`);
  if (live.booked > live.capacity) problems.push(`${name}: OVERSOLD, ${live.booked} booked of ${live.capacity}`);
  if (admin.seatsBooked > admin.capacity) problems.push(`${name}: OVERSOLD in D1, ${admin.seatsBooked} of ${admin.capacity}`);
  if (live.booked !== created) problems.push(`${name}: the DO has ${live.booked} seats booked, the bench received ${created} 201s (1 seat each)`);
  if (live.held !== 0) problems.push(`${name}: ${live.held} seats still held`);
  if (admin.seatsBooked !== live.booked) problems.push(`${name}: D1 says ${admin.seatsBooked} seats booked, the DO ${live.booked}`);
  return problems;
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
