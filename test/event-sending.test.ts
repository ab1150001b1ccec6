/**
 * Sending events from the Worker: a failed send is tried again with a growing pause, and what fails
 * every attempt is handed back (emitEvents logs its ids). The send function is our own type, so
 * the retry is tested without standing in for the Queue binding.
 */
import { describe, expect, it } from "vitest";
import { SEND_ATTEMPTS as EVENT_SEND_ATTEMPTS, sendWithRetry as sendEventsWithRetry } from "../src/lib/queue-send";
import { type DomainEvent, domainEvent } from "../src/domain/events";

const events = (n: number) => Array.from({ length: n }, () => domainEvent("COURSE_VIEWED", { classId: "cls_send" }));

/** A send that fails its first `failures` calls, and records every batch it was given. */
function flakySend(failures: number) {
  const calls: DomainEvent[][] = [];
  const send = async (batch: DomainEvent[]) => {
    calls.push(batch);
    if (calls.length <= failures) throw new Error(`Queue send failed (${calls.length})`);
  };
  return { send, calls };
}

function recordedSleep() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

describe("sendWithRetry (events)", () => {
  it("sends a batch again after a transient failure, after a pause", async () => {
    const { send, calls } = flakySend(1);
    const { pauses, sleep } = recordedSleep();
    const batch = events(3);
    expect(await sendEventsWithRetry(send, batch, { sleep })).toEqual({ lost: [], errors: [] });
    expect(calls).toEqual([batch, batch]);
    expect(pauses).toEqual([250]);
  });

  it("gives a batch up after every attempt failed, with doubling pauses, and hands its events back", async () => {
    const { send, calls } = flakySend(Number.POSITIVE_INFINITY);
    const { pauses, sleep } = recordedSleep();
    const batch = events(2);
    const result = await sendEventsWithRetry(send, batch, { sleep });
    expect(calls).toHaveLength(EVENT_SEND_ATTEMPTS);
    expect(pauses).toEqual([250, 500]);
    expect(result.lost.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    expect(result.errors).toEqual(["Error: Queue send failed (3)"]);
  });

  it("sends in batches of 100 and retries only the batch that failed", async () => {
    const all = events(150);
    const calls: number[] = [];
    let secondBatchTries = 0;
    const send = async (batch: DomainEvent[]) => {
      calls.push(batch.length);
      if (batch[0] === all[100] && ++secondBatchTries < 3) throw new Error("busy");
    };
    const { sleep } = recordedSleep();
    expect(await sendEventsWithRetry(send, all, { sleep })).toEqual({ lost: [], errors: [] });
    expect(calls).toEqual([100, 50, 50, 50]);
  });

  it("loses only the batches that failed every attempt", async () => {
    const all = events(120);
    const send = async (batch: DomainEvent[]) => {
      if (batch.length === 100) throw new Error("down");
    };
    const { sleep } = recordedSleep();
    const result = await sendEventsWithRetry(send, all, { sleep, attempts: 2 });
    expect(result.lost.map((e) => e.id)).toEqual(all.slice(0, 100).map((e) => e.id));
  });
});
