/**
 * Booking benchmark: `npm run bench:booking [-- --concurrency 50 --requests 3000 ...]`.
 *
 * Starts the Worker locally (`wrangler dev` on 127.0.0.1, a free port, a fresh state directory,
 * `EXPOSE_D1_STATEMENTS=true`), creates its own catalog through the admin API, then drives it
 * from this process:
 *
 *   warm-up      a few hundred requests to each route, not measured
 *   trivial #1   GET /health
 *   hot          POST /api/v1/bookings on one session with room for everyone (capacity 10,000)
 *   trivial #2   GET /health again; the trivial figure is the mean of #1 and #2
 *   small        POST /api/v1/bookings on a small session (capacity 20): most are refused (409)
 *   probe        one client, requests in turn: where the time of one booking goes
 *
 * Every booking is a distinct guest (email, CF-Connecting-IP, Idempotency-Key), one seat, the
 * right price. The D1 statements each response ran come from its X-D1-Statements / X-D1-Writes
 * headers. Afterwards every session is checked: the DO's booked seats ≤ capacity, equal to the
 * 201s the bench received, no seats left held, and D1's projection (admin view) agrees.
 *
 * Exit code: 0 when the run is correct (performance targets are printed as PASS/FAIL, not enforced);
 * 1 on any oversell, disagreement, 5xx or transport error; 2 when the service could not be run.
 * Only 127.0.0.1 is ever contacted.
 */
import { type CpuUse, cpuBetween, snapshot } from "./cpu";
import { checkSession, type GuestPlanner, BookingLedger, guestPlanner, type PhaseRunner, phaseRunner, warmUp } from "./guests";
import { type BenchSession as Session, COMMON_STRING_OPTIONS, commonOptions, commonUsage, createCatalog, parseBenchArgs, runBench } from "./harness";
import { d1Line, d1Where, figuresOf, ms, type PhaseResult, phaseTable, printProgress, textTable, trivialBaseline, verdict } from "./load";
import type { LocalService } from "./service";

// ---- options ------------------------------------------------------------------------------------

const DEFAULTS = { concurrency: 50, warmup: 300, maxSeconds: 240 };

const USAGE = `usage: npm run bench:booking -- [options]
  --requests N             booking attempts on the hot session (default 3000)
  --trivial-requests N     GET /health requests in each of the two trivial phases (default 3000)
  --small-requests N       booking attempts on the small session (default 1000)
  --small-capacity N       seats of the small session (default 20)
  --hot-capacity N         seats of the hot session (default 10000, the API's maximum)
  --probe N                rounds of the single-client probe, 0 to skip (default 40)
${commonUsage(DEFAULTS)}`;

/** The targets printed as PASS/FAIL. */
const TARGET_THROUGHPUT_RATIO = 0.6;
const TARGET_P99_RATIO = 1.5;

function parseOptions(argv: string[]) {
  const parsed = parseBenchArgs(argv, USAGE, {
    strings: ["requests", "trivial-requests", "small-requests", "small-capacity", "hot-capacity", "probe", ...COMMON_STRING_OPTIONS],
    booleans: ["keep"],
  });
  const { int } = parsed;
  return {
    ...commonOptions(parsed, DEFAULTS),
    requests: int("requests", 3000, 1, 100_000),
    trivialRequests: int("trivial-requests", 3000, 1, 200_000),
    smallRequests: int("small-requests", 1000, 0, 100_000),
    smallCapacity: int("small-capacity", 20, 1, 10_000),
    hotCapacity: int("hot-capacity", 10_000, 1, 10_000),
    probe: int("probe", 40, 0, 1000),
  };
}

type Options = ReturnType<typeof parseOptions>;

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
    vars: { EXPOSE_D1_STATEMENTS: "true" },
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
  trivial: [PhaseResult, PhaseResult];
  hot: PhaseResult;
  small: PhaseResult | undefined;
  probe: ProbeResult[];
  ledger: BookingLedger;
}

async function measure(base: string, options: Options, runId: string, fixtures: Fixtures, service: LocalService): Promise<Measured> {
  const deadline = Date.now() + options.maxSeconds * 1000;
  const ledger = new BookingLedger();
  const cpu = new Map<string, CpuUse>();
  const booking = guestPlanner(base, runId, fixtures.pricePence);
  const health = () => ({ url: `${base}/health` });
  const phase = phaseRunner({ concurrency: options.concurrency, deadline, requestTimeoutMs: options.requestTimeoutMs, ledger });

  await warmUp(base, phase, booking, fixtures.warm, options.warmup);

  /** A measured phase, with the CPU the service's processes and this client spent on it. */
  const measured = async (name: string, total: number, plan: Parameters<PhaseRunner>[2]) => {
    const before = snapshot(service.processGroup(), service.port);
    const result = await phase(name, total, plan);
    const use = cpuBetween(before, snapshot(service.processGroup(), service.port), result.requests);
    if (use) cpu.set(name, use);
    return printProgress(result);
  };

  console.log("measuring");
  const trivial1 = await measured("trivial #1", options.trivialRequests, health);
  const hot = await measured("hot booking", options.requests, () => booking(fixtures.hot));
  const trivial2 = await measured("trivial #2", options.trivialRequests, health);
  const small = options.smallRequests > 0 ? await measured("small booking", options.smallRequests, () => booking(fixtures.small)) : undefined;

  const probe = options.probe > 0 ? await runProbe(base, options, fixtures, booking, phase, deadline) : [];
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
async function runProbe(base: string, options: Options, fixtures: Fixtures, booking: GuestPlanner, phase: PhaseRunner, deadline: number): Promise<ProbeResult[]> {
  const routes: { name: string; plan: () => ReturnType<GuestPlanner> }[] = [
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
      const one = await phase(route.name, 1, route.plan, 1);
      const target = results[index]!;
      target.latencies.push(...one.latencies);
      for (const [key, count] of one.byStatus) target.statuses.set(key, (target.statuses.get(key) ?? 0) + count);
      if (one.transportErrors > 0) target.statuses.set("transport error", (target.statuses.get("transport error") ?? 0) + one.transportErrors);
    }
  }
  return results;
}

// ---- report and checks --------------------------------------------------------------------------

function printCpu(cpu: Map<string, CpuUse>): void {
  if (cpu.size === 0) return;
  console.log(
    "\nCPU ms per request, from /proc. One thread of the Worker's workerd runs the Worker, the Durable Objects and the local\n" +
      "D1 and rate-limiter simulators; 'JS thread' is the share of the phase it ran, + the share it was ready but waiting for a CPU.\n",
  );
  const roles = ["worker workerd", "proxy workerd", "wrangler node", "bench client"];
  const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
  const rows = [...cpu].map(([name, use]) => {
    const values = roles.map((role) => use.perRequest.get(role) ?? 0);
    const thread = use.workerThreadRunning > 0 ? `${percent(use.workerThreadRunning)} + ${percent(use.workerThreadWaiting)}` : `${percent(use.workerBusy)} of a core`;
    return [name, ...values.map((v) => v.toFixed(2)), values.reduce((a, b) => a + b, 0).toFixed(2), thread];
  });
  console.log(textTable(["phase", ...roles, "total", "JS thread ran + waited"], rows, [0]));
}

function printProbe(probe: ProbeResult[], rounds: number, problems: string[]): void {
  if (probe.length === 0) return;
  console.log(`\nSingle-client probe (${rounds} rounds, one request at a time, routes in turn)\n`);
  const rows = probe.map((p) => {
    const sorted = [...p.latencies].sort((a, b) => a - b);
    const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
    return [p.name, String(sorted.length), ms(sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN), ms(mean), ms(sorted[sorted.length - 1] ?? Number.NaN), [...p.statuses].map(([k, n]) => `${k} ×${n}`).join(", ")];
  });
  console.log(textTable(["route", "n", "p50 ms", "mean ms", "max ms", "statuses"], rows));
  for (const p of probe) {
    for (const [key, count] of p.statuses) {
      if (key.startsWith("5") || key === "transport error") problems.push(`probe ${p.name}: ${key} ×${count}`);
    }
  }
}

async function report(base: string, adminToken: string, options: Options, fixtures: Fixtures, measured: Measured): Promise<number> {
  const { cpu, trivial, hot, small, probe, ledger } = measured;
  const problems: string[] = [...ledger.problems];

  console.log(`\nResults at ${options.concurrency} concurrent clients (latency = request sent to body read, as the client sees it)\n`);
  console.log(
    phaseTable([
      { route: "GET /health (trivial #1)", phase: trivial[0] },
      { route: "GET /health (trivial #2)", phase: trivial[1] },
      { route: `POST /api/v1/bookings hot (cap ${fixtures.hot.capacity})`, phase: hot },
      ...(small ? [{ route: `POST /api/v1/bookings small (cap ${fixtures.small.capacity})`, phase: small }] : []),
    ]),
  );

  const base0 = trivialBaseline(trivial[0], trivial[1]);
  const hotFigures = figuresOf(hot);
  const ratio = base0.rps > 0 ? hotFigures.rps / base0.rps : 0;
  const p99Ratio = base0.p99 > 0 ? hotFigures.p99 / base0.p99 : Number.POSITIVE_INFINITY;
  console.log(
    `\ntrivial route, mean of the two phases: ${base0.rps.toFixed(0)} req/s, p99 ${ms(base0.p99)} ms` +
      ` (#1 ${base0.first.rps.toFixed(0)}, #2 ${base0.second.rps.toFixed(0)} req/s; they differ by ${(base0.spread * 100).toFixed(1)}%)`,
  );

  console.log("\nD1 statements on the response path, per request (X-D1-Statements / X-D1-Writes; work after the response is not counted)");
  const hot201 = d1Where([hot], (key) => key === "201");
  console.log(`  hot 201s:           ${d1Line(hot201)}`);
  if (small) console.log(`  small 409 refusals: ${d1Line(d1Where([small], (key) => key.startsWith("409")))}`);
  // One request in ten asks for its count (harness.ts guestHeaders): the sample must be there and write nothing.
  const writesOk = hot201.responses > 0 && hot201.maxWrites === 0;

  console.log("\nTargets (printed, not enforced)");
  console.log(`  booking ÷ trivial throughput: ${hotFigures.rps.toFixed(0)} / ${base0.rps.toFixed(0)} = ${ratio.toFixed(3)}  target ≥ ${TARGET_THROUGHPUT_RATIO}  ${verdict(ratio >= TARGET_THROUGHPUT_RATIO)}`);
  console.log(`  booking p99 ÷ trivial p99: ${ms(hotFigures.p99)} / ${ms(base0.p99)} ms = ${p99Ratio.toFixed(2)}  target ≤ ${TARGET_P99_RATIO}  ${verdict(p99Ratio <= TARGET_P99_RATIO)}`);
  console.log(`  D1 writes on the response path of a single-session booking: max ${hot201.responses > 0 ? hot201.maxWrites : "n/a"}  target 0  ${verdict(writesOk)}`);

  printCpu(cpu);
  printProbe(probe, options.probe, problems);

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
    problems.push(...(await checkSession(base, adminToken, session, ledger.count(session.id))).problems);
  }

  if (problems.length > 0) {
    console.log(`\nFAILED: ${problems.length} correctness problem(s)`);
    for (const problem of problems) console.log(`  - ${problem}`);
    return 1;
  }
  console.log("\ncorrectness: OK (nothing oversold, DO and D1 agree with the 201s received, no 5xx)");
  return 0;
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
