/**
 * The D1 schema: the one place tables are described, a file per area in src/db/schema/. SQL
 * migrations in migrations/ are generated from it with `npm run db:generate`; a test fails when
 * the two disagree.
 *
 * Conventions: ids are prefixed text (`cls_…`), instants are UTC epoch milliseconds
 * (`timestamp_ms`), money is integer pence, emails are stored lower-cased.
 */
import { BOOKING_KINDS, type BookingKind } from "../domain/booking-kinds";
import { PAYMENT_MODES, type PaymentMode } from "../domain/booking-terms";
import { DEMAND_SIGNAL_TYPES } from "../domain/demand-signals";

// Defined with the rules that use them (src/domain), stored here.
export { BOOKING_KINDS, type BookingKind, DEMAND_SIGNAL_TYPES, PAYMENT_MODES, type PaymentMode };

export * from "./schema/catalog";
export * from "./schema/bookings";
export * from "./schema/waitlists";
export * from "./schema/operations";
export * from "./schema/messages";
export * from "./schema/calendar";
export * from "./schema/accounts";
export * from "./schema/studio-operations";
export * from "./schema/payments";
