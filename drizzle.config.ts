import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the SQL migrations in migrations/ from the one schema in src/db/schema.ts. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
