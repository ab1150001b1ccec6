/** The Idempotency-Key header (IETF httpapi draft) and the marker on a replayed response. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";
