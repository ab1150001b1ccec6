/**
 * Writes the promo redemptions PromoRedemptionsDOs deliver from their outboxes into D1: upserts
 * keyed by booking and guarded by `version` (the object's change counter), so redelivery and
 * out-of-order delivery only ever move a row to a newer state.
 */
import type { PromoRedemptionChange } from "../domain/projection";

export function promoRedemptionStatements(d1: D1Database, changes: PromoRedemptionChange[]): D1PreparedStatement[] {
  return changes.map((change) =>
    d1
      .prepare(
        `INSERT INTO promo_redemptions (booking_id, promo_code_id, email, status, version, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (booking_id) DO UPDATE SET status = excluded.status, version = excluded.version
         WHERE excluded.version > promo_redemptions.version`,
      )
      .bind(change.bookingId, change.promoCodeId, change.email, change.status, change.version, change.redeemedAt),
  );
}
