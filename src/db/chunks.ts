/**
 * D1 binds at most 100 parameters per statement. Multi-row inserts are packed greedily into
 * chunks that stay under the limit, so a batch of rows costs as few statements as possible.
 */
export const D1_MAX_BOUND_PARAMETERS = 100;

/**
 * Drops null and undefined values: drizzle writes a missing column as a literal NULL (or its SQL
 * default) instead of binding a parameter, so only the values that are present count.
 */
export function presentValues<T extends object>(row: T): Partial<T> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null && value !== undefined)) as Partial<T>;
}

/** Rows grouped so that each group binds at most `limit` parameters (one per present value). */
export function chunkByParameters<T extends object>(rows: T[], limit = D1_MAX_BOUND_PARAMETERS): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const row of rows) {
    const needed = Object.values(row).filter((value) => value !== undefined).length;
    if (needed > limit) throw new RangeError(`A row with ${needed} values cannot be bound in one statement`);
    if (used + needed > limit && current.length > 0) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(row);
    used += needed;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
