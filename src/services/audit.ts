/**
 * The audit trail (DESIGN invariant 7): every hold, booking and cancellation attempt, accepted or
 * refused with its code, with the amount offered, the source and how long it took, and the domain
 * events it stands for (src/domain/attempt-events.ts).
 *
 * An attempt that reaches a Durable Object is recorded by that object, in the transaction that
 * decided it (the object gets the `AttemptAudit`). One refused before any object was asked
 * (validation against the catalog, the price, a rate limit) is sent by the Worker to the projection
 * Queue before the client is answered: once the Queue has taken it, it is not lost.
 */
import { attemptEvents, type AttemptSubject, type FunnelCheckout } from "../domain/attempt-events";
import type { AttemptAudit } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { newId } from "../lib/ids";
import { jsonBatchesTo, sendWithRetry } from "../lib/queue-send";

export type AttemptFields = AttemptAudit["fields"];

/**
 * One attempt under way: its audit record grows as the flow learns more (`note`), is handed to the
 * object that decides it (`toObject`), or, if the flow fails before that, is sent by `refused`.
 */
export class Attempt {
  readonly id = newId("attempt");
  readonly startedAt = Date.now();
  private fields: AttemptFields;
  private subject: AttemptSubject | undefined;
  private checkout: FunnelCheckout | undefined;
  /** Set once the attempt is handed to an object, which records the outcome itself if it answers. */
  handedOver = false;

  constructor(fields: AttemptFields) {
    this.fields = { ...fields };
  }

  /** Adds what is known part-way through: fields, what the attempt is about, whether it is a funnel checkout. */
  note(more: Partial<AttemptFields> & { subject?: AttemptSubject; checkout?: FunnelCheckout }): void {
    const { subject, checkout, ...fields } = more;
    Object.assign(this.fields, fields);
    if (subject) this.subject = subject;
    if (checkout) this.checkout = checkout;
  }

  /** The record for the object that decides the attempt; from now on that object records it. */
  toObject(): AttemptAudit {
    this.handedOver = true;
    return { id: this.id, startedAt: this.startedAt, fields: { ...this.fields }, ...(this.subject ? { subject: this.subject } : {}), ...(this.checkout ? { checkout: this.checkout } : {}) };
  }

  /**
   * Records a refusal decided here (or a failure), unless an object has the attempt. Waits until the
   * Queue took it (retried), so an answered refusal leaves its trace; never throws.
   */
  async refused(env: Pick<Env, "PROJECTION">, error: unknown): Promise<void> {
    // An object that refused recorded the refusal; one that never answered (the call failed) may
    // not have: record it here too (the attempt's id makes the two one row).
    if (this.handedOver && error instanceof ApiError) return;
    const now = Date.now();
    const code = error instanceof ApiError ? error.code : "INTERNAL_ERROR";
    const refusal = { code, details: error instanceof ApiError ? (error.details ?? {}) : {} };
    const attempt = { ...this.fields, outcome: "rejected" as const, errorCode: code };
    const events = attemptEvents(attempt, this.subject, refusal, { now, checkout: this.checkout });
    const message = { kind: "attempt" as const, change: { at: now, attempt: { ...attempt, id: this.id, durationMs: now - this.startedAt, at: now }, events } };
    const { lost, errors } = await sendWithRetry(jsonBatchesTo(env.PROJECTION), [message]);
    if (lost.length > 0) console.error(JSON.stringify({ level: "error", msg: "could not record a refused attempt", attemptId: this.id, code, error: errors[0] }));
  }

  /** Runs the flow; a failure before an object took the attempt is recorded here. */
  async run<T>(env: Pick<Env, "PROJECTION">, flow: () => Promise<T>): Promise<T> {
    try {
      return await flow();
    } catch (error) {
      await this.refused(env, error);
      throw error;
    }
  }
}
