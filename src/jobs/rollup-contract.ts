/** The metric-rollups Queue's message: defined with the periods it names (src/domain/metric-periods.ts). */
export type { RollupChunk } from "../domain/metric-periods";
