/**
 * Hot-drop benchmark: `npm run bench:hot-drop [-- --buyers 5000 --capacity 20 --concurrency 200 ...]`.
 *
 * A popular class goes on sale: many more buyers than seats, all at once. Starts the Worker
 * locally like bench:booking (harness.ts: fresh state, 127.0.0.1, `EXPOSE_D1_STATEMENTS=true`),
 * creates a class with a warm-up session and the drop session (`--capacity` seats), then:
 *
 *   warm-up      GET /health, availability and bookings on the warm-up session, not measured
 *   trivial #1   GET /health at the same concurrency
 *   drop         `--buyers` distinct buyers (email, CF-Connecting-IP, Idempotency-Key; one seat,
 *                the right price) at `--concurrency`: exactly `--capacity` must get a 201
 *   trivial #2   GET /health again; the trivial figure is the mean of #1 and #2
 *
 * Then the DO (availability) must show every seat booked and none available, and D1's projection
 * (admin session view) must come to agree.
 *
 * Exit code: 0 when exactly the capacity was sold, the DO and D1 agree and nothing answered 5xx
 * (the performance targets are printed as PASS/FAIL, not enforced); 1 on an oversell, an
 * undersell, a disagreement or any 5xx; 2 when the service could not be started.
 * Only 127.0.0.1 is ever contacted.
 */
import { BookingLedger, checkSession, guestPlanner, phaseRunner, warmUp } from "./guests";
import { COMMON_STRING_OPTIONS, commonOptions, commonUsage, createCatalog, parseBenchArgs, runBench } from "./harness";
import { d1Line, d1Where, figuresOf, figuresWhere, isRefusal, ms, phaseTable, printProgress, refusalsOf, trivialBaseline, verdict } from "./load";

const DEFAULTS = { concurrency: 200, warmup: 300, maxSeconds: 240 };

const USAGE = `usage: npm run bench:hot-drop -- [options]
  --buyers N               distinct buyers, one booking attempt each (default 5000)
  --capacity N             seats of the drop session (default 20)
  --trivial-requests N     GET /health requests in each of the two trivial phases (default 3000)
${commonUsage(DEFAULTS)}`;

/** Refusals must come at least this fast relative to GET /health (printed, not enforced). */
const TARGET_REFUSAL_RATIO = 0.8;

function parseOptions(argv: string[]) {
  const parsed = parseBenchArgs(argv, USAGE, { strings: ["buyers", "capacity", "trivial-requests", ...COMMON_STRING_OPTIONS], booleans: ["keep"] });
  const options = {
    ...commonOptions(parsed, DEFAULTS),
    buyers: parsed.int("buyers", 5000, 1, 200_000),
    capacity: parsed.int("capacity", 20, 1, 10_000),
    trivialRequests: parsed.int("trivial-requests", 3000, 1, 200_000),
  };
  return options;
}

type Options = ReturnType<typeof parseOptions>;

function run(options: Options): Promise<number> {
  const setup = {
    title: "Hot-drop benchmark",
    parameters:
      `${options.buyers} buyers for ${options.capacity} seats at concurrency ${options.concurrency}, trivial 2 × ${options.trivialRequests}, ` +
      `warm-up ${options.warmup}/route, budget ${options.maxSeconds} s`,
    logLevel: options.logLevel,
    keep: options.keep,
    watchdogSeconds: options.maxSeconds + 240,
    vars: { EXPOSE_D1_STATEMENTS: "true" },
  };
  return runBench(setup, async ({ base, adminToken, runId }) => {
    const catalog = await createCatalog(base, adminToken, runId);
    const warm = await catalog.session("warm-up", 0, 10_000);
    const drop = await catalog.session("drop", 1, options.capacity);
    console.log(`fixtures: class price ${catalog.pricePence} p; sessions warm-up ${warm.id}, drop ${drop.id} (${drop.capacity} seats)`);

    const ledger = new BookingLedger();
    const booking = guestPlanner(base, runId, catalog.pricePence);
    const phase = phaseRunner({ concurrency: options.concurrency, deadline: Date.now() + options.maxSeconds * 1000, requestTimeoutMs: options.requestTimeoutMs, ledger });
    const health = () => ({ url: `${base}/health` });

    await warmUp(base, phase, booking, warm, options.warmup);
    console.log("measuring");
    const trivial1 = printProgress(await phase("trivial #1", options.trivialRequests, health));
    const dropped = printProgress(await phase("drop", options.buyers, () => booking(drop)));
    const trivial2 = printProgress(await phase("trivial #2", options.trivialRequests, health));

    console.log(`\nResults at ${options.concurrency} concurrent clients (latency = request sent to body read, as the client sees it)\n`);
    console.log(
      phaseTable([
        { route: "GET /health (trivial #1)", phase: trivial1 },
        { route: "GET /health (trivial #2)", phase: trivial2 },
        { route: `POST /api/v1/bookings drop (cap ${drop.capacity})`, phase: dropped },
      ]),
    );

    const trivial = trivialBaseline(trivial1, trivial2);
    const all = figuresOf(dropped);
    const refused = figuresWhere(dropped, isRefusal);
    const serverErrors = figuresWhere(dropped, (key) => key.startsWith("5")).answered;
    const sold = ledger.count(drop.id);
    const refusalRatio = trivial.rps > 0 ? refused.rps / trivial.rps : 0;
    const refusalD1 = d1Where([dropped], isRefusal);
    // One request in ten asks for its count (harness.ts guestHeaders): the sample must be there and write nothing.
    const writesOk = refusalD1.responses > 0 && refusalD1.maxWrites === 0;

    console.log(`\nThe drop: ${dropped.requests} buyers for ${drop.capacity} seats${dropped.cutShort ? " (stopped by the time budget)" : ""}`);
    console.log(`  201 (seat sold):  ${sold}  must be exactly ${Math.min(drop.capacity, dropped.requests)}`);
    console.log(`  refusals:         ${refused.answered} (${refusalsOf(dropped) || "none"})`);
    console.log(`  5xx:              ${serverErrors}  must be 0${dropped.failures.length > 0 ? `, e.g. ${dropped.failures.join(" | ")}` : ""}`);
    console.log(`  transport errors: ${dropped.transportErrors}`);
    console.log(
      `  trivial route, mean of the two phases: ${trivial.rps.toFixed(0)} req/s, p50 ${ms(trivial.p50)} ms, p99 ${ms(trivial.p99)} ms ` +
        `(#1 ${trivial.first.rps.toFixed(0)}, #2 ${trivial.second.rps.toFixed(0)} req/s; they differ by ${(trivial.spread * 100).toFixed(1)}%)`,
    );
    console.log(`  refusals: ${refused.rps.toFixed(0)} req/s (all answers ${all.rps.toFixed(0)} req/s), p50 ${ms(refused.p50)} ms, p99 ${ms(refused.p99)} ms`);
    console.log(`  D1 on the response path of a refusal: ${d1Line(refusalD1)}`);
    const sold201 = d1Where([dropped], (key) => key === "201");
    if (sold201.answered > 0) console.log(`  D1 on the response path of a sale:    ${d1Line(sold201)}`);

    console.log("\nTargets (printed, not enforced)");
    console.log(`  refusal ÷ trivial throughput: ${refused.rps.toFixed(0)} / ${trivial.rps.toFixed(0)} = ${refusalRatio.toFixed(3)}  target ≥ ${TARGET_REFUSAL_RATIO}  ${verdict(refusalRatio >= TARGET_REFUSAL_RATIO)}`);
    console.log(`  refusal p50 / p99 vs trivial: ${ms(refused.p50)} / ${ms(refused.p99)} ms vs ${ms(trivial.p50)} / ${ms(trivial.p99)} ms (×${(refused.p99 / trivial.p99).toFixed(2)} at p99)`);
    console.log(`  D1 writes per refusal: max ${refusalD1.responses > 0 ? refusalD1.maxWrites : "n/a"}  target 0  ${verdict(writesOk)}`);

    const problems = [...ledger.problems];
    if (sold > drop.capacity) problems.push(`OVERSOLD: ${sold} 201s for ${drop.capacity} seats`);
    else if (sold < Math.min(drop.capacity, dropped.requests)) problems.push(`UNDERSOLD: ${sold} 201s for ${drop.capacity} seats and ${dropped.requests} buyers`);
    if (serverErrors > 0) problems.push(`${serverErrors} 5xx answer(s)`);
    for (const result of [trivial1, trivial2]) {
      const f = figuresOf(result);
      if (f.errors > 0) console.log(`note: ${result.name}: ${f.errors} error(s): ${result.failures.join(" | ")}`);
      if (figuresWhere(result, (key) => key.startsWith("5")).answered > 0) problems.push(`${result.name}: 5xx answers`);
    }
    if (dropped.transportErrors > 0) console.log(`note: ${dropped.transportErrors} transport error(s) in the drop: their buyers' outcome is unknown`);

    console.log("\nCorrectness (after the run)\n");
    const check = await checkSession(base, adminToken, drop, sold);
    problems.push(...check.problems);
    if (check.live.booked !== drop.capacity && dropped.requests >= drop.capacity) problems.push(`the DO shows ${check.live.booked} booked, expected all ${drop.capacity}`);
    if (check.live.availableSpots !== 0 && dropped.requests >= drop.capacity) problems.push(`the DO shows ${check.live.availableSpots} seats available, expected 0`);
    problems.push(...(await checkSession(base, adminToken, warm, ledger.count(warm.id))).problems);

    if (problems.length > 0) {
      console.log(`\nFAILED: ${problems.length} correctness problem(s)`);
      for (const problem of problems) console.log(`  - ${problem}`);
      return 1;
    }
    console.log(`\ncorrectness: OK (exactly ${sold} seats sold, DO ${check.live.booked} booked / ${check.live.availableSpots} available, D1 agrees, no 5xx)`);
    return 0;
  });
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
