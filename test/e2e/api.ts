/**
 * The service's API as the Chromium tests use it for setting the scene (a full session, a
 * cancellation elsewhere, a role granted) and for reading what a person would read (the dev
 * mailbox). Sign-in is the real flow: a link asked for, read from the mailbox, exchanged for the
 * session cookie the browser then carries.
 */
import type { BrowserContext } from "playwright-core";
import { expect, inject } from "vitest";

export const baseUrl = inject("baseUrl");
export const adminToken = inject("adminToken");

let counter = 0;
/** An address no other test (nor another run) uses, so per-email limits never meet. */
export function uniqueEmail(label: string): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}@e2e.example`;
}

/**
 * A distinct documentation-range client address per call (RFC 5737, a header only: nothing is
 * contacted), so the per-address limits on sign-in links and bookings meet no other test's.
 */
export function clientIp(): string {
  counter += 1;
  return `198.51.${(counter >> 8) & 255}.${counter & 255}`;
}

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Headers;
}

/** One request to the service; throws unless the status is one of `expect` (default 2xx). */
export async function api(
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; expect?: number[] } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "CF-Connecting-IP": clientIp(), ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const json = text && (response.headers.get("Content-Type") ?? "").includes("json") ? JSON.parse(text) : text;
  const ok = options.expect ? options.expect.includes(response.status) : response.status >= 200 && response.status < 300;
  if (!ok) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 500)}`);
  return { status: response.status, json, headers: response.headers };
}

/** An admin API call with the run's admin token. */
export function admin(method: string, route: string, body?: unknown, expectStatus?: number[]): Promise<Answer> {
  return api(method, `/api/v1/admin${route}`, { token: adminToken, body, expect: expectStatus });
}

/** Polls `probe` until it returns something (not undefined/null/false) or `timeoutMs` passes. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface MailboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  createdAt: string;
}

/** The newest message to `email` whose subject matches, created at or after `since` (ms), once it arrives. */
export async function newestMessage(email: string, subject: RegExp, since = 0): Promise<MailboxMessage> {
  let seen: MailboxMessage[] = [];
  try {
    return await eventually(
      async () => {
        seen = (await api("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data;
        return seen.find((message) => subject.test(message.subject) && Date.parse(message.createdAt) >= since - 1000);
      },
      30_000,
      `a message "${subject.source}" to ${email}`,
    );
  } catch (error) {
    const list = seen.map((message) => `${message.createdAt} "${message.subject}"`).join("; ") || "none";
    throw new Error(`${(error as Error).message} (asked at ${new Date(since).toISOString()}; the mailbox has: ${list})`);
  }
}

/** The first link in `text` to `path` on this service (e.g. "/sign-in"), as a path with its query. */
export function linkIn(text: string, pathPrefix: string): string {
  const escaped = pathPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`https?://[^\\s/]+(${escaped}[^\\s]*)`).exec(text);
  expect(match, `no link to ${pathPrefix} in: ${text}`).toBeTruthy();
  return match![1]!;
}

/** Asks for a sign-in link for `email` and returns its path (/sign-in?token=…) once it is in the mailbox. */
export async function requestSignInLink(email: string): Promise<string> {
  const since = Date.now();
  await api("POST", "/api/v1/auth/email-link", { body: { email }, expect: [202] });
  return linkIn((await newestMessage(email, /sign in|sign-in|invit/i, since)).text, "/sign-in?token=");
}

export interface SignedIn {
  /** The value of the session cookie (cb_session). */
  cookie: string;
  accessToken: string;
  role: string;
}

/** Signs `email` in through the real flow: the link from the mailbox, exchanged at /api/v1/auth/verify. */
export async function signIn(email: string): Promise<SignedIn> {
  const token = new URL(await requestSignInLink(email), baseUrl).searchParams.get("token");
  const verified = await api("POST", "/api/v1/auth/verify", { body: { token }, expect: [200] });
  const cookie = verified.headers.getSetCookie().find((line) => line.startsWith("cb_session="));
  expect(cookie, "verify sets the session cookie").toBeTruthy();
  return { cookie: cookie!.split(";")[0]!.slice("cb_session=".length), accessToken: verified.json.accessToken, role: verified.json.user.role };
}

/** Gives the browser context a signed-in session (the cookie /api/v1/auth/verify set). */
export async function useSession(context: BrowserContext, signedIn: SignedIn): Promise<void> {
  await context.addCookies([{ name: "cb_session", value: signedIn.cookie, url: baseUrl, httpOnly: true, sameSite: "Lax" }]);
}

/** Signs `email` in for every page of `context`. */
export async function signInAs(context: BrowserContext, email: string): Promise<SignedIn> {
  const signedIn = await signIn(email);
  await useSession(context, signedIn);
  return signedIn;
}

/**
 * Gives `email` a console role through the admin API, as a studio admin does: a staff member with
 * that address, invited with the role (which links the account to the staff record; a staff role
 * holds only while that record stands). Applies at the account's next request, signed in already or not.
 */
export async function grantRole(email: string, role: "staff" | "admin", roleIds: string[] = []): Promise<{ staffId: string }> {
  const member = await admin("POST", "/staff", { email, firstName: "Sam", lastName: "Staff", roleIds });
  await admin("POST", `/staff/${member.json.id}/invite`, { role }, [202]);
  return { staffId: member.json.id };
}
