/**
 * The few Node built-ins the benchmark uses, loaded through process.getBuiltinModule and typed
 * here by hand: the project's types are the Workers ones, without @types/node (as in scripts/token.ts).
 */

export interface ChildProcess {
  pid?: number;
  exitCode: number | null;
  signalCode: string | null;
  on(event: "exit", listener: (code: number | null, signal: string | null) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  once(event: "exit", listener: (code: number | null, signal: string | null) => void): void;
  unref(): void;
}

interface NodeChildProcess {
  spawn(
    command: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string | undefined>; stdio?: unknown[]; detached?: boolean },
  ): ChildProcess;
}

interface NodeFs {
  existsSync(path: string): boolean;
  mkdirSync(path: string, options?: { recursive?: boolean }): void;
  mkdtempSync(prefix: string): string;
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  writeSync(fd: number, text: string): number;
  writeFileSync(path: string, text: string): void;
  readFileSync(path: string, encoding: "utf8"): string;
  readdirSync(path: string): string[];
}

interface NodeOs {
  tmpdir(): string;
  cpus(): { model: string; speed: number }[];
  totalmem(): number;
  loadavg(): number[];
  platform(): string;
  release(): string;
}

interface NodePath {
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
}

interface NodeNet {
  createServer(): {
    listen(port: number, host: string, callback: () => void): void;
    address(): { port: number } | string | null;
    close(callback: () => void): void;
    on(event: "error", listener: (error: Error) => void): void;
  };
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
}

interface NodeUtil {
  parseArgs(config: {
    args: string[];
    options: Record<string, { type: "string" | "boolean"; short?: string }>;
    allowPositionals: boolean;
  }): ParsedArgs;
}

/** The parts of node:worker_threads the live benchmark uses. */
export interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: unknown) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
  terminate(): Promise<number>;
}

interface NodeWorkerThreads {
  Worker: new (file: URL, options: { workerData?: unknown; execArgv?: string[] }) => NodeWorker;
  parentPort: { postMessage(message: unknown): void; on(event: "message", listener: (message: unknown) => void): void } | null;
  workerData: unknown;
}

export const childProcess = process.getBuiltinModule("node:child_process") as NodeChildProcess;
export const fs = process.getBuiltinModule("node:fs") as NodeFs;
export const os = process.getBuiltinModule("node:os") as NodeOs;
export const path = process.getBuiltinModule("node:path") as NodePath;
export const net = process.getBuiltinModule("node:net") as NodeNet;
export const util = process.getBuiltinModule("node:util") as NodeUtil;
export const workerThreads = process.getBuiltinModule("node:worker_threads") as NodeWorkerThreads;

/** Epoch ms with sub-millisecond precision, comparable between this thread and worker threads. */
export const preciseNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
