/**
 * A closed-loop load generator: a fixed number of workers share one bounded request counter, each
 * sends its next request as soon as its previous one has answered (global fetch, undici, with
 * keep-alive). Every phase stops by itself at its request count or its deadline, whichever first.
 */

export interface PlannedRequest {
  url: string;
  init?: RequestInit;
  /** Anything the caller wants back with the outcome (e.g. which session was booked). */
  tag?: string;
}

export interface Outcome {
  index: number;
  status: number;
  /** Request sent to body read, ms. */
  latencyMs: number;
  /** `performance.now()` when the body had been read. */
  at: number;
  /** The `error.code` of an error body, if any. */
  code?: string;
  body: string;
  tag?: string;
}

export interface PhaseResult {
  name: string;
  /** Requests sent (answered or failed). */
  requests: number;
  wallMs: number;
  /** Per-request latency, request start to body read, ms. Failed requests included. */
  latencies: number[];
  /** "201", "409 SESSION_FULL", ... → count. */
  byStatus: Map<string, number>;
  /** Network failures and timeouts (no HTTP status). */
  transportErrors: number;
  /** A few examples of 5xx responses and transport errors, for the report. */
  failures: string[];
  /** True when the deadline stopped the phase before its request count. */
  cutShort: boolean;
  /** Latencies of the answered requests by status key ("201", "409 SESSION_FULL", ...). */
  latenciesByKey: Map<string, number[]>;
  /** D1 statements on the response path by status key, from X-D1-Statements / X-D1-Writes (when the service sends them). */
  d1ByKey: Map<string, D1Tally>;
}

/** Sums of the X-D1-Statements / X-D1-Writes headers over some responses. */
export interface D1Tally {
  responses: number;
  statements: number;
  writes: number;
  maxStatements: number;
  maxWrites: number;
}

const emptyTally = (): D1Tally => ({ responses: 0, statements: 0, writes: 0, maxStatements: 0, maxWrites: 0 });

function addTally(into: D1Tally, from: D1Tally): void {
  into.responses += from.responses;
  into.statements += from.statements;
  into.writes += from.writes;
  into.maxStatements = Math.max(into.maxStatements, from.maxStatements);
  into.maxWrites = Math.max(into.maxWrites, from.maxWrites);
}

/** Counts one response's headers into `tallies[key]`; a response without them is left out. */
function recordD1(tallies: Map<string, D1Tally>, key: string, headers: Headers): void {
  const statements = Number.parseInt(headers.get("X-D1-Statements") ?? "", 10);
  const writes = Number.parseInt(headers.get("X-D1-Writes") ?? "", 10);
  if (!Number.isSafeInteger(statements) || !Number.isSafeInteger(writes)) return;
  let tally = tallies.get(key);
  if (!tally) tallies.set(key, (tally = emptyTally()));
  addTally(tally, { responses: 1, statements, writes, maxStatements: statements, maxWrites: writes });
}

export interface PhaseOptions {
  name: string;
  total: number;
  concurrency: number;
  /** Epoch ms after which no new request starts. */
  deadline: number;
  requestTimeoutMs: number;
  plan: (index: number) => PlannedRequest;
  /** Called with every answered request (after its latency is taken). */
  onOutcome?: (outcome: Outcome) => void;
}

const MAX_FAILURE_EXAMPLES = 5;

function errorCodeOf(body: string): string | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { total, concurrency, deadline, requestTimeoutMs, plan, onOutcome } = options;
  const result: PhaseResult = {
    name: options.name,
    requests: 0,
    wallMs: 0,
    latencies: [],
    byStatus: new Map(),
    transportErrors: 0,
    failures: [],
    cutShort: false,
    latenciesByKey: new Map(),
    d1ByKey: new Map(),
  };
  let next = 0;

  async function worker(): Promise<void> {
    for (;;) {
      if (next >= total) return;
      if (Date.now() >= deadline) {
        result.cutShort = true;
        return;
      }
      const index = next++;
      const request = plan(index);
      const started = performance.now();
      try {
        const response = await fetch(request.url, { ...request.init, signal: AbortSignal.timeout(requestTimeoutMs) });
        const body = await response.text();
        const at = performance.now();
        const latencyMs = at - started;
        result.latencies.push(latencyMs);
        const code = response.status >= 400 ? errorCodeOf(body) : undefined;
        const key = code ? `${response.status} ${code}` : String(response.status);
        result.byStatus.set(key, (result.byStatus.get(key) ?? 0) + 1);
        const byKey = result.latenciesByKey.get(key);
        if (byKey) byKey.push(latencyMs);
        else result.latenciesByKey.set(key, [latencyMs]);
        recordD1(result.d1ByKey, key, response.headers);
        if (response.status >= 500 && result.failures.length < MAX_FAILURE_EXAMPLES) {
          result.failures.push(`${response.status} ${body.slice(0, 300)}`);
        }
        onOutcome?.({ index, status: response.status, latencyMs, at, code, body, tag: request.tag });
      } catch (error) {
        result.latencies.push(performance.now() - started);
        result.transportErrors += 1;
        if (result.failures.length < MAX_FAILURE_EXAMPLES) result.failures.push(`transport: ${String(error)}${causeOf(error)}`);
      } finally {
        result.requests += 1;
      }
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
  result.wallMs = performance.now() - started;
  return result;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return cause ? ` (cause: ${String(cause)})` : "";
}

// ---- figures --------------------------------------------------------------------------------

export interface Figures {
  requests: number;
  ok: number;
  refused: number;
  /** 5xx plus transport errors. */
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function figuresOf(phase: PhaseResult): Figures {
  const sorted = [...phase.latencies].sort((a, b) => a - b);
  let ok = 0;
  let refused = 0;
  let serverErrors = 0;
  for (const [key, count] of phase.byStatus) {
    const status = Number.parseInt(key, 10);
    if (status < 400) ok += count;
    else if (status < 500) refused += count;
    else serverErrors += count;
  }
  return {
    requests: phase.requests,
    ok,
    refused,
    errors: serverErrors + phase.transportErrors,
    rps: phase.wallMs > 0 ? (phase.requests / phase.wallMs) * 1000 : 0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : Number.NaN,
  };
}

/** "409 SESSION_FULL ×980, 429 RATE_LIMITED ×2" for the 4xx of a phase. */
export function refusalsOf(phase: PhaseResult): string {
  return [...phase.byStatus]
    .filter(([key]) => key.startsWith("4"))
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${key} ×${count}`)
    .join(", ");
}

/** Figures of the answered requests whose status key passes `keep` (throughput over the whole phase). */
export function figuresWhere(phase: PhaseResult, keep: (key: string) => boolean): Figures & { answered: number } {
  const keys = [...phase.byStatus.keys()].filter(keep);
  const latencies = keys.flatMap((key) => phase.latenciesByKey.get(key) ?? []);
  const byStatus = new Map(keys.map((key) => [key, phase.byStatus.get(key) ?? 0]));
  const answered = [...byStatus.values()].reduce((sum, count) => sum + count, 0);
  const figures = figuresOf({ ...phase, requests: answered, latencies, byStatus, transportErrors: 0 });
  return { ...figures, answered };
}

export const isRefusal = (key: string) => key.startsWith("4");

/** The trivial route's figures of two phases (before and after the measured one): their means, and how far apart they were. */
export function trivialBaseline(first: PhaseResult, second: PhaseResult) {
  const [a, b] = [figuresOf(first), figuresOf(second)];
  const mean = (x: number, y: number) => (x + y) / 2;
  const spread = mean(a.rps, b.rps) > 0 ? Math.abs(a.rps - b.rps) / mean(a.rps, b.rps) : 0;
  return { rps: mean(a.rps, b.rps), p50: mean(a.p50, b.p50), p99: mean(a.p99, b.p99), first: a, second: b, spread };
}

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "-");

/** "  name: 3000 requests in 4.1 s, 730 req/s, p50 ..., p99 ..." */
export function printProgress(result: PhaseResult): PhaseResult {
  const f = figuresOf(result);
  console.log(
    `  ${result.name}: ${f.requests} requests in ${(result.wallMs / 1000).toFixed(1)} s, ${f.rps.toFixed(0)} req/s, ` +
      `p50 ${ms(f.p50)} ms, p99 ${ms(f.p99)} ms${result.cutShort ? " (stopped by the time budget)" : ""}`,
  );
  return result;
}

/** Aligned text columns: `left` lists the columns padded on the right (text), the others are right-aligned (numbers). */
export function textTable(header: string[], rows: string[][], left: number[] = [0, header.length - 1]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (left.includes(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** One row per phase: requests, ok, refused, errors, req/s, p50/p99/max and the refusals by code. */
export function phaseTable(rows: { route: string; phase: PhaseResult }[]): string {
  const header = ["route", "requests", "ok", "refused", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "refused by code"];
  return textTable(
    header,
    rows.map(({ route, phase }) => {
      const f = figuresOf(phase);
      return [route, String(f.requests), String(f.ok), String(f.refused), String(f.errors), f.rps.toFixed(0), ms(f.p50), ms(f.p99), ms(f.max), refusalsOf(phase) || "-"];
    }),
  );
}

/** The D1 statements of the responses whose status key passes `keep`, over one or more phases. */
export function d1Where(phases: PhaseResult[], keep: (key: string) => boolean): D1Tally & { answered: number } {
  const tally = emptyTally();
  let answered = 0;
  for (const phase of phases) {
    for (const [key, count] of phase.byStatus) {
      if (!keep(key)) continue;
      answered += count;
      const d1 = phase.d1ByKey.get(key);
      if (d1) addTally(tally, d1);
    }
  }
  return { ...tally, answered };
}

/** "3000 responses: D1 statements mean 2.00, max 2; writes mean 0.00, max 0" (or why there is no figure). */
export function d1Line(tally: D1Tally & { answered: number }): string {
  if (tally.answered === 0) return "no such responses";
  if (tally.responses === 0) return `${tally.answered} responses, none with X-D1-Statements (EXPOSE_D1_STATEMENTS not "true"?)`;
  const mean = (sum: number) => (sum / tally.responses).toFixed(2);
  const missing = tally.answered - tally.responses;
  return (
    `${tally.responses} responses: D1 statements mean ${mean(tally.statements)}, max ${tally.maxStatements}; ` +
    `writes mean ${mean(tally.writes)}, max ${tally.maxWrites}${missing > 0 ? ` (a sample: ${missing} did not ask)` : ""}`
  );
}

/** "PASS"/"FAIL" after a target line. */
export const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
