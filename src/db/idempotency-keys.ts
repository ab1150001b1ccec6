/** The D1 table of Idempotency-Key records (src/middleware/idempotency.ts): its upkeep. */
import { lte } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";

/** Deletes keys past their retention; for a scheduled job. Returns how many went. */
export async function purgeExpiredIdempotencyKeys(db: Db, now = new Date()): Promise<number> {
  const deleted = await db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, now)).returning({ key: idempotencyKeys.key });
  return deleted.length;
}
