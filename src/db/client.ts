/** A drizzle client over the D1 binding, typed with the schema. */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** One client per binding: building one (the schema's relations) costs more than most queries. */
const clients = new WeakMap<D1Database, ReturnType<typeof build>>();

function build(d1: D1Database) {
  return drizzle(d1, { schema });
}

export function getDb(d1: D1Database) {
  let db = clients.get(d1);
  if (!db) {
    db = build(d1);
    clients.set(d1, db);
  }
  return db;
}

export type Db = ReturnType<typeof getDb>;
