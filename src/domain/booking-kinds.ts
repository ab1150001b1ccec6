/**
 * How a booking covers a class's sessions: one session, some of them (drop-ins), or the whole
 * schedule. The D1 schema (src/db/schema.ts) stores these names and re-exports them.
 */
export const BOOKING_KINDS = ["SINGLE_SESSION", "FULL_SCHEDULE", "DROP_IN"] as const;
export type BookingKind = (typeof BOOKING_KINDS)[number];
