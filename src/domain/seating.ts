/**
 * Seat and resource arithmetic for one session, pure: the session's Durable Object feeds it the
 * counts from its own ledger and applies the answer in the same synchronous transaction.
 */

export interface ResourceUse {
  resourceId: string;
  name: string;
  /** Units the session has (the studio's stock of this resource). */
  quantity: number;
  /** Units each student uses. */
  perStudent: number;
}

export interface SeatLedger {
  capacity: number;
  /** Seats in confirmed bookings. */
  bookedSeats: number;
  /** Seats in holds not yet confirmed or released (they count until the DO lets them go). */
  heldSeats: number;
  cancelled: boolean;
  startsAt: number;
  resources: ResourceUse[];
}

export type SessionStatus = "open" | "full" | "cancelled";

export interface Availability {
  capacity: number;
  booked: number;
  held: number;
  availableSpots: number;
  status: SessionStatus;
  isFull: boolean;
  resources: { resourceId: string; name: string; perStudent: number; quantity: number; available: number }[];
}

export type RefusalCode =
  | "SESSION_NOT_BOOKABLE"
  | "SESSION_FULL"
  | "INSUFFICIENT_CAPACITY"
  | "RESOURCE_UNAVAILABLE"
  | "SEAT_LIMIT_EXCEEDED"
  | "DUPLICATE_BOOKING"
  | "HOLD_EXPIRED";

export interface Refusal {
  code: RefusalCode;
  message: string;
  details: Record<string, unknown>;
}

/** Seats left, and what each resource has left, counting holds and confirmed bookings alike. */
export function availabilityOf(ledger: SeatLedger): Availability {
  const used = ledger.bookedSeats + ledger.heldSeats;
  const availableSpots = Math.max(0, ledger.capacity - used);
  const status: SessionStatus = ledger.cancelled ? "cancelled" : availableSpots === 0 ? "full" : "open";
  return {
    capacity: ledger.capacity,
    booked: ledger.bookedSeats,
    held: ledger.heldSeats,
    availableSpots,
    status,
    isFull: availableSpots === 0,
    resources: ledger.resources.map((resource) => ({
      resourceId: resource.resourceId,
      name: resource.name,
      perStudent: resource.perStudent,
      quantity: resource.quantity,
      available: Math.max(0, resource.quantity - used * resource.perStudent),
    })),
  };
}

/** Why the session takes no bookings at all now (cancelled or started), or null. */
export function refuseClosed(ledger: SeatLedger, now: number): Refusal | null {
  if (ledger.cancelled) {
    return { code: "SESSION_NOT_BOOKABLE", message: "This session has been cancelled", details: { reason: "cancelled" } };
  }
  if (now >= ledger.startsAt) {
    return {
      code: "SESSION_NOT_BOOKABLE",
      message: "This session has already started",
      details: { reason: "started", startsAt: new Date(ledger.startsAt).toISOString() },
    };
  }
  return null;
}

/** Why `seats` more seats do not fit (seats, then each resource), or null when they do. */
export function refuseSeats(ledger: SeatLedger, seats: number): Refusal | null {
  const { availableSpots, resources } = availabilityOf(ledger);
  if (availableSpots === 0) {
    return { code: "SESSION_FULL", message: "This session is full", details: { availableSpots: 0, requested: seats } };
  }
  if (seats > availableSpots) {
    return {
      code: "INSUFFICIENT_CAPACITY",
      message: `Only ${availableSpots} spot(s) left; ${seats} requested`,
      details: { availableSpots, requested: seats },
    };
  }
  for (const resource of resources) {
    const needed = seats * resource.perStudent;
    if (needed > resource.available) {
      return {
        code: "RESOURCE_UNAVAILABLE",
        message: `Not enough ${resource.name}: ${needed} needed, ${resource.available} available`,
        details: { resourceId: resource.resourceId, name: resource.name, needed, available: resource.available },
      };
    }
  }
  return null;
}

/** The absolute per-session caps and the share of a session's capacity one party may take. */
export interface SeatLimits {
  perEmail: number;
  perClient: number;
  /** Percent of the session's capacity one email, and one client address, may hold or book. */
  sharePercent: number;
}

/**
 * What one email and one client address may hold or book in a session of this capacity: the
 * share of it (at least 1 seat), never more than the absolute cap. A session of 8 at 25 % lets a
 * party take 2 seats, so nobody takes a small session hostage.
 */
export function capsFor(capacity: number, limits: SeatLimits): { perEmail: number; perClient: number } {
  const share = Math.max(1, Math.floor((capacity * limits.sharePercent) / 100));
  return { perEmail: Math.min(limits.perEmail, share), perClient: Math.min(limits.perClient, share) };
}

/** Per-session caps on what one email or one client address may hold or book (OWASP API6). */
export function refuseOverLimit(
  held: { byEmail: number; byClient: number },
  seats: number,
  capacity: number,
  limits: SeatLimits,
): Refusal | null {
  const caps = capsFor(capacity, limits);
  if (held.byEmail + seats > caps.perEmail) {
    return {
      code: "SEAT_LIMIT_EXCEEDED",
      message: `One person may hold or book at most ${caps.perEmail} seat(s) in this session`,
      details: { limit: caps.perEmail, alreadyHeld: held.byEmail, requested: seats, scope: "email" },
    };
  }
  if (held.byClient + seats > caps.perClient) {
    return {
      code: "SEAT_LIMIT_EXCEEDED",
      message: `One client may hold or book at most ${caps.perClient} seat(s) in this session`,
      details: { limit: caps.perClient, alreadyHeld: held.byClient, requested: seats, scope: "client" },
    };
  }
  return null;
}
