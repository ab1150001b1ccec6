/**
 * Signed-in requests benchmark: `npm run bench:auth [-- --requests 3000 --concurrency 50 ...]`.
 *
 * Every request with a session token reads its session and the account's role from D1 (no cache,
 * so a sign-out or a changed role applies to the next request). This measures what that costs.
 * Starts the Worker locally like the other benchmarks (harness.ts: fresh state, 127.0.0.1), signs
 * `--accounts` customers in through the real flow (email link → dev mailbox → verify), then:
 *
 *   trivial #1   GET /health
 *   session      GET /api/v1/auth/session with a signed-in session's token (one D1 read)
 *   dev token    GET /api/v1/auth/session with a sessionless development token (no D1)
 *   portal       GET /api/v1/me with a session token (the session read plus the profile queries)
 *   trivial #2   GET /health again; the trivial figure is the mean of #1 and #2
 *
 * and, for correctness, signs one session out and checks its token is refused at once (401).
 * Exit code: 0 when everything answered as it should, 1 otherwise, 2 when the service could not start.
 */
import { api, COMMON_STRING_OPTIONS, commonOptions, commonUsage, parseBenchArgs, runBench } from "./harness";
import { figuresOf, ms, phaseTable, printProgress, runPhase, trivialBaseline } from "./load";

const DEFAULTS = { concurrency: 50, warmup: 300, maxSeconds: 240 };
const USAGE = `usage: npm run bench:auth -- [options]
  --requests N   requests in each measured phase (default 3000)
  --accounts N   signed-in customers whose tokens the phases rotate through (default 20)
${commonUsage(DEFAULTS)}`;

function parseOptions(argv: string[]) {
  const parsed = parseBenchArgs(argv, USAGE, { strings: ["requests", "accounts", ...COMMON_STRING_OPTIONS], booleans: ["keep"] });
  return { ...commonOptions(parsed, DEFAULTS), requests: parsed.int("requests", 3000, 1, 200_000), accounts: parsed.int("accounts", 20, 1, 500) };
}

/** Signs one address in as a person would: the link from the dev mailbox, then verify. */
async function signIn(base: string, email: string, index: number): Promise<string> {
  const ip = { "CF-Connecting-IP": `10.77.${(index >> 8) & 255}.${index & 255}` };
  await api(base, "POST", "/api/v1/auth/email-link", { body: { email }, headers: ip, expect: [202] });
  for (let attempt = 0; attempt < 100; attempt++) {
    const { json } = await api(base, "GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
    const token = /\/sign-in\?token=([A-Za-z0-9_-]+)/.exec(json.data[0]?.text ?? "")?.[1];
    if (token) return (await api(base, "POST", "/api/v1/auth/verify", { body: { token } })).json.accessToken as string;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no sign-in link reached ${email}`);
}

function run(options: ReturnType<typeof parseOptions>): Promise<number> {
  const setup = {
    title: "Signed-in requests benchmark",
    parameters: `${options.requests} requests per phase at concurrency ${options.concurrency}, ${options.accounts} signed-in accounts, budget ${options.maxSeconds} s`,
    logLevel: options.logLevel,
    keep: options.keep,
    watchdogSeconds: options.maxSeconds + 240,
  };
  return runBench(setup, async ({ base, adminToken, runId }) => {
    const tokens: string[] = [];
    for (let i = 0; i < options.accounts; i++) tokens.push(await signIn(base, `bench-${runId}-${i}@example.test`, i));
    console.log(`fixtures: ${tokens.length} customers signed in through the dev mailbox`);
    const deadline = Date.now() + options.maxSeconds * 1000;
    const phase = (name: string, total: number, plan: (index: number) => { url: string; init?: RequestInit }) =>
      runPhase({ name, total, concurrency: options.concurrency, deadline, requestTimeoutMs: options.requestTimeoutMs, plan });
    const bearer = (token: string): RequestInit => ({ headers: { Authorization: `Bearer ${token}` } });
    const health = () => ({ url: `${base}/health` });
    const session = (i: number) => ({ url: `${base}/api/v1/auth/session`, init: bearer(tokens[i % tokens.length]!) });
    const devToken = () => ({ url: `${base}/api/v1/auth/session`, init: bearer(adminToken) });
    const portal = (i: number) => ({ url: `${base}/api/v1/me`, init: bearer(tokens[i % tokens.length]!) });

    console.log("warm-up (not measured)");
    for (const [name, plan] of [["GET /health", health], ["session", session], ["dev token", devToken], ["portal", portal]] as const) {
      printProgress(await phase(`warm-up ${name}`, options.warmup, plan));
    }
    console.log("measuring");
    const trivial1 = printProgress(await phase("trivial #1", options.requests, health));
    const withSession = printProgress(await phase("session", options.requests, session));
    const withDevToken = printProgress(await phase("dev token", options.requests, devToken));
    const withPortal = printProgress(await phase("portal", options.requests, portal));
    const trivial2 = printProgress(await phase("trivial #2", options.requests, health));

    console.log(`\nResults at ${options.concurrency} concurrent clients (latency = request sent to body read)\n`);
    console.log(
      phaseTable([
        { route: "GET /health (trivial #1)", phase: trivial1 },
        { route: "GET /health (trivial #2)", phase: trivial2 },
        { route: "GET /api/v1/auth/session (session: D1 read)", phase: withSession },
        { route: "GET /api/v1/auth/session (dev token: no D1)", phase: withDevToken },
        { route: "GET /api/v1/me (session + profile)", phase: withPortal },
      ]),
    );
    const trivial = trivialBaseline(trivial1, trivial2);
    console.log(`\ntrivial route, mean of the two phases: ${trivial.rps.toFixed(0)} req/s, p50 ${ms(trivial.p50)} ms, p99 ${ms(trivial.p99)} ms (phases differ by ${(trivial.spread * 100).toFixed(1)}%)`);
    for (const [name, result] of [["session check", withSession], ["dev token", withDevToken], ["portal", withPortal]] as const) {
      const f = figuresOf(result);
      console.log(`  ${name}: ${f.rps.toFixed(0)} req/s = ${(f.rps / trivial.rps).toFixed(2)}× trivial, p99 ${ms(f.p99)} ms = ${(f.p99 / trivial.p99).toFixed(2)}× trivial`);
    }

    const problems: string[] = [];
    for (const result of [trivial1, trivial2, withSession, withDevToken, withPortal]) {
      const f = figuresOf(result);
      if (f.ok !== f.requests) problems.push(`${result.name}: ${f.requests - f.ok} request(s) not answered 2xx (${[...result.byStatus.keys()].join(", ")})`);
    }
    // A sign-out applies to the very next request: nothing caches the session.
    const signedOut = tokens[0]!;
    await api(base, "POST", "/api/v1/auth/sign-out", { token: signedOut, expect: [204] });
    const after = await api(base, "GET", "/api/v1/auth/session", { token: signedOut, expect: [200, 401] });
    if (after.status !== 401) problems.push(`a signed-out token answered ${after.status}, expected 401`);
    if (problems.length > 0) {
      console.log(`\nFAILED:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
      return 1;
    }
    console.log("\ncorrectness: OK (every request 2xx; a signed-out token is refused on the next request)");
    return 0;
  });
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
