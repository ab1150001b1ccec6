/**
 * Where a booking's CPU goes: `npm run bench:profile [-- --requests 1500 --concurrency 20 --capacity 20]`.
 *
 * Starts the Worker as the other benches do, books a warm-up, then samples the Worker's isolate
 * (the Worker and its Durable Objects; the local D1 runs elsewhere) through wrangler's inspector
 * with the Chrome DevTools protocol's Profiler while `--requests` guests book one hot session.
 * Prints the functions with the most self time and the most inclusive time (our code, by
 * source-map-free bundle names), and writes the whole profile to `--out` (open it in Chrome's
 * DevTools, Performance tab) when given. Only 127.0.0.1 is contacted.
 */
import { guestPlanner, BookingLedger, phaseRunner, warmUp } from "./guests";
import { COMMON_STRING_OPTIONS, commonOptions, commonUsage, createCatalog, parseBenchArgs, runBench } from "./harness";
import { printProgress, textTable } from "./load";
import { fs } from "./node";

const DEFAULTS = { concurrency: 20, warmup: 300, maxSeconds: 240 };
const USAGE = `usage: npm run bench:profile -- [options]
  --requests N     bookings sampled (default 1500)
  --capacity N     seats of the sampled session (default 10000; 20 samples mostly refusals)
  --top N          rows printed per table (default 40)
  --out FILE       write the .cpuprofile there
${commonUsage(DEFAULTS)}`;

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** A minimal CDP client over the inspector's WebSocket (Node 22 has WebSocket built in). */
async function connect(inspectorPort: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl?: string; title?: string }[];
  const target = targets.find((t) => t.webSocketDebuggerUrl && !/miniflare|proxy|internal/i.test(t.title ?? "")) ?? targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target on ${inspectorPort}: ${JSON.stringify(targets)}`);
  // The inspector proxy accepts only local origins; Node's WebSocket (undici) takes extra headers.
  const socket = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://127.0.0.1" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", (event) => reject(new Error(`inspector: ${(event as ErrorEvent).message}`)), { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, (value: { result?: unknown; error?: unknown }) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message);
  });
  const send = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    const id = nextId++;
    const reply = await new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
    waiting.delete(id);
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result as T;
  };
  return { target: target.title ?? "", send, close: () => socket.close() };
}

const frameName = (frame: CallFrame) => `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop() ?? ""}:${frame.lineNumber + 1}`;

/** Self and inclusive sample counts per function (a recursive function counted once per stack). */
function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    total += 1;
    const name = frameName(node.callFrame);
    if (node.callFrame.functionName === "(idle)") idle += 1;
    self.set(name, (self.get(name) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = frameName(byId.get(at)!.callFrame);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + 1);
    }
  }
  return { self, inclusive, total, idle };
}

function table(title: string, counts: Map<string, number>, busy: number, perRequestMs: number, top: number): void {
  const rows = [...counts].filter(([name]) => !name.startsWith("(idle)") && !name.startsWith("(root)") && !name.startsWith("(program)")).sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`\n${title}\n`);
  console.log(textTable(["function", "% of busy", "ms per booking"], rows.map(([name, n]) => [name.slice(0, 110), ((n / busy) * 100).toFixed(1), ((n / busy) * perRequestMs).toFixed(3)]), [0]));
}

function run(argv: string[]): Promise<number> {
  const parsed = parseBenchArgs(argv, USAGE, { strings: ["requests", "capacity", "top", "out", ...COMMON_STRING_OPTIONS], booleans: ["keep"] });
  const options = { ...commonOptions(parsed, DEFAULTS), requests: parsed.int("requests", 1500, 1, 100_000), capacity: parsed.int("capacity", 10_000, 1, 10_000), top: parsed.int("top", 40, 1, 500), out: parsed.values.out as string | undefined };
  const setup = { title: "Booking CPU profile", parameters: `concurrency ${options.concurrency}, ${options.requests} bookings on capacity ${options.capacity}`, logLevel: options.logLevel, keep: options.keep, watchdogSeconds: options.maxSeconds + 240 };
  return runBench(setup, async ({ service, base, adminToken, runId }) => {
    const catalog = await createCatalog(base, adminToken, runId);
    const warm = await catalog.session("warm-up", 0, 10_000);
    const hot = await catalog.session("hot", 1, options.capacity);
    const ledger = new BookingLedger();
    const phase = phaseRunner({ concurrency: options.concurrency, deadline: Date.now() + options.maxSeconds * 1000, requestTimeoutMs: options.requestTimeoutMs, ledger });
    const booking = guestPlanner(base, runId, catalog.pricePence);
    await warmUp(base, phase, booking, warm, options.warmup);

    const inspector = await connect(service.inspectorPort);
    console.log(`inspector target: ${inspector.target}`);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
    await inspector.send("Profiler.start");
    const result = printProgress(await phase("sampled bookings", options.requests, () => booking(hot)));
    const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
    inspector.close();
    if (options.out) fs.writeFileSync(options.out, JSON.stringify(profile));

    const { self, inclusive, total, idle } = summarise(profile);
    const busy = Math.max(1, total - idle);
    const seconds = (profile.endTime - profile.startTime) / 1e6;
    const perRequestMs = ((busy / total) * seconds * 1000) / Math.max(1, result.requests);
    console.log(`\n${total} samples over ${seconds.toFixed(1)} s; the isolate was busy in ${((busy / total) * 100).toFixed(0)}% of them: ${perRequestMs.toFixed(2)} ms of isolate time per booking`);
    table("Self time", self, busy, perRequestMs, options.top);
    table("Inclusive time", inclusive, busy, perRequestMs, options.top);
    const unexpected = [...result.byStatus.keys()].filter((key) => key !== "201" && key !== "409 SESSION_FULL");
    return unexpected.length === 0 && result.transportErrors === 0 ? 0 : 1;
  });
}

process.exitCode = await run(process.argv.slice(2));
