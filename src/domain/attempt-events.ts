/**
 * The domain events a finished hold, booking or cancellation attempt stands for (DESIGN invariant
 * 7), built from what the audit trail saw: the attempt's fields, how it ended, and what it was
 * about once the catalog was read. Rollups compute from these; README "Events" lists each field.
 *
 * `seats` is always seat-sessions: seats per session (guestCount) × the sessions covered, so
 * summing it over a studio's bookings compares directly with the sum of its sessions' capacity.
 */
import type { CancellationWindow } from "./booking-terms";
import { type DomainEvent, domainEvent, type EventType } from "./events";

/** The audit fields of one attempt as it ended (src/domain/projection.ts AttemptRow, less its row keys). */
export interface AttemptRecord {
  kind: "booking" | "hold" | "cancellation";
  outcome: "accepted" | "rejected";
  errorCode?: string | null;
  bookingId?: string | null;
  registrationType?: string | null;
  sessionIds: string[];
  email?: string | null;
  guestCount?: number | null;
  amountPence?: number | null;
  expectedAmountPence?: number | null;
  currency?: string | null;
  promoCode?: string | null;
  source?: string | null;
  actorRole?: string | null;
  clientKey?: string | null;
  requestId?: string | null;
}

/** How a refused attempt was refused: its code and the details the client was told. */
export interface AttemptRefusal {
  code: string;
  details?: Record<string, unknown> | undefined;
}

/** What an attempt was about, noted by the flow once known (after the catalog read). */
export interface AttemptSubject {
  classId: string;
  studioId: string | null;
  cityId: string | null;
  customerId: string;
  /** Every session the attempt covers (a full schedule's too). */
  sessionIds: string[];
  /** Anything else the success event should carry in `data` (prices, hold expiry, timings). */
  data?: Record<string, unknown>;
}

/**
 * A checkout of the booking funnel (README "Metrics and alerts"): one customer's attempt to buy
 * that reached the seat check, whatever it found there. A hold ("hold") is one; so is a booking
 * made without a hold ("booking"). A booking that confirms a hold is that hold's checkout, not
 * another; staff bookings and waitlist acceptances are no checkout at all. Client-sent
 * CHECKOUT_STARTED signals (`origin: "client"`) stay demand signals outside the funnel.
 */
export type FunnelCheckout = "hold" | "booking";

/**
 * What a cancellation's BOOKING_CANCELLED carries in `data` besides the request fields. The alert
 * checks read these keys back from D1 (json_extract), so they are named here once.
 */
export interface CancellationData {
  /** When the booking was confirmed (ms). */
  confirmedAt: number;
  /** Whole minutes from confirmation to cancellation: the quick-cancellation rule reads it. */
  minutesSinceConfirmation: number;
  /** Whole minutes from cancellation to the first session's start. */
  minutesBeforeStart: number;
  /** A customer's own cancellation: where it fell in the class's policy, and the fee that applied. */
  policyWindow?: CancellationWindow;
  feePercent?: number;
}

/** Refusals that mean the studio could not supply what the customer wanted: demand it lost. */
const SUPPLY_REFUSALS: ReadonlySet<string> = new Set(["NO_TRAINER", "SESSION_FULL", "INSUFFICIENT_CAPACITY", "RESOURCE_UNAVAILABLE"]);

/**
 * The events of one attempt. `subject` is undefined when the attempt ended before the catalog was
 * read (validation, rate limit, unknown session) or, for a cancellation, when it changed nothing.
 * `checkout` is set when the attempt was a funnel checkout that reached the seat check: it then
 * emits CHECKOUT_STARTED with `origin` "hold" or "booking" and its `outcome`.
 */
export function attemptEvents(
  attempt: AttemptRecord,
  subject: AttemptSubject | undefined,
  refusal: AttemptRefusal | undefined,
  { now = Date.now(), checkout }: { now?: number; checkout?: FunnelCheckout | undefined } = {},
): DomainEvent[] {
  const sessionIds = subject?.sessionIds ?? attempt.sessionIds;
  const common = {
    occurredAt: now,
    sessionId: sessionIds.length === 1 ? sessionIds[0]! : null,
    classId: subject?.classId ?? null,
    studioId: subject?.studioId ?? null,
    cityId: subject?.cityId ?? null,
    customerId: subject?.customerId ?? null,
    email: attempt.email ?? null,
    clientKey: attempt.clientKey ?? null,
    source: attempt.source ?? null,
    seats: attempt.guestCount != null && sessionIds.length > 0 ? attempt.guestCount * sessionIds.length : null,
  };
  const requested = {
    attempt: attempt.kind,
    registrationType: attempt.registrationType ?? null,
    guestCount: attempt.guestCount ?? null,
    sessionIds,
    actorRole: attempt.actorRole ?? null,
    requestId: attempt.requestId ?? null,
  };

  if (attempt.outcome === "rejected") {
    // A refused cancellation changed nothing: the audit row is its trace, not an event.
    if (attempt.kind === "cancellation") return [];
    const code = attempt.errorCode ?? "INTERNAL_ERROR";
    const details = refusal?.details ?? {};
    const events = [
      domainEvent("BOOKING_REJECTED", {
        ...common,
        code,
        amountPence: attempt.amountPence ?? null,
        data: {
          ...requested,
          expectedAmountPence: attempt.expectedAmountPence ?? null,
          currency: attempt.currency ?? null,
          promoCode: attempt.promoCode ?? null,
          details,
        },
      }),
    ];
    if (code === "DUPLICATE_BOOKING") {
      events.push(
        domainEvent("DUPLICATE_ATTEMPT", {
          ...common,
          sessionId: typeof details.sessionId === "string" ? details.sessionId : common.sessionId,
          code,
          data: { ...requested, existingBookingId: details.existingBookingId ?? null, existing: details.existingBookingId ? "booking" : "hold" },
        }),
      );
    }
    if (subject && SUPPLY_REFUSALS.has(code)) {
      events.push(domainEvent("PURCHASE_BLOCKED", { ...common, code, data: { ...requested, details } }));
    }
    if (subject && checkout) {
      // A checkout the seat check (or what came after it) refused: in the funnel, not converted.
      events.push(domainEvent("CHECKOUT_STARTED", { ...common, code, data: { ...requested, origin: checkout, outcome: "rejected", code } }));
    }
    return events;
  }

  if (!subject) return [];
  const id = attempt.bookingId ?? null;
  switch (attempt.kind) {
    case "booking": {
      const events = [
        stateEvent("BOOKING_CONFIRMED", id, {
          ...common,
          bookingId: id,
          amountPence: attempt.expectedAmountPence ?? attempt.amountPence ?? null,
          data: { ...requested, currency: attempt.currency ?? null, promoCode: attempt.promoCode ?? null, ...subject.data },
        }),
      ];
      if (checkout === "booking") {
        events.push(stateEvent("CHECKOUT_STARTED", id, { ...common, bookingId: id, data: { ...requested, origin: "booking", outcome: "accepted", bookingId: id } }));
      }
      return events;
    }
    case "hold": {
      const events = [stateEvent("HOLD_CREATED", id, { ...common, data: { ...requested, holdId: id, ...subject.data } })];
      if (checkout === "hold") {
        // Converted once a BOOKING_CONFIRMED names this hold before it expires (src/db/funnel.ts).
        const expiresAt = typeof subject.data?.expiresAt === "string" ? Date.parse(subject.data.expiresAt) : null;
        events.push(stateEvent("CHECKOUT_STARTED", id, { ...common, data: { ...requested, origin: "hold", outcome: "accepted", holdId: id, holdExpiresAt: expiresAt } }));
      }
      return events;
    }
    case "cancellation":
      return [
        stateEvent("BOOKING_CANCELLED", id, {
          ...common,
          bookingId: id,
          amountPence: attempt.amountPence ?? null,
          data: { ...requested, ...subject.data },
        }),
      ];
  }
}

/**
 * An event for a state change that happens once per thing (a booking confirmed, a hold created):
 * its id derives from the thing's id, so two emissions of the same change are one row.
 */
function stateEvent(type: EventType, subjectId: string | null, fields: Parameters<typeof domainEvent>[1]): DomainEvent {
  const event = domainEvent(type, fields);
  return subjectId ? { ...event, id: `evt_${type.toLowerCase()}_${subjectId}` } : event;
}
