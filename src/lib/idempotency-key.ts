/** The Idempotency-Key header (IETF httpapi draft) and the marker on a replayed response. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * The id of what a keyed request creates, from the random seed stored with its key: a request
 * that takes over a dead one creates the same id (an upsert, not a twin), while the same key used
 * again after it was purged gets a new seed and can never reach the old record.
 */
export function idFromSeed(prefix: string, seed: string): string {
  return `${prefix}_${seed}`;
}

