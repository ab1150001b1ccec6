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
        result.latencies.push(performance.now() - started);
        const code = response.status >= 400 ? errorCodeOf(body) : undefined;
        const key = code ? `${response.status} ${code}` : String(response.status);
        result.byStatus.set(key, (result.byStatus.get(key) ?? 0) + 1);
        if (response.status >= 500 && result.failures.length < MAX_FAILURE_EXAMPLES) {
          result.failures.push(`${response.status} ${body.slice(0, 300)}`);
        }
        onOutcome?.({ index, status: response.status, code, body, tag: request.tag });
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
