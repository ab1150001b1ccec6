/**
 * CPU time of the processes behind `wrangler dev`, from /proc (Linux), so each phase can say where
 * the CPU went per request: the workerd that runs the Worker (and its D1, Durable Objects and rate
 * limiter simulators), the workerd of wrangler's local proxy in front of it, wrangler's Node
 * process, and this benchmark's own client. Elsewhere than Linux it reports nothing.
 */
import { fs } from "./node";

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

export type ProcessRole = "worker workerd" | "proxy workerd" | "wrangler node" | "other";

export interface CpuSnapshot {
  at: number;
  /** pid → [role, CPU ms] */
  byPid: Map<number, [ProcessRole, number]>;
  clientMs: number;
  /** The Worker's workerd main thread (the one running JS): ns on a CPU, ns runnable but waiting for one. */
  workerThread: { runNs: number; waitNs: number };
}

function roleOf(pid: number, servicePort: number): ProcessRole {
  let cmdline = "";
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "other";
  }
  if (cmdline.includes("workerd")) {
    // The proxy listens on the port we chose; the Worker's own workerd on one the OS picked.
    const port = /--socket-addr=entry=127\.0\.0\.1:(\d+)/.exec(cmdline)?.[1];
    return Number(port) === servicePort ? "proxy workerd" : "worker workerd";
  }
  if (cmdline.includes("wrangler")) return "wrangler node";
  return "other";
}

/** CPU time so far of every process in the group, and of this process. */
export function snapshot(processGroup: number | undefined, servicePort: number): CpuSnapshot {
  const usage = process.cpuUsage() as { user: number; system: number };
  const result: CpuSnapshot = { at: performance.now(), byPid: new Map(), clientMs: (usage.user + usage.system) / 1000, workerThread: { runNs: 0, waitNs: 0 } };
  if (processGroup === undefined || !fs.existsSync("/proc/self/stat")) return result;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== processGroup) continue;
    const ticks = Number(fields[11]) + Number(fields[12]);
    const pid = Number(entry);
    const role = roleOf(pid, servicePort);
    result.byPid.set(pid, [role, (ticks * 1000) / TICKS_PER_SECOND]);
    if (role === "worker workerd") {
      try {
        const [runNs, waitNs] = fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(" ").map(Number);
        result.workerThread = { runNs: runNs ?? 0, waitNs: waitNs ?? 0 };
      } catch {
        // No schedstat (kernel without CONFIG_SCHEDSTATS): leave zeros.
      }
    }
  }
  return result;
}

export interface CpuUse {
  /** CPU ms per request, by role, plus "bench client". */
  perRequest: Map<string, number>;
  /** Share of one core the worker's workerd was busy over the phase (0..1+). */
  workerBusy: number;
  /** Share of the phase the Worker's JS thread was running, and runnable but waiting for a CPU. */
  workerThreadRunning: number;
  workerThreadWaiting: number;
}

export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuUse | undefined {
  if (after.byPid.size === 0 || requests === 0) return undefined;
  const totals = new Map<string, number>();
  for (const [pid, [role, ms]] of after.byPid) {
    const earlier = before.byPid.get(pid)?.[1] ?? 0; // a process born during the phase counts from 0
    totals.set(role, (totals.get(role) ?? 0) + (ms - earlier));
  }
  totals.set("bench client", after.clientMs - before.clientMs);
  const wallMs = after.at - before.at;
  const perRequest = new Map([...totals].filter(([role]) => role !== "other").map(([role, ms]) => [role, ms / requests]));
  const share = (ns: number) => (wallMs > 0 ? ns / 1e6 / wallMs : 0);
  return {
    perRequest,
    workerBusy: wallMs > 0 ? (totals.get("worker workerd") ?? 0) / wallMs : 0,
    // Only meaningful when the same workerd ran the whole phase.
    workerThreadRunning: share(after.workerThread.runNs - before.workerThread.runNs),
    workerThreadWaiting: share(after.workerThread.waitNs - before.workerThread.waitNs),
  };
}
