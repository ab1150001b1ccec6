/**
 * The drizzle schema (src/db/schema.ts) and the SQL migrations must describe the same database.
 * test/setup.ts applies the migrations to the test D1; this test reads that database back with
 * PRAGMAs and compares it, table by table, with what the schema declares. A failure lists every
 * difference on its own line, e.g. `classes.price_pence: notNull: schema true, database false`.
 */
import { is, SQL } from "drizzle-orm";
import { env } from "cloudflare:workers";
import { getTableConfig, index, sqliteTable, SQLiteSyncDialect, SQLiteTable, text, type AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../src/db/schema";

/** Tables the platform makes for itself, which no schema declares. */
const IGNORED_TABLES = /^(d1_migrations|sqlite_.*|_cf_.*)$/;

interface ColumnShape {
  type: string;
  notNull: boolean;
  /** Normalised SQL text of the default, or null. */
  default: string | null;
}

interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: string[];
  indexes: Record<string, { unique: boolean; partial: boolean; columns: string[] }>;
  foreignKeys: string[];
}

type DatabaseShape = Record<string, TableShape>;

const dialect = new SQLiteSyncDialect();

/** `(cast(x as integer))`, `cast(x as integer)` and ` CAST(x AS INTEGER) ` compare equal. */
function normaliseDefault(sqlText: string): string {
  let text = sqlText.trim().replace(/\s+/g, " ").toLowerCase();
  while (/^\(.*\)$/.test(text) && balanced(text.slice(1, -1))) text = text.slice(1, -1).trim();
  return text;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** The default as drizzle-kit writes it into a migration. */
function schemaDefault(column: AnySQLiteColumn): string | null {
  const value: unknown = column.default;
  if (value === undefined) return null;
  if (is(value, SQL)) return normaliseDefault(dialect.sqlToQuery(value).sql);
  if (typeof value === "string") return normaliseDefault(`'${value.replaceAll("'", "''")}'`);
  if (typeof value === "number" || typeof value === "boolean") return normaliseDefault(String(value));
  return normaliseDefault(`'${JSON.stringify(value)}'`);
}

const columnName = (column: unknown) => (is(column, SQL) ? "<expression>" : (column as AnySQLiteColumn).name);

/** What src/db/schema.ts declares, in the same terms as `describeDatabase`. */
function describeSchema(tables: SQLiteTable[]): DatabaseShape {
  const shape: DatabaseShape = {};
  for (const table of tables) {
    const config = getTableConfig(table);
    const columns: Record<string, ColumnShape> = {};
    for (const column of config.columns) {
      columns[column.name] = { type: column.getSQLType().toLowerCase(), notNull: column.notNull, default: schemaDefault(column) };
    }
    const composite = config.primaryKeys[0]?.columns.map((c) => c.name);
    const primaryKey = composite ?? config.columns.filter((c) => c.primary).map((c) => c.name);

    const indexes: TableShape["indexes"] = {};
    for (const { config: ix } of config.indexes) {
      indexes[ix.name] = { unique: ix.unique, partial: ix.where !== undefined, columns: ix.columns.map(columnName) };
    }
    // `.unique()` on a column and `unique().on(...)` become unique indexes in SQLite migrations.
    for (const column of config.columns) {
      if (column.isUnique) indexes[column.uniqueName ?? `${config.name}_${column.name}_unique`] = { unique: true, partial: false, columns: [column.name] };
    }
    for (const constraint of config.uniqueConstraints) {
      const name = constraint.getName() ?? `${config.name}_${constraint.columns.map((c) => c.name).join("_")}_unique`;
      indexes[name] = { unique: true, partial: false, columns: constraint.columns.map((c) => c.name) };
    }

    const foreignKeys = config.foreignKeys
      .map((fk) => {
        const ref = fk.reference();
        return formatForeignKey(
          ref.columns.map((c) => c.name),
          getTableConfig(ref.foreignTable).name,
          ref.foreignColumns.map((c) => c.name),
          fk.onDelete,
          fk.onUpdate,
        );
      })
      .sort();
    shape[config.name] = { columns, primaryKey, indexes, foreignKeys };
  }
  return shape;
}

function formatForeignKey(from: string[], table: string, to: string[], onDelete?: string | null, onUpdate?: string | null): string {
  const action = (value?: string | null) => (value ?? "no action").toLowerCase();
  return `(${from.join(", ")}) -> ${table}(${to.join(", ")}) on delete ${action(onDelete)} on update ${action(onUpdate)}`;
}

/** What the migrated D1 database actually holds. */
async function describeDatabase(db: D1Database): Promise<DatabaseShape> {
  const { results: tables } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all<{ name: string }>();
  const shape: DatabaseShape = {};
  for (const { name } of tables) {
    if (IGNORED_TABLES.test(name)) continue;
    const { results: info } = await db
      .prepare("SELECT name, type, \"notnull\" AS not_null, dflt_value AS dflt, pk FROM pragma_table_info(?1)")
      .bind(name)
      .all<{ name: string; type: string; not_null: number; dflt: string | null; pk: number }>();
    const columns: Record<string, ColumnShape> = {};
    for (const column of info) {
      columns[column.name] = { type: column.type.toLowerCase(), notNull: column.not_null === 1, default: column.dflt === null ? null : normaliseDefault(column.dflt) };
    }
    const primaryKey = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);

    const { results: indexList } = await db
      .prepare("SELECT name, \"unique\" AS isUnique, origin, partial FROM pragma_index_list(?1)")
      .bind(name)
      .all<{ name: string; isUnique: number; origin: string; partial: number }>();
    const indexes: TableShape["indexes"] = {};
    // origin 'pk' is the automatic index behind a text primary key, already compared as primaryKey.
    for (const ix of indexList.filter((i) => i.origin !== "pk")) {
      const { results: cols } = await db
        .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
        .bind(ix.name)
        .all<{ name: string | null }>();
      indexes[ix.name] = { unique: ix.isUnique === 1, partial: ix.partial === 1, columns: cols.map((c) => c.name ?? "<expression>") };
    }

    const { results: fkRows } = await db
      .prepare("SELECT id, seq, \"table\" AS target, \"from\" AS source, \"to\" AS dest, on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
      .bind(name)
      .all<{ id: number; target: string; source: string; dest: string; on_update: string; on_delete: string }>();
    const byId = new Map<number, typeof fkRows>();
    for (const row of fkRows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
    const foreignKeys = [...byId.values()]
      .map((rows) =>
        formatForeignKey(
          rows.map((r) => r.source),
          rows[0]!.target,
          rows.map((r) => r.dest),
          rows[0]!.on_delete,
          rows[0]!.on_update,
        ),
      )
      .sort();
    shape[name] = { columns, primaryKey, indexes, foreignKeys };
  }
  return shape;
}

/** Every way `actual` differs from `expected`, one readable line each; empty when they agree. */
function diffShapes(expected: DatabaseShape, actual: DatabaseShape): string[] {
  const out: string[] = [];
  const show = (value: unknown) => JSON.stringify(value);
  for (const table of Object.keys(expected).sort()) {
    const want = expected[table]!;
    const have = actual[table];
    if (!have) {
      out.push(`${table}: table is in the schema but not in the database`);
      continue;
    }
    for (const [column, spec] of Object.entries(want.columns)) {
      const real = have.columns[column];
      if (!real) {
        out.push(`${table}.${column}: column is in the schema but not in the database`);
        continue;
      }
      for (const key of ["type", "notNull", "default"] as const) {
        if (spec[key] !== real[key]) out.push(`${table}.${column}: ${key}: schema ${show(spec[key])}, database ${show(real[key])}`);
      }
    }
    for (const column of Object.keys(have.columns)) {
      if (!want.columns[column]) out.push(`${table}.${column}: column is in the database but not in the schema`);
    }
    if (show(want.primaryKey) !== show(have.primaryKey)) {
      out.push(`${table}: primary key: schema ${show(want.primaryKey)}, database ${show(have.primaryKey)}`);
    }
    for (const [name, spec] of Object.entries(want.indexes)) {
      const real = have.indexes[name];
      if (!real) out.push(`${table}: index ${name} is in the schema but not in the database`);
      else if (show(spec) !== show(real)) out.push(`${table}: index ${name}: schema ${show(spec)}, database ${show(real)}`);
    }
    for (const name of Object.keys(have.indexes)) {
      if (!want.indexes[name]) out.push(`${table}: index ${name} is in the database but not in the schema`);
    }
    for (const fk of want.foreignKeys.filter((f) => !have.foreignKeys.includes(f))) out.push(`${table}: foreign key ${fk} is in the schema but not in the database`);
    for (const fk of have.foreignKeys.filter((f) => !want.foreignKeys.includes(f))) out.push(`${table}: foreign key ${fk} is in the database but not in the schema`);
  }
  for (const table of Object.keys(actual).sort()) {
    if (!expected[table]) out.push(`${table}: table is in the database but not in the schema`);
  }
  return out;
}

const schemaTables = Object.values(schema as Record<string, unknown>).filter((value): value is SQLiteTable => is(value, SQLiteTable));

describe("drizzle schema and migrations", () => {
  it("finds the schema's tables", () => {
    expect(schemaTables.length).toBeGreaterThanOrEqual(10);
    expect(schemaTables.map((t) => getTableConfig(t).name)).toContain("class_sessions");
  });

  it("describe the same database", async () => {
    const differences = diffShapes(describeSchema(schemaTables), await describeDatabase(env.DB));
    // On failure vitest prints the lines that should not be there; fix the schema or run `npm run db:generate`.
    expect(differences).toEqual([]);
  });

  it("would notice drift (the comparison is not vacuous)", async () => {
    const actual = await describeDatabase(env.DB);
    const expected = describeSchema(schemaTables);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    expect(actual.class_sessions!.indexes.class_sessions_pattern_start_uq).toEqual({ unique: true, partial: false, columns: ["pattern_id", "starts_at"] });
    expect(actual.staff_teaching_roles!.primaryKey).toEqual(["staff_id", "role_id"]);

    const drifted = sqliteTable(
      "cities",
      {
        id: text("id").primaryKey(),
        name: text("name"),
        countryCode: text("country_code").notNull().default("GB"),
        nickname: text("nickname").notNull(),
      },
      (t) => [index("cities_nickname_idx").on(t.nickname)],
    );
    const others = schemaTables.filter((t) => getTableConfig(t).name !== "cities");
    const ghost = sqliteTable("ghosts", { id: text("id").primaryKey() });
    const differences = diffShapes(describeSchema([...others, drifted, ghost]), actual);
    expect(differences).toEqual(
      expect.arrayContaining([
        'cities.name: notNull: schema false, database true',
        `cities.country_code: default: schema "'gb'", database null`,
        "cities.nickname: column is in the schema but not in the database",
        "cities.created_at: column is in the database but not in the schema",
        "cities: index cities_nickname_idx is in the schema but not in the database",
        "cities: index cities_name_unique is in the database but not in the schema",
        "ghosts: table is in the schema but not in the database",
      ]),
    );
  });
});
