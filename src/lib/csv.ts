/**
 * CSV files for staff: RFC 4180 (CRLF line ends, fields quoted when they hold a comma, a quote or a
 * line break), streamed so an export of any size never sits in memory at once.
 *
 * Text cells a spreadsheet would run as a formula are neutralised: a customer's name or notes are
 * not to be trusted, and `=HYPERLINK(...)` in a name must open as text, not as a link.
 */
import { stringify } from "csv-stringify/browser/esm/sync";
import { ApiError } from "../errors";

/** Cells starting with one of these are read as a formula (Excel, Sheets, LibreOffice; the full-width forms by Numbers). */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** Prefixes `'` to a text cell that would otherwise start a formula; other text is returned as is. */
export function neutraliseFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** One cell as the text written: numbers as digits, dates ISO 8601 UTC, null/undefined empty. */
export type CsvCell = string | number | boolean | Date | null | undefined;

/**
 * Turns rows into CSV text lines (each ending CRLF). Only strings are neutralised: numbers such as a
 * negative refund are ours, not typed by anyone, and must stay numbers in the spreadsheet.
 */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return "";
  return stringify(rows as unknown[][], {
    record_delimiter: "windows",
    // Set explicitly: with a custom record_delimiter the library would stop quoting lone \n or \r.
    quote_record_delimiter: true,
    cast: {
      string: neutraliseFormula,
      boolean: (value) => (value ? "true" : "false"),
      date: (value) => value.toISOString(),
      object: (value) => neutraliseFormula(JSON.stringify(value)),
    },
  });
}

/** Bytes buffered before a chunk is handed to the stream: fewer, larger writes. */
const FLUSH_BYTES = 16 * 1024;

/** One JSON log line per failed export, as the rest of the service logs errors. */
function logExportFailure(file: string, rowsSent: number, error: unknown): void {
  console.error(JSON.stringify({ level: "error", msg: "csv export failed", file, rowsSent, error: String(error) }));
}

/**
 * A stream of CSV bytes: the header row, then every row from `rows` as it is produced. The source is
 * pulled only as fast as the client reads, and closed (its `finally` blocks run) if the client goes away.
 * If the source throws, the stream is errored, never closed: the response then ends without its
 * terminating chunk and the download fails, rather than passing for a complete, shorter file.
 */
export function csvStream(header: readonly string[], rows: AsyncIterable<readonly unknown[]>, file = "export.csv"): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  let headerSent = false;
  let cancelled = false;
  let rowsSent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let text = "";
      if (!headerSent) {
        text = csvLines([header]);
        headerSent = true;
      }
      try {
        const batch: (readonly unknown[])[] = [];
        let read = 0;
        while (text.length < FLUSH_BYTES) {
          const next = await iterator.next();
          if (next.done) {
            text += csvLines(batch);
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          batch.push(next.value);
          read++;
          if (batch.length >= 200) text += csvLines(batch.splice(0));
        }
        text += csvLines(batch);
        controller.enqueue(encoder.encode(text));
        rowsSent += read;
      } catch (error) {
        // The reader went away while a row was being read: nothing to report.
        if (cancelled) return;
        // The status is sent by now: only a broken download tells the client rows are missing.
        logExportFailure(file, rowsSent, error);
        controller.error(error);
      }
    },
    async cancel() {
      cancelled = true;
      await iterator.return?.();
    },
  });
}

/** Response headers for a CSV download named `filename` (ASCII letters, digits, `-`, `_`, `.`). */
export function csvHeaders(filename: string): Record<string, string> {
  return {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="${filename.replace(/[^\w.-]/g, "_")}"`,
    "Cache-Control": "private, no-store",
  };
}

/**
 * `csvStream`, but the first row (or the end) is read before anything is sent: a source that fails
 * at once, e.g. D1 unreachable on the first page, is a 503 EXPORT_UNAVAILABLE JSON error the client
 * can retry, instead of a 200 whose file is only a header row.
 */
export async function openCsvStream(header: readonly string[], rows: AsyncIterable<readonly unknown[]>, file: string): Promise<ReadableStream<Uint8Array>> {
  const iterator = rows[Symbol.asyncIterator]();
  let first: IteratorResult<readonly unknown[]>;
  try {
    first = await iterator.next();
  } catch (error) {
    logExportFailure(file, 0, error);
    const refused = new ApiError("EXPORT_UNAVAILABLE", "The export could not be read; nothing was sent. Try again shortly.", { file });
    refused.headers["Retry-After"] = "5";
    throw refused;
  }
  return csvStream(header, resumed(first, iterator), file);
}

/** The rows of `iterator` again, starting with `first` (already read); closing this closes the source. */
async function* resumed<T>(first: IteratorResult<T>, iterator: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    for (let next = first; !next.done; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}
