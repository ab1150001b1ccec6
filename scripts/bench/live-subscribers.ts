/**
 * The subscribers of the live benchmark, run in a worker thread so that receiving 1,000 copies of
 * every broadcast never delays the thread that sends the changes and takes their timings.
 *
 * Opens `count` WebSockets (Node's global WebSocket client) on one session's live feed, keeps what
 * every socket received, and answers the main thread's commands: when has every socket received
 * version v (first and last arrival), and does every socket hold exactly the expected versions,
 * in order, after its snapshot.
 */
import { preciseNow, workerThreads } from "./node";

export interface SubscribersInit {
  url: string;
  count: number;
  /** Connections being opened at once. */
  concurrency: number;
  /** Origin header to send, if any (Node's WebSocket sends none by default). */
  origin: string | undefined;
  connectTimeoutMs: number;
}

export type SubscribersCommand = { type: "await"; version: number; timeoutMs: number } | { type: "verify"; expected: number[] } | { type: "close" };

export type SubscribersReport =
  | { type: "connected"; open: number; failures: string[]; snapshotVersions: number[]; wallMs: number }
  | { type: "delivered"; version: number; count: number; firstAt: number; lastAt: number; complete: boolean }
  | { type: "verified"; sockets: number; exact: number; missing: number; unexpected: number; closed: number; examples: string[] }
  | { type: "closed" };

/** Node's WebSocket takes headers as a second argument (undici's WebSocketInit), unlike the Workers one this project is typed with. */
type NodeWebSocket = new (url: string, init?: { headers?: Record<string, string> }) => WebSocket;

interface Subscriber {
  socket: WebSocket;
  snapshotVersion: number | null;
  /** Versions of the capacity messages after the snapshot, as they arrived. */
  versions: number[];
  close: { code: number; reason: string } | null;
}

interface Arrivals {
  count: number;
  firstAt: number;
  lastAt: number;
}

const { parentPort, workerData } = workerThreads;
if (!parentPort) throw new Error("live-subscribers runs as a worker thread of scripts/bench/live.ts");
const port = parentPort;
const init = workerData as SubscribersInit;
const subscribers: Subscriber[] = [];
const arrivals = new Map<number, Arrivals>();
const waiting = new Map<number, ReturnType<typeof setTimeout>>();

function report(message: SubscribersReport): void {
  port.postMessage(message);
}

function reportDelivered(version: number, complete: boolean): void {
  const seen = arrivals.get(version);
  report({ type: "delivered", version, count: seen?.count ?? 0, firstAt: seen?.firstAt ?? Number.NaN, lastAt: seen?.lastAt ?? Number.NaN, complete });
}

function onMessage(subscriber: Subscriber, data: unknown): void {
  const at = preciseNow();
  if (typeof data !== "string") return;
  const message = JSON.parse(data) as { type?: string; version?: number };
  if (message.type === "snapshot") {
    subscriber.snapshotVersion = message.version ?? null;
    return;
  }
  if (message.type !== "capacity" || typeof message.version !== "number") return;
  subscriber.versions.push(message.version);
  const seen = arrivals.get(message.version);
  if (seen) {
    seen.count += 1;
    seen.lastAt = at;
  } else {
    arrivals.set(message.version, { count: 1, firstAt: at, lastAt: at });
  }
  if (arrivals.get(message.version)!.count === subscribers.length && waiting.has(message.version)) {
    clearTimeout(waiting.get(message.version)!);
    waiting.delete(message.version);
    reportDelivered(message.version, true);
  }
}

/** Opens one subscriber; resolves once its snapshot has arrived, rejects on failure or timeout. */
function connect(): Promise<Subscriber> {
  const headers = init.origin ? { Origin: init.origin } : undefined;
  const socket = new (WebSocket as unknown as NodeWebSocket)(init.url, { headers });
  const subscriber: Subscriber = { socket, snapshotVersion: null, versions: [], close: null };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no snapshot within ${init.connectTimeoutMs} ms`)), init.connectTimeoutMs);
    socket.addEventListener("message", (event) => {
      onMessage(subscriber, event.data);
      if (subscriber.snapshotVersion !== null) {
        clearTimeout(timer);
        resolve(subscriber);
      }
    });
    socket.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error("connection failed (network error or a status other than 101)"));
    });
    socket.addEventListener("close", (event) => {
      subscriber.close = { code: event.code, reason: event.reason };
      clearTimeout(timer);
      reject(new Error(`closed before its snapshot: ${event.code} ${event.reason}`));
    });
  });
}

async function connectAll(): Promise<void> {
  const started = preciseNow();
  const failures: string[] = [];
  let next = 0;
  const opener = async () => {
    while (next < init.count) {
      next += 1;
      try {
        subscribers.push(await connect());
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(init.concurrency, init.count) }, opener));
  report({
    type: "connected",
    open: subscribers.length,
    failures,
    snapshotVersions: [...new Set(subscribers.map((s) => s.snapshotVersion ?? -1))],
    wallMs: preciseNow() - started,
  });
}

/** Every socket must hold exactly `expected`, in that order, and still be open. */
function verify(expected: number[]): void {
  let exact = 0;
  let missing = 0;
  let unexpected = 0;
  let closed = 0;
  const examples: string[] = [];
  for (const [index, subscriber] of subscribers.entries()) {
    const got = subscriber.versions;
    const same = got.length === expected.length && got.every((version, i) => version === expected[i]);
    if (subscriber.close) {
      closed += 1;
      if (examples.length < 5) examples.push(`socket ${index} closed: ${subscriber.close.code} ${subscriber.close.reason}`);
    }
    if (same) {
      exact += 1;
      continue;
    }
    const wanted = new Set(expected);
    missing += expected.filter((version) => !got.includes(version)).length;
    unexpected += got.filter((version, i) => !wanted.has(version) || (i > 0 && version <= got[i - 1]!)).length;
    if (examples.length < 5) examples.push(`socket ${index}: snapshot ${subscriber.snapshotVersion}, then ${got.join(",")}`);
  }
  report({ type: "verified", sockets: subscribers.length, exact, missing, unexpected, closed, examples });
}

port.on("message", (raw) => {
  const command = raw as SubscribersCommand;
  if (command.type === "await") {
    if ((arrivals.get(command.version)?.count ?? 0) >= subscribers.length) {
      reportDelivered(command.version, true);
      return;
    }
    waiting.set(
      command.version,
      setTimeout(() => {
        waiting.delete(command.version);
        reportDelivered(command.version, false);
      }, command.timeoutMs),
    );
  } else if (command.type === "verify") {
    verify(command.expected);
  } else {
    for (const subscriber of subscribers) subscriber.socket.close(1000, "bench done");
    report({ type: "closed" });
  }
});

await connectAll();
