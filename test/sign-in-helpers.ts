/** Signing in as a real user would: ask for a link, read it in the dev mailbox, use it. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { nextClientIp } from "./booking-helpers";
import { call, eventually } from "./helpers";

/** The newest message to `email` whose subject matches, as the dev mailbox holds it. */
export async function newestMessage(email: string, subject: RegExp, after = 0): Promise<{ id: string; subject: string; text: string; html: string | null; createdAt: string }> {
  return eventually(async () => {
    const { json } = await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
    return json.data.find((message: { subject: string; createdAt: string }) => subject.test(message.subject) && Date.parse(message.createdAt) >= after);
  }, 15_000);
}

/** The token of the sign-in link in a message (the link opens /sign-in?token=…). */
export function linkToken(text: string): string {
  const token = /\/sign-in\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  expect(token, `no sign-in link in: ${text}`).toBeTruthy();
  return token!;
}

/** Asks for a sign-in link and returns its token once the new message is in the mailbox. */
export async function requestLink(email: string, ip = nextClientIp()): Promise<string> {
  const mailbox = async () => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data as { id: string; subject: string; text: string }[];
  const seen = new Set((await mailbox()).map((message) => message.id));
  const asked = await call("POST", "/api/v1/auth/email-link", { body: { email }, headers: { "CF-Connecting-IP": ip } });
  expect(asked.status).toBe(202);
  const message = await eventually(async () => (await mailbox()).find((m) => !seen.has(m.id) && /sign in/i.test(m.subject)), 15_000);
  return linkToken(message.text);
}

/** Signs `email` in through the mailbox: the access token and the cookie header that carries it. */
export async function signIn(email: string): Promise<{ accessToken: string; cookie: string; user: { id: string; email: string; role: string } }> {
  const verified = await call("POST", "/api/v1/auth/verify", { body: { token: await requestLink(email) } });
  expect(verified.status).toBe(200);
  const setCookie = verified.headers.get("Set-Cookie") ?? "";
  return { accessToken: verified.json.accessToken, cookie: setCookie.split(";")[0]!, user: verified.json.user };
}

/**
 * Makes (or promotes) an account with a role straight in D1, as `npm run admin:create` does. A
 * staff account gets the active staff record a staff role needs (src/services/auth-sessions.ts).
 */
export async function grantRole(email: string, role: "staff" | "admin"): Promise<void> {
  let staffId: string | null = null;
  if (role === "staff") {
    staffId = `stf_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    await env.DB.prepare(`INSERT INTO staff (id, email, first_name, last_name) VALUES (?, ?, 'Sam', 'Staff') ON CONFLICT (email) DO NOTHING`).bind(staffId, email).run();
    staffId = (await env.DB.prepare(`SELECT id FROM staff WHERE email = ?`).bind(email).first<{ id: string }>())!.id;
  }
  await env.DB.prepare(
    `INSERT INTO accounts (id, email, role, staff_id, role_set_by) VALUES (?, ?, ?, ?, 'test') ON CONFLICT (email) DO UPDATE SET role = excluded.role, staff_id = excluded.staff_id`,
  )
    .bind(`acc_${crypto.randomUUID().replaceAll("-", "")}`, email, role, staffId)
    .run();
}
