/**
 * Which domain events are demand signals, and how each reads as one. Pure: the events consumer
 * writes the result next to the event, with the event's id, so a redelivery adds nothing.
 */
import type { DomainEvent, EventType } from "./events";

/** What customers wanted (the `demand_signals.signal_type` column): views, checkouts, purchases blocked, waitlist sign-ups. */
export const DEMAND_SIGNAL_TYPES = ["COURSE_VIEW", "CHECKOUT_STARTED", "PURCHASE_BLOCKED", "WAITLIST"] as const;
export type DemandSignalType = (typeof DEMAND_SIGNAL_TYPES)[number];

export interface DerivedDemandSignal {
  id: string;
  courseId: string;
  userId: string | null;
  cityId: string | null;
  signalType: DemandSignalType;
  reason: string | null;
  metadata: Record<string, unknown> | null;
  /** When the customer did it (the event's time), not when the consumer wrote it. */
  createdAt: Date;
}

/**
 * Unmet demand split by why it went unmet (seed 000): a course nobody can teach is a reason to
 * hire a trainer (refused NO_TRAINER, or a notify-me registration); a course whose sessions are
 * full is a reason to add a session (refused for seats, or a session waitlist sign-up). The two
 * are never added together: a sold-out course needs no new trainer.
 */
export const HIRING_DEMAND = { blockedReasons: ["NO_TRAINER"], waitlistReasons: ["no_trainer"] } as const;
export const SOLD_OUT_DEMAND = { blockedReasons: ["SESSION_FULL", "INSUFFICIENT_CAPACITY"], waitlistReasons: ["session_full"] } as const;

/** Which unmet demand a signal is, or null (views, checkouts, other refusals such as RESOURCE_UNAVAILABLE). */
export function unmetDemandKind(signalType: DemandSignalType, reason: string | null): "hiring" | "sold_out" | null {
  const reasons = (kind: { blockedReasons: readonly string[]; waitlistReasons: readonly string[] }) =>
    signalType === "PURCHASE_BLOCKED" ? kind.blockedReasons : signalType === "WAITLIST" ? kind.waitlistReasons : [];
  if (reason === null) return null;
  if (reasons(HIRING_DEMAND).includes(reason)) return "hiring";
  if (reasons(SOLD_OUT_DEMAND).includes(reason)) return "sold_out";
  return null;
}

/** The signal type each demand event becomes, and the reason it carries (null: the event's code). */
const SIGNAL_OF: Partial<Record<EventType, { type: DemandSignalType; reason: string | null }>> = {
  COURSE_VIEWED: { type: "COURSE_VIEW", reason: null },
  CHECKOUT_STARTED: { type: "CHECKOUT_STARTED", reason: null },
  PURCHASE_BLOCKED: { type: "PURCHASE_BLOCKED", reason: null },
  // A session waitlist: the session was full. Course-level notify-me: no trainer to sell it.
  WAITLIST_JOINED: { type: "WAITLIST", reason: "session_full" },
  NOTIFY_ME_REGISTERED: { type: "WAITLIST", reason: "no_trainer" },
};

/** The demand signal an event stands for, or undefined when it is not one (or names no course). */
export function demandSignalOf(event: DomainEvent): DerivedDemandSignal | undefined {
  const mapping = SIGNAL_OF[event.type];
  if (!mapping || !event.classId) return undefined;
  return {
    id: event.id,
    courseId: event.classId,
    userId: event.customerId ?? null,
    cityId: event.cityId ?? null,
    signalType: mapping.type,
    reason: mapping.type === "PURCHASE_BLOCKED" ? (event.code ?? null) : mapping.reason,
    metadata: event.data ?? null,
    createdAt: new Date(event.occurredAt),
  };
}
