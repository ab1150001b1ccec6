/** Demand signals: what customers wanted, including what they could not buy and why. */
import type { Db } from "../db/client";
import { demandSignals } from "../db/schema";
import { newId } from "../lib/ids";

export type DemandSignal = Omit<typeof demandSignals.$inferInsert, "id" | "createdAt" | "updatedAt">;

export async function recordDemandSignal(db: Db, signal: DemandSignal): Promise<void> {
  await db.insert(demandSignals).values({ id: newId("signal"), ...signal });
}
