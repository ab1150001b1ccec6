/**
 * The booking funnel in SQL over `events` (alias `e`), shared by the daily rollup and the
 * booking-conversion alert so both count the same thing (README "Metrics and alerts").
 *
 * A checkout is one customer attempt to buy that reached the seat check: CHECKOUT_STARTED with
 * `origin` "hold" (a hold) or "booking" (a booking made without a hold), emitted once per attempt
 * by src/services/attempt-events.ts. Client-sent CHECKOUT_STARTED (`origin` "client") are demand
 * signals only. A checkout converted when it ended in a booking: a "booking" checkout whose
 * outcome was accepted, or a hold that a BOOKING_CONFIRMED names (`data.holdId`) before it
 * expired. Conversions are counted on the checkout, so conversion ≤ 1 in every period.
 */

/** How long after a hold's expiry its booking may still be recorded (the request finishing). */
export const HOLD_BOOKING_GRACE_MS = 5 * 60_000;

/** True for a funnel checkout. */
export const FUNNEL_CHECKOUT = `(e.type = 'CHECKOUT_STARTED' AND json_extract(e.data, '$.origin') IN ('hold', 'booking'))`;

/**
 * 1 when a funnel checkout ended in a booking, else 0. A hold's booking is one seek in
 * events_hold_booking_idx (BOOKING_CONFIRMED by `data ->> '$.holdId'`, then time, between the hold
 * and its expiry); the expression must stay the index's, and the index is named so it is used.
 */
export const CHECKOUT_CONVERTED = `(CASE json_extract(e.data, '$.origin')
  WHEN 'booking' THEN COALESCE(json_extract(e.data, '$.outcome') = 'accepted', 0)
  WHEN 'hold' THEN json_extract(e.data, '$.holdId') IS NOT NULL AND EXISTS (
    SELECT 1 FROM events b INDEXED BY events_hold_booking_idx
    WHERE b.type = 'BOOKING_CONFIRMED'
      AND b.data ->> '$.holdId' = json_extract(e.data, '$.holdId')
      AND b.occurred_at >= e.occurred_at
      AND b.occurred_at <= COALESCE(json_extract(e.data, '$.holdExpiresAt'), e.occurred_at) + ${HOLD_BOOKING_GRACE_MS})
  ELSE 0 END)`;

/**
 * True when a funnel checkout's outcome is known at `nowParam` (a bound parameter such as "?2"):
 * a hold still open and not yet booked is undecided, and left out of a conversion rate for now.
 */
export const checkoutDecidedBy = (nowParam: string) =>
  `(json_extract(e.data, '$.origin') <> 'hold' OR COALESCE(json_extract(e.data, '$.holdExpiresAt'), 0) + ${HOLD_BOOKING_GRACE_MS} <= ${nowParam} OR ${CHECKOUT_CONVERTED})`;
