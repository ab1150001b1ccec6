/** What an attempt is about, from the booking context the flow loaded. */
import type { AttemptSubject } from "../domain/attempt-events";
import type { BookingContext } from "./booking-context";

export type { AttemptSubject, FunnelCheckout, CancellationData } from "../domain/attempt-events";

/** The subject of a hold or booking attempt, from its loaded context. */
export function subjectOf(context: BookingContext, data?: Record<string, unknown>): AttemptSubject {
  return {
    classId: context.class.id,
    studioId: context.studioId,
    cityId: context.cityId,
    customerId: context.customerId,
    sessionIds: context.sessions.map((session) => session.id),
    ...(data ? { data } : {}),
  };
}
