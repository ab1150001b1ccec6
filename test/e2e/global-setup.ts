/**
 * The service the Chromium tests drive, started once for the whole run as `npm start` starts it
 * (client bundle built, D1 migrated, demo catalog seeded, `wrangler dev`, ENVIRONMENT=development
 * so messages land in the dev mailbox), but on a free port with fresh state in a temporary folder,
 * so a run never touches a developer's .wrangler/state nor their port 8787.
 *
 * `scripts/seed.ts` opens the D1 of the wrangler.toml in its working directory's
 * `.wrangler/state`: it runs in a temporary project folder that links to this one's files, whose
 * `.wrangler/state` is the state `wrangler dev` is given (`--persist-to`). The service itself is
 * `scripts/bench/service.ts`, which serves a bundle of the Worker (edits to src/ during a run
 * change nothing) and stops wrangler with its workerd processes afterwards.
 */
import type { TestProject } from "vitest/node";
import { claimsFor, signJwt } from "../../src/lib/jwt-claims";
import { childProcess, freePort, fs, os, path } from "../../scripts/bench/node";
import { type LocalService, startService } from "../../scripts/bench/service";

declare module "vitest" {
  export interface ProvidedContext {
    /** The service's origin, e.g. http://127.0.0.1:41234. */
    baseUrl: string;
    /** A sessionless admin bearer token for this run's secret (development only), for API setup. */
    adminToken: string;
  }
}

/** The fs calls this file needs beyond those scripts/bench/node.ts types (no @types/node here). */
const moreFs = fs as unknown as {
  symlinkSync(target: string, link: string): void;
  writeFileSync(path: string, text: string): void;
  copyFileSync(from: string, to: string): void;
};

const ROOT = path.resolve(new URL("../..", import.meta.url).pathname);
const OUTPUT = path.join(ROOT, "test-output");
const START_TIMEOUT_MS = 180_000;
/** What the seed's temporary project needs from this one. */
const LINKED = ["wrangler.toml", "package.json", "tsconfig.json", "src", "scripts", "public", "migrations", "node_modules"];

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Runs `node <args>` in `cwd` to completion, output appended to the log; throws on failure. */
function runNode(args: string[], cwd: string, logPath: string, what: string): Promise<void> {
  const logFd = fs.openSync(logPath, "a");
  fs.writeSync(logFd, `\n$ (${cwd}) node ${args.join(" ")}\n`);
  const env = { ...(process.env as Record<string, string | undefined>), CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };
  const child = childProcess.spawn(process.execPath as string, args, { cwd, env, stdio: ["ignore", logFd, logFd] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${START_TIMEOUT_MS} ms (log: ${logPath})`)), START_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fs.closeSync(logFd);
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (exit code ${code}); see ${logPath}`));
    });
  });
}

/** Starts the service; returns the teardown that stops it and removes its state. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  fs.mkdirSync(path.join(OUTPUT, "screenshots"), { recursive: true });
  const tempProject = fs.mkdtempSync(path.join(os.tmpdir(), "class-booking-e2e-"));
  // Beside the state while running (two runs at once must not share a log), copied to test-output/ at the end.
  const logPath = `${tempProject}.log`;
  const keptLog = path.join(OUTPUT, "e2e-service.log");
  const stateDir = path.join(tempProject, ".wrangler", "state");
  const jwtSecret = randomHex(32);
  const keep = Boolean(process.env.E2E_KEEP);
  let service: LocalService | undefined;
  const removeState = () => {
    moreFs.copyFileSync(logPath, keptLog);
    if (keep) return;
    fs.rmSync(tempProject, { recursive: true, force: true });
    fs.rmSync(logPath, { force: true });
  };
  process.on("exit", () => service?.killNow());

  try {
    const [port, inspectorPort] = [await freePort(), await freePort()];
    const baseUrl = `http://127.0.0.1:${port}`;
    for (const name of LINKED) moreFs.symlinkSync(path.join(ROOT, name), path.join(tempProject, name));
    // The seed reads the whole configuration: the run's own secret, and development as npm start has it.
    moreFs.writeFileSync(path.join(tempProject, ".dev.vars"), `JWT_SECRET=${jwtSecret}\nENVIRONMENT=development\n`);

    const wrangler = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    await runNode([path.join(ROOT, "scripts", "build-client.mjs")], ROOT, logPath, "building the client bundle");
    await runNode([wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir, "-c", path.join(ROOT, "wrangler.toml")], ROOT, logPath, "migrations");
    await runNode([path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "seed.ts")], tempProject, logPath, "seeding the demo catalog");
    service = await startService({
      cwd: ROOT,
      port,
      inspectorPort,
      stateDir,
      logPath,
      jwtSecret,
      logLevel: undefined,
      startTimeoutMs: START_TIMEOUT_MS,
      // wrangler.toml names port 8787: links in messages and the live feed's Origin check follow the real port.
      vars: { PUBLIC_BASE_URL: baseUrl, LIVE_ALLOWED_ORIGINS: baseUrl },
    });
    project.provide("baseUrl", baseUrl);
    project.provide("adminToken", await signJwt(claimsFor({ sub: "admin:e2e@clay-kiln.example", role: "admin", email: "e2e-admin@clay-kiln.example", ttlSeconds: 6 * 3600 }), jwtSecret));
  } catch (error) {
    await service?.stop();
    throw new Error(`e2e: could not start the service: ${(error as Error).message} (log: ${logPath}, state: ${tempProject}; both kept)`);
  }

  return async () => {
    await service?.stop();
    service = undefined;
    removeState();
  };
}

