/** What goes in and out of a BookingCoordinatorDO over RPC. */
import { z } from "zod";
import { BookingProjection } from "../domain/projection";
import { IdempotencyClaim, type RecordedOutcome } from "./session-contract";

/**
 * A commit names exactly the sessions it covers and each one's line price: a hold in any other
 * session (a booking that confirmed only part of a hold) is let go, never sold on its behalf.
 */
export const Decision = z.discriminatedUnion("decision", [
  z.object({ decision: z.literal("commit"), booking: BookingProjection, linePrices: z.record(z.string(), z.number().int()) }),
  z.object({ decision: z.literal("abort") }),
]);
export type Decision = z.infer<typeof Decision>;

export const ClaimInput = IdempotencyClaim.extend({ reservationId: z.string().min(1), leaseMs: z.number().int().min(1000) });

export type ClaimResult =
  | { state: "go"; reservationId: string; lease: number }
  | { state: "replay"; outcome: RecordedOutcome }
  | { state: "reused" }
  | { state: "in_progress"; retryAfterMs: number };

