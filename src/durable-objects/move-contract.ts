/** What goes in and out of a booking's move ledger (a BookingCoordinatorDO named for the booking) over RPC. */
import { z } from "zod";
import { BookingProjection } from "../domain/projection";

/**
 * One move of a booking's line from one session to another: the attempt's own coordinator (which
 * holds its commit/abort decision and its Idempotency-Key claim), the hold it takes in the target,
 * and the booking as it stands once moved (its line price in the target, every session it covers).
 */
export const MoveIntent = z.object({
  attempt: z.string().min(1),
  bookingId: z.string().min(1),
  fromSessionId: z.string().min(1),
  toSessionId: z.string().min(1),
  holdId: z.string().min(1),
  seats: z.number().int().min(1),
  email: z.string().min(1),
  booking: BookingProjection,
  /** Sent with the source line's cancellation, so exactly once (BOOKING_MOVED). */
  notifications: z.array(z.custom<{ id: string; kind: string }>((value) => typeof value === "object" && value !== null)).optional(),
});
export type MoveIntent = z.infer<typeof MoveIntent>;

export type MoveState = "pending" | "done" | "aborted" | "failed";

/** `go`: this attempt may go on (also a repeat of it still pending); otherwise why not, or how it ended. */
export type BeginMoveResult =
  | { state: "go" }
  | { state: "done" | "aborted" | "failed" }
  | { state: "busy"; attempt: string }
  | { state: "stale"; moves: number };

/** The booking's moves so far: how many, the booking as the last one left it, and the one under way. */
export interface MoveLedgerView {
  moves: number;
  current: BookingProjection | null;
  pending: { attempt: string; toSessionId: string } | null;
  /** How the attempt asked about stands, or null when the ledger never saw it. */
  attemptState: MoveState | null;
}
