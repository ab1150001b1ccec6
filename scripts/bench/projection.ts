/**
 * Projection benchmark: `npm run bench:projection [-- --sessions 30 --bookings 3000 --concurrency 50 ...]`.
 *
 * How fast acknowledged bookings reach D1. Starts the Worker locally like bench:booking
 * (harness.ts: fresh state, 127.0.0.1, `EXPOSE_D1_STATEMENTS=true`), creates a class with a
 * warm-up session and `--sessions` sessions of `--capacity` seats, then:
 *
 *   warm-up      GET /health, availability and bookings on the warm-up session, not measured
 *   trivial #1   GET /health at the same concurrency
 *   burst        `--bookings` distinct guests, one seat each, round-robin over the sessions
 *   projection   from the end of the burst, every `--poll-ms`: one admin read of the class's
 *                sessions (`GET /api/v1/admin/sessions?classId=…`, each with D1's `seatsBooked`)
 *                until every session holds exactly the 201s it answered
 *   trivial #2   GET /health again; the trivial figure is the mean of #1 and #2
 *
 * Exit code: 0 when D1 converged to exactly the acknowledged bookings (and stayed there) with no
 * 5xx; 1 when it did not within `--projection-timeout-seconds`, went past them, or a 5xx was
 * answered; 2 when the service could not be started. Only 127.0.0.1 is ever contacted.
 */
import { BookingLedger, guestPlanner, phaseRunner, warmUp } from "./guests";
import { api, type BenchSession, COMMON_STRING_OPTIONS, commonOptions, commonUsage, createCatalog, parseBenchArgs, runBench } from "./harness";
import { d1Line, d1Where, figuresOf, figuresWhere, ms, phaseTable, printProgress, trivialBaseline } from "./load";
import { sleep } from "./node";

const DEFAULTS = { concurrency: 50, warmup: 300, maxSeconds: 240 };

const USAGE = `usage: npm run bench:projection -- [options]
  --sessions N                    sessions the burst is spread over (default 30, at most 99)
  --bookings N                    bookings in the burst, distinct guests, one seat each (default 3000)
  --capacity N                    seats per session (default 200; at least bookings ÷ sessions)
  --trivial-requests N            GET /health requests in each of the two trivial phases (default 3000)
  --poll-ms N                     pause between two reads of D1 (default 100)
  --projection-timeout-seconds N  how long D1 may take to hold every acknowledged booking (default 120)
${commonUsage(DEFAULTS)}`;

function parseOptions(argv: string[]) {
  const parsed = parseBenchArgs(argv, USAGE, {
    strings: ["sessions", "bookings", "capacity", "trivial-requests", "poll-ms", "projection-timeout-seconds", ...COMMON_STRING_OPTIONS],
    booleans: ["keep"],
  });
  const { int } = parsed;
  const options = {
    ...commonOptions(parsed, DEFAULTS),
    sessions: int("sessions", 30, 1, 99),
    bookings: int("bookings", 3000, 1, 500_000),
    capacity: int("capacity", 200, 1, 10_000),
    trivialRequests: int("trivial-requests", 3000, 1, 200_000),
    pollMs: int("poll-ms", 100, 10, 10_000),
    projectionTimeoutSeconds: int("projection-timeout-seconds", 120, 1, 3600),
  };
  if (options.capacity * options.sessions < options.bookings) {
    console.error(`bench: --capacity ${options.capacity} × --sessions ${options.sessions} has no room for ${options.bookings} bookings\n${USAGE}`);
    process.exit(2);
  }
  return options;
}

type Options = ReturnType<typeof parseOptions>;

interface Convergence {
  /** `performance.now()` when the read that first found D1 complete was answered; NaN if it never did. */
  completeAt: number;
  /** `performance.now()` when the last read that found D1 incomplete was sent. */
  lastIncompleteSentAt: number;
  polls: number;
  /** D1's seats booked in the burst's sessions at the last read. */
  inD1: number;
  problems: string[];
}

/** D1's `seatsBooked` of every session of the class (one admin read: ≤ 100 sessions, one page). */
async function seatsInD1(base: string, adminToken: string, classId: string): Promise<Map<string, number>> {
  const page = (await api(base, "GET", `/api/v1/admin/sessions?classId=${encodeURIComponent(classId)}&limit=100`, { token: adminToken })).json as {
    data: { id: string; seatsBooked: number }[];
  };
  return new Map(page.data.map((session) => [session.id, session.seatsBooked]));
}

/** Reads D1 every `pollMs` until each session holds exactly its 201s (bounded by the timeout); fails fast on more. */
async function awaitProjection(base: string, adminToken: string, classId: string, sessions: BenchSession[], ledger: BookingLedger, options: Options): Promise<Convergence> {
  const result: Convergence = { completeAt: Number.NaN, lastIncompleteSentAt: Number.NaN, polls: 0, inD1: 0, problems: [] };
  const deadline = performance.now() + options.projectionTimeoutSeconds * 1000;
  const maxPolls = Math.ceil((options.projectionTimeoutSeconds * 1000) / options.pollMs) + 1;
  while (result.polls < maxPolls && performance.now() < deadline) {
    const sentAt = performance.now();
    const seats = await seatsInD1(base, adminToken, classId);
    result.polls += 1;
    result.inD1 = sessions.reduce((sum, session) => sum + (seats.get(session.id) ?? 0), 0);
    const over = sessions.filter((session) => (seats.get(session.id) ?? 0) > ledger.count(session.id));
    if (over.length > 0) {
      result.problems.push(...over.map((session) => `${session.label} ${session.id}: D1 has ${seats.get(session.id)} seats booked, the bench received ${ledger.count(session.id)} 201s`));
      return result;
    }
    if (sessions.every((session) => seats.get(session.id) === ledger.count(session.id))) {
      result.completeAt = performance.now();
      return result;
    }
    result.lastIncompleteSentAt = sentAt;
    await sleep(options.pollMs);
  }
  result.problems.push(`D1 held ${result.inD1} of the ${ledger.total()} acknowledged bookings after ${options.projectionTimeoutSeconds} s`);
  return result;
}

function run(options: Options): Promise<number> {
  const setup = {
    title: "Projection benchmark",
    parameters:
      `${options.bookings} bookings over ${options.sessions} sessions of ${options.capacity} seats at concurrency ${options.concurrency}, ` +
      `D1 read every ${options.pollMs} ms for up to ${options.projectionTimeoutSeconds} s, trivial 2 × ${options.trivialRequests}, ` +
      `warm-up ${options.warmup}/route, budget ${options.maxSeconds} s`,
    logLevel: options.logLevel,
    keep: options.keep,
    watchdogSeconds: options.maxSeconds + options.projectionTimeoutSeconds + 240,
    vars: { EXPOSE_D1_STATEMENTS: "true" },
  };
  return runBench(setup, async ({ base, adminToken, runId }) => {
    const catalog = await createCatalog(base, adminToken, runId);
    const warm = await catalog.session("warm-up", 0, 10_000);
    const sessions: BenchSession[] = [];
    for (let i = 0; i < options.sessions; i++) sessions.push(await catalog.session(`s${i + 1}`, i + 1, options.capacity));
    console.log(`fixtures: class ${catalog.classId} (price ${catalog.pricePence} p); warm-up session ${warm.id}; ${sessions.length} sessions of ${options.capacity} seats`);

    const deadline = Date.now() + options.maxSeconds * 1000;
    const timing = { concurrency: options.concurrency, deadline, requestTimeoutMs: options.requestTimeoutMs };
    const booking = guestPlanner(base, runId, catalog.pricePence);
    const phase = phaseRunner({ ...timing, ledger: new BookingLedger() });
    const health = () => ({ url: `${base}/health` });

    await warmUp(base, phase, booking, warm, options.warmup);
    console.log("measuring");
    const trivial1 = printProgress(await phase("trivial #1", options.trivialRequests, health));
    // Its own ledger: the first and last 201 of the burst, and the 201s per session.
    const ledger = new BookingLedger();
    const burst = printProgress(await phaseRunner({ ...timing, ledger })("burst", options.bookings, (index) => booking(sessions[index % sessions.length]!)));
    console.log(`  projection: reading D1 every ${options.pollMs} ms`);
    const convergence = await awaitProjection(base, adminToken, catalog.classId, sessions, ledger, options);
    // Still exactly right a moment later (no late duplicate or extra row).
    let stable = true;
    if (Number.isFinite(convergence.completeAt)) {
      await sleep(1000);
      const seats = await seatsInD1(base, adminToken, catalog.classId);
      stable = sessions.every((session) => seats.get(session.id) === ledger.count(session.id));
      if (!stable) convergence.problems.push("D1 changed after it had held exactly the acknowledged bookings");
    }
    const trivial2 = printProgress(await phase("trivial #2", options.trivialRequests, health));

    console.log(`\nResults at ${options.concurrency} concurrent clients (latency = request sent to body read, as the client sees it)\n`);
    console.log(
      phaseTable([
        { route: "GET /health (trivial #1)", phase: trivial1 },
        { route: "GET /health (trivial #2)", phase: trivial2 },
        { route: `POST /api/v1/bookings burst (${sessions.length} sessions)`, phase: burst },
      ]),
    );
    const trivial = trivialBaseline(trivial1, trivial2);
    const acknowledged = ledger.total();
    const burstSeconds = burst.wallMs / 1000;
    const complete = Number.isFinite(convergence.completeAt);
    const lag = convergence.completeAt - ledger.last201;
    const projectedPerSecond = acknowledged / ((convergence.completeAt - ledger.first201) / 1000);

    console.log(`\nThe burst and its projection`);
    console.log(`  burst: ${burst.requests} requests in ${burstSeconds.toFixed(2)} s, ${acknowledged} acknowledged (201), ${(acknowledged / burstSeconds).toFixed(0)} bookings/s acknowledged`);
    console.log(`  first 201 → last 201: ${ms(ledger.last201 - ledger.first201)} ms`);
    if (complete) {
      const bracket = Number.isFinite(convergence.lastIncompleteSentAt)
        ? `the last read that found fewer was sent ${ms(convergence.lastIncompleteSentAt - ledger.last201)} ms after the last 201`
        : "the first read already found all";
      console.log(`  last 201 → D1 holds all ${acknowledged}: ${ms(lag)} ms (${bracket}; ${convergence.polls} reads)`);
      console.log(`  bookings projected per second (${acknowledged} ÷ first 201 → D1 complete): ${projectedPerSecond.toFixed(0)}`);
      if (!Number.isFinite(convergence.lastIncompleteSentAt)) console.log("  (D1 kept up with the burst: that is the acknowledgement rate, not the projection's ceiling)");
    } else {
      console.log(`  D1 never held all ${acknowledged}: ${convergence.inD1} after ${convergence.polls} reads`);
    }
    console.log(`  trivial route for scale, mean of the two phases: ${trivial.rps.toFixed(0)} req/s, p99 ${ms(trivial.p99)} ms (they differ by ${(trivial.spread * 100).toFixed(1)}%)`);
    console.log(`  D1 on the response path of a booking: ${d1Line(d1Where([burst], (key) => key === "201"))}`);

    const problems = [...ledger.problems, ...convergence.problems];
    const serverErrors = figuresWhere(burst, (key) => key.startsWith("5")).answered;
    if (serverErrors > 0) problems.push(`burst: ${serverErrors} 5xx answer(s): ${burst.failures.join(" | ")}`);
    const others = [...burst.byStatus].filter(([key]) => key !== "201" && !key.startsWith("5"));
    if (others.length > 0) console.log(`note: the burst also answered ${others.map(([key, count]) => `${key} ×${count}`).join(", ")}`);
    if (burst.transportErrors > 0) console.log(`note: ${burst.transportErrors} transport error(s) in the burst: those bookings' outcome is unknown`);
    if (burst.cutShort) console.log(`note: the burst was stopped by the time budget after ${burst.requests} requests`);
    if (figuresOf(trivial1).errors + figuresOf(trivial2).errors > 0) console.log(`note: errors on GET /health: ${[...trivial1.failures, ...trivial2.failures].join(" | ")}`);

    if (problems.length > 0) {
      console.log(`\nFAILED: ${problems.length} problem(s)`);
      for (const problem of problems) console.log(`  - ${problem}`);
      return 1;
    }
    console.log(`\ncorrectness: OK (D1 holds exactly the ${acknowledged} acknowledged bookings, per session, and still did 1 s later)`);
    return 0;
  });
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
