/**
 * What the money figures mean (DESIGN invariant 5: revenue counts money received, net of refunds),
 * in SQL shared by the reports (src/services/reports) and the daily rollup (src/jobs/rollups.ts),
 * so both count the same money in the same period.
 *
 * - bookedValuePence: what bookings are worth — the server's price of their confirmed lines
 *   (bookings.net_pence, net of cancelled lines), for bookings confirmed in the period. Money
 *   promised, not money had: an at-studio booking nobody has paid for yet counts here, and only
 *   here. (Also booked value: revenue-by-source's grossPence / netPence, the bookings.value_pence
 *   metrics, customer-lifetime-value's netSpendPence.)
 * - receivedPence: money that arrived — payments.paid_pence, in the period of payments.paid_at;
 *   online and desk payments alike (a move's price difference is a payment of its own).
 * - refundedPence: money given back — each succeeded refund row in the period it succeeded
 *   (refunds.updated_at: a refund's row changes once, from pending to its outcome), plus what the
 *   provider reports refunded on a payment beyond our succeeded rows (a refund made in the
 *   provider's dashboard has no row), in the period of the payment's last change
 *   (payments.updated_at). A pending or failed refund gave nothing back.
 * - revenuePence = receivedPence − refundedPence, in the period: what "revenue" means everywhere.
 *   A period that refunded more than it took reads below zero.
 *
 * Periods go by when the money moved, not when the booking was made: a refund next month lowers
 * next month's revenue, and this month's stays as it was. Money counts whether or not its booking
 * is in D1 (D1 has confirmed and cancelled bookings only: a booking paid online reaches it once
 * confirmed, and a late payment given back never does); such money has no class, studio or source.
 *
 * Cost: a period's payments and refunds are range searches on when the money moved (migration
 * 0011: payments(paid_at, …), the partial payments(updated_at) of refunded ones, refunds(updated_at,
 * status, …)); each payment carries its booking's class and source, so no booking is looked up.
 */

/**
 * One row per payment or succeeded refund that moved money in [start, end) — `classId`, `source`
 * (the booking's, kept on the payment), `receivedPence`, `refundedPence` — for a CTE. `start` and
 * `end` are SQL placeholders or literals (e.g. "?1", "?2"). Payments are `pay` and refunds `r`.
 */
export function moneyMoved(start: string, end: string): string {
  // Three parts, each read from its own index: money received (payments_paid_at_idx covers it),
  // refunds the provider reported beyond our rows (the partial payments_refunded_idx), and our
  // succeeded refunds (refunds_settled_idx, then their payment by key).
  return `SELECT pay.class_id AS classId, pay.source AS source, pay.paid_pence AS receivedPence, 0 AS refundedPence
          FROM payments pay
          WHERE pay.paid_at >= ${start} AND pay.paid_at < ${end} AND pay.paid_pence > 0
          UNION ALL
          SELECT pay.class_id, pay.source, 0,
                 max(0, pay.refunded_pence - (SELECT COALESCE(sum(r.amount_pence), 0) FROM refunds r WHERE r.payment_id = pay.id AND r.status = 'succeeded'))
          FROM payments pay
          WHERE pay.refunded_pence > 0 AND pay.updated_at >= ${start} AND pay.updated_at < ${end}
          UNION ALL
          SELECT pay.class_id, pay.source, 0, r.amount_pence
          FROM refunds r JOIN payments pay ON pay.id = r.payment_id
          WHERE r.status = 'succeeded' AND r.updated_at >= ${start} AND r.updated_at < ${end}`;
}
