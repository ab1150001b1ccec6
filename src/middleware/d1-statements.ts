/**
 * For benchmarks: how many D1 statements a request runs before its response is returned.
 *
 * With `EXPOSE_D1_STATEMENTS` = "true", a request that asks (header `X-Count-D1: 1`; a bench asks on a
 * sample, so the counting itself does not weigh on the figures measured) sees, as `c.env`, a shallow copy of the
 * environment whose `DB` counts what is executed through it, and the response carries
 * `X-D1-Statements` (every statement) and `X-D1-Writes` (those that may write). Each
 * `prepare(…).run/all/first/raw` counts 1, `batch([…])` its length, `exec` 1. Counting stops when
 * the rest of the chain has produced the response: work left to `waitUntil`, queue consumers and
 * Durable Objects (which get their env from the runtime, never from `c.env`) is not counted.
 * Off ("false", the default), the middleware does nothing; any other value is a ConfigError
 * (src/config.ts).
 */
import { createMiddleware } from "hono/factory";
import { configOf } from "../config";
import type { AppEnv } from "../env";

export const D1_STATEMENTS_HEADER = "X-D1-Statements";
export const D1_WRITES_HEADER = "X-D1-Writes";
/** The request header that asks for the count. */
export const COUNT_D1_HEADER = "X-Count-D1";

/** What one request ran. `open` turns false once its response exists; later statements are not counted. */
export interface D1StatementCounter {
  statements: number;
  writes: number;
  open: boolean;
}

/**
 * Whether a statement may write: anything but `select …`, `pragma …`, `explain …`, or a
 * `with …` that contains no insert/update/delete/replace (a CTE in front of a select).
 */
export function isWriteStatement(sql: string): boolean {
  const text = sql.trim().toLowerCase();
  if (/^(select|pragma|explain)\b/.test(text)) return false;
  if (/^with\b/.test(text)) return /\b(insert|update|delete|replace)\b/.test(text);
  return true;
}

const EXECUTES = new Set<PropertyKey>(["run", "all", "first", "raw"]);

/** The SQL of a statement the runtime made (not through a counting proxy), if it shows it. */
function sqlOfForeign(statement: unknown): string | undefined {
  const sql = (statement as { statement?: unknown } | null)?.statement;
  return typeof sql === "string" ? sql : undefined;
}

/**
 * `db` (a D1Database or a D1DatabaseSession), counting into `counter`. Every function returned is
 * bound to the real object, so the binding's methods always run with their own `this`.
 */
export function countingD1<T extends object>(db: T, counter: D1StatementCounter): T {
  /** Counting proxy → the real statement and its SQL, so batch() can pass the real ones on. */
  const statements = new WeakMap<object, { real: D1PreparedStatement; sql: string }>();
  const add = (count: number, writes: number) => {
    if (!counter.open) return;
    counter.statements += count;
    counter.writes += writes;
  };

  const wrapStatement = (real: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(real, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        if (property === "bind") return (...values: unknown[]) => wrapStatement(value.apply(target, values) as D1PreparedStatement, sql);
        if (EXECUTES.has(property)) {
          return (...args: unknown[]) => {
            add(1, isWriteStatement(sql) ? 1 : 0);
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    statements.set(proxy, { real, sql });
    return proxy;
  };

  const wrapDatabase = <D extends object>(database: D): D =>
    new Proxy(database, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        switch (property) {
          case "prepare":
            return (sql: string) => wrapStatement(value.call(target, sql) as D1PreparedStatement, sql);
          case "batch":
            return (list: D1PreparedStatement[]) => {
              const known = list.map((statement) => statements.get(statement));
              // A statement of unknown origin and SQL counts as a write: the header never under-reports writes.
              const writes = list.filter((statement, index) => isWriteStatement(known[index]?.sql ?? sqlOfForeign(statement) ?? "")).length;
              add(list.length, writes);
              return value.call(target, list.map((statement, index) => known[index]?.real ?? statement));
            };
          case "exec":
            return (sql: string) => {
              add(1, isWriteStatement(sql) ? 1 : 0);
              return value.call(target, sql);
            };
          case "withSession":
            return (...args: unknown[]) => wrapDatabase(value.apply(target, args) as object);
          default:
            return value.bind(target);
        }
      },
    });

  return wrapDatabase(db);
}

export function d1Statements() {
  return createMiddleware<AppEnv>(async function d1Statements(c, next) {
    if (!c.env?.DB || c.req.header(COUNT_D1_HEADER) !== "1" || !configOf(c.env).exposeD1Statements) return next();
    const counter: D1StatementCounter = { statements: 0, writes: 0, open: true };
    c.env = { ...c.env, DB: countingD1(c.env.DB, counter) };
    try {
      await next();
    } finally {
      counter.open = false;
    }
    // A WebSocket upgrade's response cannot be copied; it carries no count.
    if (c.res.status === 101) return;
    const counts: [string, string][] = [
      [D1_STATEMENTS_HEADER, String(counter.statements)],
      [D1_WRITES_HEADER, String(counter.writes)],
    ];
    try {
      for (const [name, value] of counts) c.res.headers.set(name, value);
    } catch {
      // Immutable headers (a response passed through from a fetch): answer a copy.
      c.res = new Response(c.res.body, c.res);
      for (const [name, value] of counts) c.res.headers.set(name, value);
    }
  });
}
