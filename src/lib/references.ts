/**
 * Checks that ids a client sends name existing rows, so a bad reference is a 422 naming the field
 * rather than a bare foreign-key failure.
 */
import { type SQL, sql } from "drizzle-orm";
import type { BaseSQLiteDatabase, SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { ApiError } from "../errors";

type TableWithId = SQLiteTable & { id: SQLiteColumn };

/** Any drizzle SQLite database (the app's `Db` over D1 is one): lib knows no schema of ours. */
type AnySqliteDb = BaseSQLiteDatabase<"async", unknown, any>;

/** 422 INVALID_REFERENCE for `field`; `details` says which ids and why. */
export function invalidReference(field: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError("INVALID_REFERENCE", `${field}: ${message}`, { field, ...details });
}

/**
 * `column IN (ids)` with the ids bound as one JSON parameter, so a long list never reaches D1's
 * limit of 100 bound parameters per statement.
 */
export function inIdList(column: SQLiteColumn, ids: readonly string[]): SQL {
  return sql`${column} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/** Throws 422 INVALID_REFERENCE (details `{ field, missing }`) unless every id names a row of `table`. */
export async function assertReferencesExist(db: AnySqliteDb, table: TableWithId, field: string, ids: readonly string[]): Promise<void> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return;
  const found = await db.select({ id: table.id }).from(table).where(inIdList(table.id, wanted));
  const foundIds = new Set(found.map((row) => String(row.id)));
  const missing = wanted.filter((id) => !foundIds.has(id));
  if (missing.length > 0) throw invalidReference(field, `no such record: ${missing.join(", ")}`, { missing });
}

/** True when the value has no repeated entries (by `key`); for zod refinements on set-like arrays. */
export function hasNoDuplicates<T>(values: readonly T[], key: (value: T) => unknown = (value) => value): boolean {
  return new Set(values.map(key)).size === values.length;
}
