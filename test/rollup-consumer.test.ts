import { createExecutionContext, createMessageBatch, getQueueResult, type MessageBatchMessage, type QueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { addDays, dayRange } from "../src/domain/metric-periods";
import { runQueue } from "../src/jobs/queues";
import { rollupDay } from "../src/jobs/rollups";
import { metricRows, testMonday } from "./metrics-helpers";

async function deliver(queue: string, bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 6, body })),
  );
  const ctx = createExecutionContext();
  await runQueue(batch, env);
  return { result: await getQueueResult(batch, ctx), ids: batch.messages.map((m) => m.id) };
}

/** Delivers bodies to the Worker's own queue handler through workerd, as the Queues runtime does. */
async function viaWorker(queue: string, bodies: unknown[]) {
  const messages = bodies.map((body) => ({ id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body }));
  const worker = exports.default as unknown as { queue(queue: string, messages: MessageBatchMessage[]): Promise<QueueResult> };
  return { result: await worker.queue(queue, messages), ids: messages.map((m) => m.id) };
}

const malformedAlert = () =>
  env.DB.prepare(`SELECT status, severity, occurrences, details FROM alerts WHERE type = 'ROLLUP_FAILED' AND subject_key = 'rollup:malformed' AND status <> 'resolved'`).first<{
    status: string;
    severity: string;
    occurrences: number;
    details: string;
  }>();

describe("metric-rollups queue consumers", () => {
  it("a weekly chunk on a date that does not exist (2026-02-30) fails neither consumer: acknowledged and alerted on", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chunk = { granularity: "weekly", periodStart: "2026-02-30", requestedBy: "test" };
    try {
      const before = (await malformedAlert())?.occurrences ?? 0;
      const main = await viaWorker("metric-rollups", [chunk]);
      expect(main.result.outcome).toBe("ok");
      expect(main.result.explicitAcks).toEqual(main.ids);
      expect(main.result.retryMessages).toEqual([]);
      const alert = await malformedAlert();
      expect(alert).toMatchObject({ severity: "warning", occurrences: before + 1 });
      expect(JSON.parse(alert!.details)).toMatchObject({ body: chunk, problem: expect.stringContaining("periodStart") });

      const dead = await viaWorker("metric-rollups-dlq", [chunk]);
      expect(dead.result.outcome).toBe("ok");
      expect(dead.result.explicitAcks).toEqual(dead.ids);
      expect(await malformedAlert()).toMatchObject({ severity: "critical", occurrences: before + 2 });
    } finally {
      errors.mockRestore();
    }
    expect(await metricRows("weekly", "2026-02-30")).toEqual([]);
  });

  it("rolls up each chunk and acknowledges it", async () => {
    const day = addDays(testMonday(), 1);
    const { result, ids } = await deliver("metric-rollups", [{ granularity: "daily", periodStart: day, requestedBy: "test" }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect((await metricRows("daily", day)).length).toBeGreaterThan(0);
  });

  it("drops a malformed chunk (retrying cannot fix it), says so in the log and keeps an alert open", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { result, ids } = await deliver("metric-rollups", [
        { granularity: "monthly", periodStart: "2024-01-01", requestedBy: "test" },
        { granularity: "weekly", periodStart: "2024-01-02", requestedBy: "test" },
        "not an object",
      ]);
      expect(result.explicitAcks.sort()).toEqual([...ids].sort());
      expect(errors.mock.calls.filter(([line]) => String(line).includes("malformed rollup message dropped"))).toHaveLength(3);
      expect(await malformedAlert()).toMatchObject({ status: "open" });
    } finally {
      errors.mockRestore();
    }
    expect(await metricRows("weekly", "2024-01-02")).toEqual([]);
  });

  it("keeps a chunk that failed every retry as a critical ROLLUP_FAILED alert, resolved when the period is rolled up", async () => {
    const day = addDays(testMonday(), 2);
    const chunk = { granularity: "daily", periodStart: day, requestedBy: "cron:0 1 * * *" };
    const first = await deliver("metric-rollups-dlq", [chunk]);
    expect(first.result.explicitAcks).toEqual(first.ids);
    await deliver("metric-rollups-dlq", [chunk]);
    const alert = () =>
      env.DB.prepare(`SELECT status, severity, occurrences, resolved_by, details FROM alerts WHERE type = 'ROLLUP_FAILED' AND subject_key = ?`)
        .bind(`rollup:daily:${day}`)
        .all<{ status: string; severity: string; occurrences: number; resolved_by: string | null; details: string }>();
    const { results: open } = await alert();
    expect(open).toEqual([expect.objectContaining({ status: "open", severity: "critical", occurrences: 2 })]);
    expect(JSON.parse(open[0]!.details)).toMatchObject({ body: chunk, attempts: 6 });

    await rollupDay(env.DB, day, dayRange(addDays(day, 1)).endMs);
    expect((await alert()).results).toEqual([expect.objectContaining({ status: "resolved", resolved_by: "system" })]);
  });
});
