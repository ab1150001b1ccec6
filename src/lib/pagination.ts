/** Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON. */
import { ApiError } from "../errors";

export function encodeCursor(key: (string | number)[]): string {
  return btoa(JSON.stringify(key)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Decodes a cursor made by `encodeCursor` with `size` parts; anything else is a 400. */
export function decodeCursor(cursor: string, size: number): (string | number)[] {
  try {
    const parsed: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      Array.isArray(parsed) &&
      parsed.length === size &&
      parsed.every((part) => typeof part === "string" || typeof part === "number")
    ) {
      return parsed;
    }
  } catch {
    // fall through to the error below
  }
  throw new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
    location: "query",
    issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
  });
}

/** Splits `limit + 1` fetched rows into a page and the cursor for the next one. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]) {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
