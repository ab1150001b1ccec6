/**
 * Idempotency-Key for writes recorded by a Durable Object (DESIGN invariant 4). The record lives
 * beside the write it protects: in the session's object for a one-session write (same transaction
 * as the reservation), in the attempt's coordinator for a write spanning sessions. These turn what
 * the objects answer into the API's answer: the first response replayed, 422 for another request
 * under the key, 409 while the first is still running.
 */
import type { ClaimResult } from "../durable-objects/coordinator-contract";
import type { AttemptAudit, RecordedOutcome } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { ApiError, type ErrorCode } from "../errors";
import { REPLAYED_HEADER, withoutSecrets } from "../lib/idempotency-key";
import { coordinatorObject, keyedCoordinatorName, newCoordinatorName, refusalError } from "./session-client";

const LEASE_MS = 60_000;

/** A request's Idempotency-Key claim; `origin` is its client address. */
export type Key = { scope: string; key: string; requestHash: string; origin: string };

/** The claim of a caller's keyed request, or undefined when it carries no Idempotency-Key. */
export function keyOf(caller: { clientKey: string; idempotency: { scope: string; key: string; requestHash: string } | undefined }): Key | undefined {
  const key = caller.idempotency;
  return key ? { scope: key.scope, key: key.key, requestHash: key.requestHash, origin: caller.clientKey } : undefined;
}

/** The attempt's coordinator, claimed for its key; or the first answer, when this is a repeat. */
export type Claimed =
  | { replay: unknown }
  | {
      coordinator: string;
      reservationId: string;
      /** Keeps the outcome for repeats of the key (nothing without a key). */
      finish(outcome: RecordedOutcome): Promise<void>;
      /** Lets the key go after a failure on our side, so a retry takes over at once. */
      abandon(): Promise<void>;
      /** Records an attempt that ended without a decision. */
      record(audit: AttemptAudit, refusal?: { code: string; details: Record<string, unknown> }): Promise<void>;
    };

/** Names the attempt's coordinator and claims its key there; `proposeId` makes the reservation id from the coordinator's name. */
export async function claimAttempt(env: Env, key: Key | undefined, proposeId: (coordinator: string) => string): Promise<Claimed> {
  const coordinator = key ? await keyedCoordinatorName(key.scope, key.key) : newCoordinatorName();
  const object = coordinatorObject(env, coordinator);
  const record = (audit: AttemptAudit, refusal?: { code: string; details: Record<string, unknown> }) => object.recordAttempt(audit, refusal);
  if (!key) return { coordinator, reservationId: proposeId(coordinator), finish: async () => undefined, abandon: async () => undefined, record };
  const claim = (await object.claim({ scope: key.scope, key: key.key, requestHash: key.requestHash, reservationId: proposeId(coordinator), leaseMs: LEASE_MS })) as ClaimResult;
  switch (claim.state) {
    case "replay":
      return { replay: replayed(claim.outcome, {}, key) };
    case "reused":
      throw keyReused(key.key);
    case "in_progress":
      throw inProgress(claim.retryAfterMs);
    case "go":
      return {
        coordinator,
        reservationId: claim.reservationId,
        finish: (outcome) => object.complete(claim.lease, outcome.ok ? { ...outcome, origin: key.origin } : outcome),
        abandon: () => object.abandon(claim.lease),
        record,
      };
  }
}

/**
 * What a session object answered for a keyed (or unkeyed) write: `fresh` when it did the write
 * now, the first answer again for a repeat, or the refusal as an API error.
 */
export function settle<T>(answer: { ok: boolean; replayed?: true | "reused" | undefined }, fresh: T, extra: Record<string, unknown> = {}, key?: Key): T {
  if (answer.replayed === "reused") throw keyReused(key?.key);
  if (answer.replayed === true) return replayed((answer as unknown as { outcome: RecordedOutcome }).outcome, extra, key) as T;
  if (!answer.ok) throw refusalError(answer, extra);
  return fresh;
}

/**
 * The first answer: a success's body (marked replayed), or its refusal thrown again with the
 * replay header. A success replayed to another client address than the one that made it comes
 * without its secrets (manage token, entry or offer token), and says so: whoever learnt a guest's
 * key and body elsewhere learns the booking was made, not how to manage it.
 */
function replayed(outcome: RecordedOutcome, extra: Record<string, unknown> = {}, key?: Key): unknown {
  if (outcome.ok) {
    const body = JSON.parse(outcome.response) as Record<string, unknown>;
    const elsewhere = outcome.origin !== undefined && key !== undefined && outcome.origin !== key.origin;
    return { ...(elsewhere ? withoutSecrets(body) : body), replayed: true };
  }
  // The details the first answer had: what the caller added (the session) and the object's own.
  const error = new ApiError(outcome.code as ErrorCode, outcome.message, { ...extra, ...outcome.details });
  error.headers[REPLAYED_HEADER] = "true";
  throw error;
}

function keyReused(key?: string): ApiError {
  return new ApiError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request", key ? { idempotencyKey: key } : {});
}

function inProgress(remainingMs: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  const error = new ApiError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed; retry later", { retryAfterSeconds });
  error.headers["Retry-After"] = String(retryAfterSeconds);
  return error;
}
