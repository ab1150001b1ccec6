/**
 * Pieces every page showing a session uses: its seats left (kept current in the browser by
 * src/client/live-seats.ts through `data-session-id` / `data-available-spots`) and the action a
 * customer has (Book, Join the waitlist when full, Notify me when no qualified instructor).
 */
import { SEATS_BADGE, seatsLeftText, seatsLevel } from "../domain/seats-left";

export interface SeatsProps {
  sessionId: string;
  availableSpots: number;
  status: string;
}

/** "12 seats left", "2 left" or a FULL badge, live. */
export function SeatsLeft({ sessionId, availableSpots, status }: SeatsProps) {
  const level = seatsLevel(availableSpots, status);
  return (
    <span
      class={`badge ${SEATS_BADGE[level]} seats`}
      data-session-id={sessionId}
      data-available-spots={String(availableSpots)}
      data-status={status}
      data-seats-level={level}
      data-testid={`seats-${sessionId}`}
    >
      {seatsLeftText(availableSpots, status)}
    </span>
  );
}

export interface SessionActionProps {
  classId: string;
  sessionId: string;
  full: boolean;
  hasTrainer: boolean;
  /** Where "Book" goes: the class page with this session picked. */
  bookHref: string;
}

/**
 * Book, or Join the waitlist when full (both rendered; live-seats swaps which is hidden inside the
 * row's `[data-session-row]`), or Notify me when the session has no qualified instructor.
 */
export function SessionAction({ classId, sessionId, full, hasTrainer, bookHref }: SessionActionProps) {
  if (!hasTrainer) {
    return (
      <a class="button secondary" href={`/classes/${classId}/notify`} data-testid={`notify-${sessionId}`}>
        Notify me
      </a>
    );
  }
  return (
    <>
      <a class="button" href={bookHref} data-show-when="open" hidden={full} data-testid={`book-${sessionId}`}>
        Book
      </a>
      <a class="button secondary" href={`/sessions/${sessionId}/waitlist`} data-show-when="full" hidden={!full} data-testid={`waitlist-${sessionId}`}>
        Join the waitlist
      </a>
    </>
  );
}
