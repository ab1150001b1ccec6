/**
 * What the booking benchmarks share (bench:booking, bench:hot-drop, bench:projection), on top of
 * harness.ts: requests from distinct guests, the ledger of the 201s received, a phase runner with
 * the run's deadline, the warm-up, and the after-run check of a session (DO, D1 and the 201s).
 */
import { api, type BenchSession, guestBooking, guestHeaders } from "./harness";
import { type Outcome, type PhaseResult, type PlannedRequest, printProgress, runPhase } from "./load";
import { sleep } from "./node";

/** A new guest per call: distinct email, client address and (unless `idempotent` is false) Idempotency-Key. */
export type GuestPlanner = (session: BenchSession, idempotent?: boolean) => PlannedRequest;

export function guestPlanner(base: string, runId: string, pricePence: number): GuestPlanner {
  let guest = 0;
  return (session, idempotent = true) => {
    guest += 1;
    const headers: Record<string, string> = { "Content-Type": "application/json", ...guestHeaders(guest) };
    if (idempotent) headers["Idempotency-Key"] = `bench-${runId}-${guest}`;
    return {
      url: `${base}/api/v1/bookings`,
      tag: session.id,
      init: { method: "POST", headers, body: JSON.stringify(guestBooking(runId, guest, session, pricePence)) },
    };
  };
}

/** What the bench saw per session (the request's tag): the 201s, their booking ids, when they arrived. */
export class BookingLedger {
  private readonly created = new Map<string, Set<string>>();
  readonly problems: string[] = [];
  /** `performance.now()` of the first and the last 201. */
  first201 = Number.NaN;
  last201 = Number.NaN;

  record(outcome: Outcome): void {
    if (outcome.status !== 201 || !outcome.tag) return;
    let id: string | undefined;
    try {
      id = (JSON.parse(outcome.body) as { booking?: { id?: string } }).booking?.id;
    } catch {
      // handled below
    }
    if (!id) {
      this.problems.push(`a 201 for session ${outcome.tag} without a booking id: ${outcome.body.slice(0, 200)}`);
      return;
    }
    const ids = this.created.get(outcome.tag) ?? new Set<string>();
    if (ids.has(id)) this.problems.push(`booking id ${id} was returned by two different 201s`);
    ids.add(id);
    this.created.set(outcome.tag, ids);
    if (!(outcome.at >= this.first201)) this.first201 = outcome.at;
    if (!(outcome.at <= this.last201)) this.last201 = outcome.at;
  }

  count(sessionId: string): number {
    return this.created.get(sessionId)?.size ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const ids of this.created.values()) sum += ids.size;
    return sum;
  }
}

export type PhaseRunner = (name: string, total: number, plan: (index: number) => PlannedRequest, concurrency?: number) => Promise<PhaseResult>;

/** Closed-loop phases that all stop at `deadline` and record every 201 in `ledger`. */
export function phaseRunner(options: { concurrency: number; deadline: number; requestTimeoutMs: number; ledger: BookingLedger }): PhaseRunner {
  return (name, total, plan, concurrency = options.concurrency) =>
    runPhase({ name, total, concurrency, deadline: options.deadline, requestTimeoutMs: options.requestTimeoutMs, plan, onOutcome: (outcome) => options.ledger.record(outcome) });
}

/** Unmeasured: `count` GET /health, up to 100 availability reads and `count` bookings on `session`. */
export async function warmUp(base: string, phase: PhaseRunner, booking: GuestPlanner, session: BenchSession, count: number): Promise<void> {
  if (count <= 0) return;
  console.log("warm-up (not measured)");
  printProgress(await phase("warm-up GET /health", count, () => ({ url: `${base}/health` })));
  printProgress(await phase("warm-up availability", Math.min(count, 100), () => ({ url: `${base}/api/v1/sessions/${session.id}/availability` })));
  printProgress(await phase("warm-up bookings", count, () => booking(session)));
}

export interface SessionCheck {
  problems: string[];
  /** GET /api/v1/sessions/{id}/availability: the DO's view. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  live: any;
  /** GET /api/v1/admin/sessions/{id}: D1's view. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  admin: any;
}

/**
 * The DO's view (availability) and D1's (admin seatsBooked) against the 201s received. D1 is
 * written from the DO's outbox after the response: give it `settleMs` to converge before calling
 * a difference a failure.
 */
export async function checkSession(base: string, adminToken: string, session: BenchSession, created: number, settleMs = 20_000): Promise<SessionCheck> {
  const deadline = Date.now() + settleMs;
  let live: SessionCheck["live"];
  let admin: SessionCheck["admin"];
  for (;;) {
    live = (await api(base, "GET", `/api/v1/sessions/${session.id}/availability`)).json;
    admin = (await api(base, "GET", `/api/v1/admin/sessions/${session.id}`, { token: adminToken })).json;
    const settled = live.held === 0 && admin.seatsBooked === live.booked;
    if (settled || Date.now() >= deadline) break;
    await sleep(500);
  }
  console.log(
    `  ${session.label.padEnd(8)} ${session.id}: capacity ${live.capacity}, DO booked ${live.booked}, held ${live.held}, ` +
      `available ${live.availableSpots}, D1 seatsBooked ${admin.seatsBooked}, 201s received ${created}`,
  );
  const problems: string[] = [];
  const name = `${session.label} session ${session.id}`;
  if (live.capacity !== session.capacity) problems.push(`${name}: capacity ${live.capacity}, created with ${session.capacity}`);
  if (live.booked > live.capacity) problems.push(`${name}: OVERSOLD, ${live.booked} booked of ${live.capacity}`);
  if (admin.seatsBooked > admin.capacity) problems.push(`${name}: OVERSOLD in D1, ${admin.seatsBooked} of ${admin.capacity}`);
  if (live.booked !== created) problems.push(`${name}: the DO has ${live.booked} seats booked, the bench received ${created} 201s (1 seat each)`);
  if (live.held !== 0) problems.push(`${name}: ${live.held} seats still held`);
  if (admin.seatsBooked !== live.booked) problems.push(`${name}: D1 says ${admin.seatsBooked} seats booked, the DO ${live.booked}`);
  return { problems, live, admin };
}
