/**
 * Runs the Worker locally for the benchmark: a fresh persistence directory, the D1 migrations
 * applied there, the Worker bundled once (`wrangler deploy --dry-run --outdir`), then `wrangler dev`
 * serving that bundle (`--no-bundle`) on 127.0.0.1 as a child process in its own process group,
 * so stopping it also stops the workerd processes it starts. Serving a snapshot rather than src/
 * keeps the run stable while others edit the sources: `wrangler dev` on src/ reloads the Worker
 * on every saved file. Everything the children print goes to a log file.
 */
import { type ChildProcess, childProcess, fs, path, sleep } from "./node";

export interface ServiceOptions {
  /** The project root (where wrangler.toml is). */
  cwd: string;
  port: number;
  inspectorPort: number;
  /** Directory for D1 and Durable Object state; created fresh by the caller. */
  stateDir: string;
  logPath: string;
  jwtSecret: string;
  /** wrangler's --log-level; wrangler's default ("log", as `npm start` runs it) when undefined. */
  logLevel: string | undefined;
  /** How long migrations and start-up may take, each. */
  startTimeoutMs: number;
  /** wrangler vars to override for this run (`--var NAME:value`). */
  vars?: Record<string, string> | undefined;
}

export interface LocalService {
  baseUrl: string;
  port: number;
  /** wrangler's inspector (Chrome DevTools protocol) for the Worker: bench:profile samples the CPU through it. */
  inspectorPort: number;
  /** The process group of wrangler and the workerd processes it started (its pid). */
  processGroup(): number | undefined;
  /** Stops wrangler and workerd (SIGTERM to the process group, SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Last resort from a synchronous 'exit' handler. */
  killNow(): void;
}

/** The wrangler CLI of this project, run with the Node that runs this script (the project's Node 22). */
function wranglerCommand(cwd: string, args: string[]): [string, string[]] {
  return [process.execPath as string, [path.join(cwd, "node_modules", "wrangler", "bin", "wrangler.js"), ...args]];
}

function childEnv(): Record<string, string | undefined> {
  // CI=true: no prompts, no interactive dev session; no telemetry calls from a benchmark.
  return { ...(process.env as Record<string, string | undefined>), CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };
}

function spawnLogged(cwd: string, args: string[], logFd: number): ChildProcess {
  const [command, commandArgs] = wranglerCommand(cwd, args);
  return childProcess.spawn(command, commandArgs, { cwd, env: childEnv(), stdio: ["ignore", logFd, logFd], detached: true });
}

function signalGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): void {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null | "timeout"> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  signalGroup(child, "SIGTERM");
  if ((await waitForExit(child, 5_000)) === "timeout") {
    signalGroup(child, "SIGKILL");
    await waitForExit(child, 5_000);
  }
  // wrangler may exit before its workerd does: make sure the whole group is gone.
  if (child.pid) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // No process left in the group.
    }
  }
}

/** Runs wrangler to completion within the start-up timeout, output to the log; throws on failure. */
async function runWrangler(options: ServiceOptions, logFd: number, args: string[], what: string): Promise<void> {
  fs.writeSync(logFd, `\n$ wrangler ${args.join(" ")}\n`);
  const child = spawnLogged(options.cwd, args, logFd);
  const code = await waitForExit(child, options.startTimeoutMs);
  if (code === "timeout") {
    await stopChild(child);
    throw new Error(`${what} did not finish within ${options.startTimeoutMs} ms`);
  }
  if (code !== 0) throw new Error(`${what} failed (exit code ${code})`);
}

/**
 * Applies migrations, bundles the Worker, starts `wrangler dev` on the bundle and waits until
 * GET /health answers.
 */
export async function startService(options: ServiceOptions): Promise<LocalService> {
  const logFd = fs.openSync(options.logPath, "a");
  let child: ChildProcess | undefined;
  const service: LocalService = {
    baseUrl: `http://127.0.0.1:${options.port}`,
    port: options.port,
    inspectorPort: options.inspectorPort,
    processGroup: () => child?.pid,
    async stop() {
      if (child) await stopChild(child);
      child = undefined;
      try {
        fs.closeSync(logFd);
      } catch {
        // Closed already.
      }
    },
    killNow() {
      if (child) signalGroup(child, "SIGKILL");
    },
  };
  try {
    const config = path.join(options.cwd, "wrangler.toml");
    await runWrangler(options, logFd, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", options.stateDir, "-c", config], "migrations");
    const bundleDir = path.join(options.stateDir, "bundle");
    await runWrangler(options, logFd, ["deploy", "--dry-run", "--outdir", bundleDir, "-c", config], "bundling the Worker");
    const args = [
      "dev",
      path.join(bundleDir, "index.js"),
      "-c", config,
      "--no-bundle",
      "--ip", "127.0.0.1",
      "--port", String(options.port),
      "--inspector-port", String(options.inspectorPort),
      "--persist-to", options.stateDir,
      "--var", `JWT_SECRET:${options.jwtSecret}`,
      // As `npm start` runs it: messages go to the dev mailbox.
      "--var", "ENVIRONMENT:development",
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ...(options.logLevel ? ["--log-level", options.logLevel] : []),
      "--show-interactive-dev-session=false",
    ];
    fs.writeSync(logFd, `\n$ wrangler ${args.map((arg) => (arg.startsWith("JWT_SECRET:") ? "JWT_SECRET:<random>" : arg)).join(" ")}\n`);
    child = spawnLogged(options.cwd, args, logFd);
    const started = child;
    started.on("error", (error) => fs.writeSync(logFd, `\nbench: could not start wrangler: ${String(error)}\n`));
    await waitForHealth(service.baseUrl, started, options.startTimeoutMs);
    return service;
  } catch (error) {
    await service.stop();
    throw error;
  }
}

async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited before it was ready (exit code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.text();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev did not answer GET /health within ${timeoutMs} ms`);
}
