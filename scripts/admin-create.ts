/**
 * Makes an email an admin: the first admin of a deployment, who then invites staff from the
 * console or the API (POST /api/v1/admin/staff/{id}/invite). They sign in by emailed link.
 *
 *   npm run admin:create -- --email owner@studio.example            # the local D1 (npm start's)
 *   npm run admin:create -- --email owner@studio.example --remote   # the deployed D1 (wrangler login)
 *
 * Locally it uses the same service as the API (src/services/staff-access.ts); remotely it runs the
 * equivalent statement through `wrangler d1 execute --remote`, after applying the migrations.
 */
import { getPlatformProxy } from "wrangler";
import { z } from "zod";
import { getDb } from "../src/db/client";
import type { Env } from "../src/env";
import { grantAdmin } from "../src/services/staff-access";

interface NodeUtil {
  parseArgs(config: { args: string[]; options: Record<string, { type: "string" | "boolean" }>; allowPositionals: boolean }): { values: Record<string, string | boolean | undefined> };
}
interface NodeChildProcess {
  spawnSync(command: string, args: string[], options: { stdio: "inherit" }): { status: number | null };
}
const util = process.getBuiltinModule("node:util") as NodeUtil;
const childProcess = process.getBuiltinModule("node:child_process") as NodeChildProcess;

const USAGE = "usage: npm run admin:create -- --email someone@example.com [--remote]";

function fail(message: string): never {
  console.error(`admin:create: ${message}\n${USAGE}`);
  return process.exit(1) as never;
}

const { values } = util.parseArgs({ args: process.argv.slice(2), options: { email: { type: "string" }, remote: { type: "boolean" } }, allowPositionals: false });
// Plain addresses only: the remote path puts it in a SQL literal, so nothing that could end one gets through.
const parsed = z
  .email()
  .max(254)
  .regex(/^[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$/)
  .safeParse(String(values.email ?? "").trim().toLowerCase());
if (!parsed.success) fail("--email must be a plain email address");
const email = parsed.data;

if (values.remote) {
  const run = (args: string[]) => childProcess.spawnSync("wrangler", args, { stdio: "inherit" }).status === 0 || fail(`wrangler ${args.join(" ")} failed`);
  run(["d1", "migrations", "apply", "DB", "--remote"]);
  const id = `acc_${crypto.randomUUID().replaceAll("-", "")}`;
  run([
    "d1", "execute", "DB", "--remote", "--command",
    `INSERT INTO accounts (id, email, role, staff_id, role_set_by) VALUES ('${id}', '${email}', 'admin', (SELECT id FROM staff WHERE email = '${email}'), 'admin:create') ` +
      `ON CONFLICT (email) DO UPDATE SET role = 'admin', role_set_by = 'admin:create', updated_at = cast(unixepoch('subsec') * 1000 as integer)`,
  ]);
} else {
  const { env, dispose } = await getPlatformProxy<Pick<Env, "DB">>({ configPath: "wrangler.toml" });
  try {
    const account = await grantAdmin(getDb(env.DB), email, "admin:create", new Date());
    console.log(`admin:create: ${account.email} is an admin (account ${account.id}) in the local D1`);
  } finally {
    await dispose();
  }
}
console.log("Sign in at /sign-in with that address: the link arrives by email (locally at /dev/mailbox).");
