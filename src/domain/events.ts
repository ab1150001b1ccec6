/**
 * Domain events (DESIGN invariant 7), the pure definitions: which events exist, what one carries,
 * the schema the events consumer checks every body with, and how a new one is made. Sending them
 * is src/services/events.ts.
 *
 * Events carry their own id, so a redelivered message writes nothing twice.
 */
import { z } from "zod";

export const EVENT_TYPES = [
  "COURSE_VIEWED",
  "CHECKOUT_STARTED",
  "PURCHASE_BLOCKED",
  "HOLD_CREATED",
  "BOOKING_CONFIRMED",
  "BOOKING_REJECTED",
  "BOOKING_CANCELLED",
  "DUPLICATE_ATTEMPT",
  "WAITLIST_JOINED",
  /** The party proved its email (the join message's link): from now on it gets offers. */
  "WAITLIST_CONFIRMED",
  "WAITLIST_LEFT",
  "OFFER_SENT",
  "OFFER_ACCEPTED",
  "OFFER_DECLINED",
  "OFFER_EXPIRED",
  "NOTIFY_ME_REGISTERED",
  "NOTIFICATION_SENT",
  "NOTIFICATION_FAILED",
  "REQUEST_FAILED",
  /** One API request in `data.sampleRate`, sampled: the denominator of the request error rate. */
  "REQUEST_SAMPLED",
  /** A session's last seat went (its DO's outbox) and the first one came back. */
  "SESSION_FULL",
  "SESSION_REOPENED",
  /** The studio cancelled the session (from its DO outbox): every booking line and the waitlist closed with it. */
  "SESSION_CANCELLED",
  /** Attendance at a session (staff, or the no-show sweep as "system"); undo takes a mark back. */
  "ATTENDED",
  "NO_SHOW",
  "ATTENDANCE_UNDONE",
  "GROUP_BOOKED",
  "CERTIFICATE_ISSUED",
  "RENEWAL_OFFER_SENT",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * One thing that happened. The optional columns are what rollups group and filter by; anything
 * else goes in `data`. `occurredAt` is UTC epoch milliseconds.
 */
export interface DomainEvent {
  id: string;
  type: EventType;
  occurredAt: number;
  sessionId?: string | null;
  classId?: string | null;
  studioId?: string | null;
  cityId?: string | null;
  bookingId?: string | null;
  customerId?: string | null;
  email?: string | null;
  clientKey?: string | null;
  /** An error code (BOOKING_REJECTED, REQUEST_FAILED) or a reason (PURCHASE_BLOCKED). */
  code?: string | null;
  seats?: number | null;
  amountPence?: number | null;
  /** Booking source (website, phone, email, walk_in, staff, waitlist: BOOKING_SOURCES) for revenue by source. */
  source?: string | null;
  data?: Record<string, unknown>;
}

const optionalText = (max: number) => z.string().max(max).nullish();
const optionalCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish();

/**
 * What a queue message must look like to be written (the events consumer validates every body
 * with it). Strict about the columns rollups group by; `data` is free-form but must be an object.
 */
export const DomainEventSchema = z.object({
  id: z.string().min(1).max(100),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.number().int().positive().max(8_640_000_000_000_000),
  sessionId: optionalText(100),
  classId: optionalText(100),
  studioId: optionalText(100),
  cityId: optionalText(100),
  bookingId: optionalText(100),
  customerId: optionalText(100),
  email: optionalText(320),
  clientKey: optionalText(100),
  code: optionalText(100),
  seats: optionalCount,
  amountPence: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullish(),
  source: optionalText(100),
  data: z.record(z.string(), z.unknown()).optional(),
});

// The schema and the interface describe the same thing: a change to one that the other does not
// follow fails the type check here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<z.infer<typeof DomainEventSchema>, DomainEvent> = true;
void schemaMatchesInterface;

/** A new event with a fresh id, happening now unless told otherwise. */
export function domainEvent(type: EventType, fields: Omit<DomainEvent, "id" | "type" | "occurredAt"> & { occurredAt?: number } = {}): DomainEvent {
  return { id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, type, occurredAt: Date.now(), ...fields };
}
