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


/** Fields of a response that let their holder act on what was created: never replayed to a stranger. */
const SECRET_FIELDS = new Set(["manageToken", "token", "entryToken", "offerToken", "confirmToken"]);

/** The body without its secrets, marked `secretsWithheld: true` (replays to another client address). */
export function withoutSecrets(body: Record<string, unknown>): Record<string, unknown> {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).filter(([name]) => !SECRET_FIELDS.has(name)).map(([name, inner]) => [name, strip(inner)]));
  };
  return { ...(strip(body) as Record<string, unknown>), secretsWithheld: true };
}
