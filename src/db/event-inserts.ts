/**
 * Events and the demand signals they stand for, as plain prepared statements for a D1 batch (the
 * projection consumer writes hundreds per batch; building each through the query builder cost
 * more than running it). Ids come with the events, so a redelivery writes nothing twice.
 */
import type { DomainEvent } from "../domain/events";
import { demandSignalOf } from "../domain/demand-signals";

const INSERT_EVENT = `INSERT INTO events (id, type, occurred_at, session_id, class_id, studio_id, city_id, booking_id, customer_id, email,
  client_key, code, seats, amount_pence, source, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;

const INSERT_SIGNAL = `INSERT INTO demand_signals (id, course_id, user_id, city_id, signal_type, reason, metadata, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;

export function eventInserts(d1: D1Database, events: DomainEvent[]): D1PreparedStatement[] {
  const unique = [...new Map(events.map((event) => [event.id, event])).values()];
  return unique.flatMap((event) => {
    const statements = [
      d1
        .prepare(INSERT_EVENT)
        .bind(
          event.id,
          event.type,
          event.occurredAt,
          event.sessionId ?? null,
          event.classId ?? null,
          event.studioId ?? null,
          event.cityId ?? null,
          event.bookingId ?? null,
          event.customerId ?? null,
          event.email ?? null,
          event.clientKey ?? null,
          event.code ?? null,
          event.seats ?? null,
          event.amountPence ?? null,
          event.source ?? null,
          event.data === undefined ? null : JSON.stringify(event.data),
        ),
    ];
    const signal = demandSignalOf(event);
    if (signal) {
      statements.push(
        d1
          .prepare(INSERT_SIGNAL)
          .bind(signal.id, signal.courseId, signal.userId, signal.cityId, signal.signalType, signal.reason, signal.metadata === null ? null : JSON.stringify(signal.metadata), signal.createdAt.getTime()),
      );
    }
    return statements;
  });
}
