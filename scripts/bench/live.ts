/**
 * Live capacity benchmark: `npm run bench:live [-- --subscribers 1000 --changes 50 ...]`.
 *
 * Starts the Worker locally like bench:booking (harness.ts: `wrangler dev` on 127.0.0.1, a free
 * port, fresh state), creates a session through the admin API, then:
 *
 *   warm-up      bookings, cancellations and a few subscribers on another session, not measured
 *   subscribe    N WebSockets on GET /api/v1/sessions/{id}/live, from a worker thread
 *                (live-subscribers.ts), each waiting for its snapshot
 *   changes      one at a time, alternately a booking and the cancellation of that booking; for
 *                each, the time from its HTTP response arriving to the LAST subscriber receiving
 *                the broadcast with its version (the snapshot's version + the change's number),
 *                with a GET /health between changes as the trivial route of the same run
 *   verify       every subscriber got exactly the versions after its snapshot, in order, none
 *                missing, repeated or extra; the session's own version and seats agree
 *
 * Exit code: 0 when no update was lost or reordered (the latency target is printed as PASS/FAIL,
 * not enforced); 1 on a lost, reordered or late (past --update-timeout-ms) update, a failed
 * connection, or an unexpected HTTP answer; 2 when the service could not be run.
 * Only 127.0.0.1 is ever contacted.
 */
import { cpuBetween, snapshot } from "./cpu";
import { api, type BenchContext, createCatalog, guestBooking, guestHeaders, parseBenchArgs, runBench } from "./harness";
import type { SubscribersCommand, SubscribersInit, SubscribersReport } from "./live-subscribers";
import { percentile } from "./load";
import { type NodeWorker, preciseNow, workerThreads } from "./node";

const USAGE = `usage: npm run bench:live -- [options]
  --subscribers N          WebSocket subscribers on the session (default 1000)
  --changes N              bookings and cancellations, alternately, one at a time (default 50)
  --connect-concurrency N  subscribers connecting at once (default 50)
  --origin ORIGIN          Origin header the subscribers send (default http://localhost:5173, allowed
                           by LIVE_ALLOWED_ORIGINS in wrangler.toml); --origin none sends none
  --update-timeout-ms N    how long every subscriber may take to receive an update (default 10000)
  --warmup N               unmeasured changes on a warm-up session first (default 20)
  --target-p99-ms N        the p99 printed as PASS/FAIL (default 250)
  --log-level LEVEL        wrangler dev --log-level (default: wrangler's own)
  --keep                   keep the state directory and the log afterwards`;

interface Options {
  subscribers: number;
  changes: number;
  connectConcurrency: number;
  origin: string | undefined;
  updateTimeoutMs: number;
  warmup: number;
  targetP99Ms: number;
  logLevel: string | undefined;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values, int, logLevel } = parseBenchArgs(argv, USAGE, {
    strings: ["subscribers", "changes", "connect-concurrency", "origin", "update-timeout-ms", "warmup", "target-p99-ms", "log-level"],
    booleans: ["keep"],
  });
  const origin = (values.origin as string | undefined) ?? "http://localhost:5173";
  return {
    subscribers: int("subscribers", 1000, 1, 1999),
    changes: int("changes", 50, 2, 10_000),
    connectConcurrency: int("connect-concurrency", 50, 1, 1000),
    origin: origin === "none" ? undefined : origin,
    updateTimeoutMs: int("update-timeout-ms", 10_000, 100, 120_000),
    warmup: int("warmup", 20, 0, 1000),
    targetP99Ms: int("target-p99-ms", 250, 1, 60_000),
    logLevel,
    keep: values.keep === true,
  };
}

// ---- the subscribers' thread ----------------------------------------------------------------------

/** The worker thread holding the subscribers, and a way to wait for its next report of a kind. */
class Subscribers {
  private readonly worker: NodeWorker;
  private readonly pending: SubscribersReport[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(init: SubscribersInit) {
    // tsx's loader in the worker too, so it runs the TypeScript file as this process does.
    this.worker = new workerThreads.Worker(new URL("./live-subscribers.ts", (import.meta as unknown as { url: string }).url), { workerData: init, execArgv: ["--import", "tsx"] });
    this.worker.on("message", (message) => {
      this.pending.push(message as SubscribersReport);
      this.wake?.();
    });
    this.worker.on("error", (error) => {
      this.failure = error;
      this.wake?.();
    });
  }

  send(command: SubscribersCommand): void {
    this.worker.postMessage(command);
  }

  async next<T extends SubscribersReport["type"]>(type: T, timeoutMs: number): Promise<Extract<SubscribersReport, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure) throw this.failure;
      const index = this.pending.findIndex((report) => report.type === type);
      if (index >= 0) return this.pending.splice(index, 1)[0] as Extract<SubscribersReport, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the subscribers' thread sent no "${type}" report within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

// ---- the run ------------------------------------------------------------------------------------

interface ChangeTiming {
  kind: "booking" | "cancellation";
  version: number;
  /** The change's own request: sent to response headers, ms. */
  requestMs: number;
  /** Response arrived → first and last subscriber received the update, ms (negative: before the response). */
  firstMs: number;
  lastMs: number;
  delivered: number;
  complete: boolean;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; sentAt: number; answeredAt: number }> {
  const sentAt = preciseNow();
  const value = await work();
  return { value, sentAt, answeredAt: preciseNow() };
}

interface ChangeRequest {
  path: string;
  body?: unknown;
  headers: Record<string, string>;
}

/** One booking or cancellation; resolves when the response headers arrived (the body is read after). */
function change(base: string, request: ChangeRequest): Promise<Response> {
  return fetch(`${base}${request.path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...request.headers },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: AbortSignal.timeout(30_000),
  });
}

async function measure(context: BenchContext, options: Options): Promise<number> {
  const { base, adminToken, runId, service } = context;
  const problems: string[] = [];
  const catalog = await createCatalog(base, adminToken, runId);
  const capacity = Math.max(10, options.changes);
  const warm = await catalog.session("warm-up", 0, capacity);
  const live = await catalog.session("live", 1, capacity);
  console.log(`fixtures: class price ${catalog.pricePence} p; sessions warm-up ${warm.id}, live ${live.id} (capacity ${capacity})`);

  let guest = 0;
  const bookingRequest = (session: typeof live): ChangeRequest => {
    guest += 1;
    return { path: "/api/v1/bookings", body: guestBooking(runId, guest, session, catalog.pricePence), headers: { ...guestHeaders(guest), "Idempotency-Key": `bench-${runId}-${guest}` } };
  };
  const cancelRequest = (booking: { id: string; manageToken: string }): ChangeRequest => ({
    path: `/api/v1/bookings/${booking.id}/cancel`,
    headers: { "X-Manage-Token": booking.manageToken, "Idempotency-Key": `bench-${runId}-cancel-${booking.id}` },
  });
  const wsUrl = (sessionId: string) => `${base.replace(/^http/, "ws")}/api/v1/sessions/${sessionId}/live`;

  // ---- warm-up: the same routes, on another session, not measured
  if (options.warmup > 0) {
    const warmSubscribers = new Subscribers({ url: wsUrl(warm.id), count: 5, concurrency: 5, origin: options.origin, connectTimeoutMs: 30_000 });
    const connected = await warmSubscribers.next("connected", 60_000);
    if (connected.open !== 5) problems.push(`warm-up subscribers: ${connected.failures.join("; ")}`);
    let open: { id: string; manageToken: string } | null = null;
    for (let i = 0; i < options.warmup; i++) {
      await api(base, "GET", "/health");
      const request = open ? cancelRequest(open) : bookingRequest(warm);
      const answer = await api(base, "POST", request.path, { body: request.body, headers: request.headers });
      open = open ? null : { id: answer.json.booking.id, manageToken: answer.json.manageToken };
    }
    warmSubscribers.send({ type: "close" });
    await warmSubscribers.next("closed", 10_000);
    await warmSubscribers.stop();
    console.log(`warm-up: ${options.warmup} changes and 5 subscribers on the warm-up session`);
  }

  // ---- subscribe
  const subscribers = new Subscribers({
    url: wsUrl(live.id),
    count: options.subscribers,
    concurrency: options.connectConcurrency,
    origin: options.origin,
    connectTimeoutMs: 60_000,
  });
  try {
    const connected = await subscribers.next("connected", 300_000);
    console.log(
      `subscribed: ${connected.open} of ${options.subscribers} WebSockets open in ${(connected.wallMs / 1000).toFixed(1)} s ` +
        `(${options.connectConcurrency} connecting at once, Origin ${options.origin ?? "(none)"}); snapshot version(s) ${connected.snapshotVersions.join(", ")}`,
    );
    if (connected.failures.length > 0) {
      console.log(`\nFAILED: ${connected.failures.length} subscriber(s) could not connect, e.g. ${[...new Set(connected.failures)].slice(0, 3).join("; ")}`);
      return 1;
    }
    if (connected.snapshotVersions.length !== 1) problems.push(`subscribers got different snapshot versions: ${connected.snapshotVersions.join(", ")}`);
    const before = (await api(base, "GET", `/api/v1/sessions/${live.id}/availability`)).json;
    const v0 = before.version as number;
    if (connected.snapshotVersions[0] !== v0) problems.push(`snapshot version ${connected.snapshotVersions[0]} but /availability says ${v0}`);

    // ---- changes, one at a time
    const timings: ChangeTiming[] = [];
    const trivial: number[] = [];
    let open: { id: string; manageToken: string } | null = null;
    const cpuBefore = snapshot(service.processGroup(), service.port);
    const phaseStarted = preciseNow();
    for (let i = 0; i < options.changes; i++) {
      const health = await timed(() => fetch(`${base}/health`).then((response) => response.text()));
      trivial.push(health.answeredAt - health.sentAt);

      const kind = open ? "cancellation" : "booking";
      const request = open ? cancelRequest(open) : bookingRequest(live);
      const version = v0 + i + 1;
      const { value: response, sentAt, answeredAt } = await timed(() => change(base, request));
      const text = await response.text();
      if (response.status !== (kind === "booking" ? 201 : 200)) {
        problems.push(`${kind} #${i + 1} answered ${response.status}: ${text.slice(0, 300)}`);
        break;
      }
      if (kind === "booking") {
        const { booking, manageToken } = JSON.parse(text) as { booking: { id: string }; manageToken: string };
        open = { id: booking.id, manageToken };
      } else {
        open = null;
      }
      subscribers.send({ type: "await", version, timeoutMs: options.updateTimeoutMs });
      const delivered = await subscribers.next("delivered", options.updateTimeoutMs + 10_000);
      timings.push({
        kind,
        version,
        requestMs: answeredAt - sentAt,
        firstMs: delivered.firstAt - answeredAt,
        lastMs: delivered.lastAt - answeredAt,
        delivered: delivered.count,
        complete: delivered.complete,
      });
      if (!delivered.complete) {
        problems.push(`version ${version} (${kind} #${i + 1}) reached ${delivered.count} of ${options.subscribers} subscribers within ${options.updateTimeoutMs} ms`);
      }
    }
    const phaseMs = preciseNow() - phaseStarted;
    const cpu = cpuBetween(cpuBefore, snapshot(service.processGroup(), service.port), timings.length);

    // ---- verify
    const expected = timings.map((timing) => timing.version);
    subscribers.send({ type: "verify", expected });
    const verified = await subscribers.next("verified", 60_000);
    const after = (await api(base, "GET", `/api/v1/sessions/${live.id}/availability`)).json;
    const lost = verified.sockets - verified.exact;
    if (lost > 0 || verified.closed > 0) {
      problems.push(
        `${lost} of ${verified.sockets} subscriber(s) did not get exactly versions ${v0 + 1}..${v0 + timings.length} in order ` +
          `(${verified.missing} missing, ${verified.unexpected} repeated, out of order or extra; ${verified.closed} closed): ${verified.examples.join(" | ")}`,
      );
    }
    if (after.version !== v0 + timings.length) problems.push(`the session's version is ${after.version}, expected ${v0 + timings.length} after ${timings.length} changes`);
    const expectedSpots = capacity - (open ? 1 : 0);
    if (after.availableSpots !== expectedSpots || after.held !== 0) {
      problems.push(`the session has ${after.availableSpots} spots left and ${after.held} held, expected ${expectedSpots} and 0`);
    }

    printReport(options, timings, trivial, phaseMs, verified, cpu?.perRequest);
    if (problems.length > 0) {
      console.log(`\nFAILED: ${problems.length} problem(s)`);
      for (const problem of problems) console.log(`  - ${problem}`);
      return 1;
    }
    console.log(
      `\ncorrectness: OK (${verified.sockets} subscribers each received all ${timings.length} updates, versions ${v0 + 1}..${v0 + timings.length}, ` +
        "in order, nothing lost, repeated or extra; the session's version and seats agree)",
    );
    subscribers.send({ type: "close" });
    await subscribers.next("closed", 10_000);
    return 0;
  } finally {
    await subscribers.stop();
  }
}

// ---- report -------------------------------------------------------------------------------------

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "-");

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

function printReport(
  options: Options,
  timings: ChangeTiming[],
  trivial: number[],
  phaseMs: number,
  verified: Extract<SubscribersReport, { type: "verified" }>,
  cpuPerChange: Map<string, number> | undefined,
): void {
  const complete = timings.filter((timing) => timing.complete);
  const rows: [string, ReturnType<typeof stats>][] = [
    ["response → LAST subscriber has the update", stats(complete.map((t) => t.lastMs))],
    ["response → first subscriber has it", stats(complete.map((t) => t.firstMs))],
    ["fan-out: first → last subscriber", stats(complete.map((t) => t.lastMs - t.firstMs))],
    ["request sent → LAST subscriber has it", stats(complete.map((t) => t.lastMs + t.requestMs))],
    ["booking request (sent → response)", stats(timings.filter((t) => t.kind === "booking").map((t) => t.requestMs))],
    ["cancellation request (sent → response)", stats(timings.filter((t) => t.kind === "cancellation").map((t) => t.requestMs))],
    ["GET /health (trivial, same run)", stats(trivial)],
  ];
  console.log(
    `\nResults: ${timings.length} changes one at a time in ${(phaseMs / 1000).toFixed(1)} s, ${verified.sockets} subscribers ` +
      `(${verified.sockets * timings.length} messages). Negative: every subscriber had it before the response arrived.\n`,
  );
  const header = ["measure", "n", "p50 ms", "p99 ms", "max ms"];
  const body = rows.map(([name, s]) => [name, String(s.n), ms(s.p50), ms(s.p99), ms(s.max)]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n"));

  const last = rows[0]![1];
  const health = rows[6]![1];
  // How long after the response the last subscriber has it, in units of the cheapest request the service answers.
  const lastAfterResponse = Math.max(0, last.p99);
  console.log(
    `\nlast subscriber p99 ÷ GET /health p99: ${ms(lastAfterResponse)} / ${ms(health.p99)} = ${(health.p99 > 0 ? lastAfterResponse / health.p99 : Number.NaN).toFixed(2)}` +
      `  (booking p50 ÷ /health p50: ${(rows[3]![1].p50 / health.p50).toFixed(2)})`,
  );
  console.log(`last subscriber p99: ${ms(last.p99)} ms  target < ${options.targetP99Ms} ms  ${last.p99 < options.targetP99Ms ? "PASS" : "FAIL"}`);
  if (cpuPerChange) {
    const parts = [...cpuPerChange].map(([role, value]) => `${role} ${value.toFixed(1)}`);
    console.log(`CPU ms per change (incl. its broadcast and one GET /health): ${parts.join(", ")}`);
  }
}

function run(options: Options): Promise<number> {
  return runBench(
    {
      title: "Live capacity benchmark",
      parameters:
        `${options.subscribers} subscribers (${options.connectConcurrency} connecting at once), ${options.changes} changes, ` +
        `update timeout ${options.updateTimeoutMs} ms, warm-up ${options.warmup} changes`,
      logLevel: options.logLevel,
      keep: options.keep,
      watchdogSeconds: 600 + Math.ceil((options.changes * (options.updateTimeoutMs + 2_000)) / 1000),
      // Every subscriber connects from 127.0.0.1: lift the per-client cap (not the per-session one) for this run.
      vars: { MAX_LIVE_CONNECTIONS_PER_CLIENT: String(options.subscribers + 10) },
    },
    (context) => measure(context, options),
  );
}

process.exitCode = await run(parseOptions(process.argv.slice(2)));
