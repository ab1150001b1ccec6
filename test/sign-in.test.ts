/**
 * Sign-in by emailed link (issue 10): the whole flow through the real queue and the dev mailbox,
 * the same answer for every address, links that work once and expire, sign-out that takes effect
 * at once, roles read from D1 per request, CSRF and CORS.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { getDb } from "../src/db/client";
import { randomToken, sha256Hex } from "../src/lib/tokens";
import { checkPublicBaseUrl } from "../src/jobs/config-checks";
import { purgeOldSignInRecords } from "../src/services/auth-sessions";
import { SIGN_IN_LINKS_PER_HOUR } from "../src/services/sign-in";
import { nextClientIp, uniqueEmail } from "./booking-helpers";
import { makeStaff } from "./fixtures";
import { call, tokenFor } from "./helpers";
import { grantRole, linkToken, newestMessage, requestLink, signIn } from "./sign-in-helpers";

const verify = (token: string, headers: Record<string, string> = {}) => call("POST", "/api/v1/auth/verify", { body: { token }, headers });

async function callIn(settings: Record<string, string>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://book.example.com${path}`, init), { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : undefined, headers: response.headers };
}

describe("signing in by emailed link", { timeout: 30_000 }, () => {
  it("goes from the request to a session through the queue and the dev mailbox, and signs out for good", async () => {
    const email = uniqueEmail("ada");
    const token = await requestLink(email);
    const verified = await verify(token);
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({ accessToken: expect.any(String), expiresAt: expect.any(String), user: { email, role: "customer" } });
    const cookie = verified.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^cb_session=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain http here; test below: https sets Secure

    const bearer = { token: verified.json.accessToken };
    const byCookie = { headers: { Cookie: cookie.split(";")[0]! } };
    expect((await call("GET", "/api/v1/auth/session", bearer)).json.user).toMatchObject({ email, role: "customer" });
    expect((await call("GET", "/api/v1/auth/session", byCookie)).status).toBe(200);

    const out = await call("POST", "/api/v1/auth/sign-out", { ...bearer, headers: {} });
    expect(out.status).toBe(204);
    const after = await call("GET", "/api/v1/auth/session", bearer);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("SESSION_ENDED");
    // The cookie of the ended session is dropped: the caller is anonymous, and told so where it matters.
    const cookieAfter = await call("GET", "/api/v1/auth/session", byCookie);
    expect(cookieAfter.status).toBe(401);
    expect(cookieAfter.json.error.code).toBe("UNAUTHENTICATED");
    expect(cookieAfter.headers.get("Set-Cookie")).toMatch(/cb_session=;.*Max-Age=0/);
  });

  it("signs out everywhere: every session of the account ends, another account's stays", async () => {
    const email = uniqueEmail("everywhere");
    const [laptop, phone] = [await signIn(email), await signIn(email)];
    const stranger = await signIn(uniqueEmail("stranger"));
    expect((await call("POST", "/api/v1/auth/sign-out-everywhere", { token: phone.accessToken })).status).toBe(204);
    expect((await call("GET", "/api/v1/auth/session", { token: laptop.accessToken })).json.error.code).toBe("SESSION_ENDED");
    expect((await call("GET", "/api/v1/auth/session", { token: phone.accessToken })).status).toBe(401);
    expect((await call("GET", "/api/v1/auth/session", { token: stranger.accessToken })).status).toBe(200);
  });

  it("answers the same for a known and an unknown address", async () => {
    const known = uniqueEmail("known");
    await signIn(known);
    const unknown = uniqueEmail("nobody");
    const a = await call("POST", "/api/v1/auth/email-link", { body: { email: known }, headers: { "CF-Connecting-IP": nextClientIp() } });
    const b = await call("POST", "/api/v1/auth/email-link", { body: { email: unknown }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.text).toBe(b.text);
    // Both really get a link: a new address signs up by using it.
    expect((await verify(linkToken((await newestMessage(unknown, /sign in/i)).text))).json.user).toMatchObject({ email: unknown, role: "customer" });
  });

  it("keeps only the link's hash, and masks the token in the stored copy of the message", async () => {
    const email = uniqueEmail("hash");
    const token = await requestLink(email);
    const row = await env.DB.prepare(`SELECT token_hash FROM sign_in_links WHERE email = ?`).bind(email).first<{ token_hash: string }>();
    expect(row!.token_hash).toBe(await sha256Hex(token));
    const stored = await env.DB.prepare(`SELECT content FROM booking_communications WHERE recipient_email = ? AND type = 'SIGN_IN_LINK'`).bind(email).first<{ content: string }>();
    expect(stored!.content).toContain("/sign-in?token=");
    expect(stored!.content).not.toContain(token);
  });

  it("uses a link once: again is 410 SIGN_IN_LINK_USED, and a forged one 400", async () => {
    const token = await requestLink(uniqueEmail("once"));
    expect((await verify(token)).status).toBe(200);
    const again = await verify(token);
    expect(again.status).toBe(410);
    expect(again.json.error.code).toBe("SIGN_IN_LINK_USED");
    const forged = await verify(randomToken());
    expect(forged.status).toBe(400);
    expect(forged.json.error.code).toBe("SIGN_IN_LINK_INVALID");
  });

  it("starts one session when one link is used by many requests at once (with a control that sees the race)", async () => {
    const token = await requestLink(uniqueEmail("race"));
    const answers = await Promise.all(Array.from({ length: 8 }, () => verify(token)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 410)).toHaveLength(7);

    // Control: the same requests against a check-then-use exchange (read the link, then mark it)
    // interleave, and more than one of them gets through. The real exchange decides in one statement.
    const hash = await sha256Hex(randomToken());
    await env.DB.prepare(`INSERT INTO sign_in_links (token_hash, email, limit_key, purpose, expires_at) VALUES (?, 'control@example.test', 'control@example.test', 'sign_in', ?)`).bind(hash, Date.now() + 60_000).run();
    const naive = async () => {
      const link = await env.DB.prepare(`SELECT used_at FROM sign_in_links WHERE token_hash = ?`).bind(hash).first<{ used_at: number | null }>();
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (link?.used_at !== null) return false;
      await env.DB.prepare(`UPDATE sign_in_links SET used_at = ? WHERE token_hash = ?`).bind(Date.now(), hash).run();
      return true;
    };
    const naiveWins = (await Promise.all(Array.from({ length: 8 }, naive))).filter(Boolean).length;
    expect(naiveWins).toBeGreaterThan(1);
  });

  it("refuses an expired link with 410 SIGN_IN_LINK_EXPIRED", async () => {
    const token = randomToken();
    await env.DB.prepare(`INSERT INTO sign_in_links (token_hash, email, limit_key, purpose, expires_at) VALUES (?1, ?2, ?2, 'sign_in', ?3)`)
      .bind(await sha256Hex(token), uniqueEmail("late"), Date.now() - 1)
      .run();
    const late = await verify(token);
    expect(late.status).toBe(410);
    expect(late.json.error.code).toBe("SIGN_IN_LINK_EXPIRED");
  });

  it("forgets sessions and links 30 days after they stopped working (the hourly purge), and keeps the rest", async () => {
    const email = uniqueEmail("purge");
    const live = await signIn(email);
    const day = 86_400_000;
    const old = randomToken();
    await env.DB.prepare(`INSERT INTO sign_in_links (token_hash, email, limit_key, purpose, expires_at, used_at) VALUES (?, ?, ?, 'sign_in', ?, ?)`)
      .bind(await sha256Hex(old), email, email, Date.now() - 31 * day, Date.now() - 31 * day)
      .run();
    await env.DB.prepare(`INSERT INTO auth_sessions (id, account_id, expires_at, ended_at) VALUES ('aus_old_${old.slice(0, 8)}', ?, ?, ?)`)
      .bind(live.user.id, Date.now() - 31 * day, Date.now() - 31 * day)
      .run();
    const purged = await purgeOldSignInRecords(getDb(env.DB), new Date());
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect(purged.links).toBeGreaterThanOrEqual(1);
    expect(await env.DB.prepare(`SELECT 1 FROM sign_in_links WHERE token_hash = ?`).bind(await sha256Hex(old)).first()).toBeNull();
    expect((await call("GET", "/api/v1/auth/session", { token: live.accessToken })).status).toBe(200);
  });

  it("links expire after SIGN_IN_LINK_MINUTES (15 by default)", async () => {
    const email = uniqueEmail("ttl");
    const before = Date.now();
    await requestLink(email);
    const row = await env.DB.prepare(`SELECT expires_at FROM sign_in_links WHERE email = ?`).bind(email).first<{ expires_at: number }>();
    expect(row!.expires_at - before).toBeGreaterThanOrEqual(15 * 60_000 - 1000);
    expect(row!.expires_at - before).toBeLessThanOrEqual(15 * 60_000 + 5000);
  });

  it("limits links per client (429) and per address (the same 202, nothing more sent)", async () => {
    const ip = nextClientIp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call("POST", "/api/v1/auth/email-link", { body: { email: uniqueEmail("flood") }, headers: { "CF-Connecting-IP": ip } })).status);
    expect(statuses.slice(0, 10).every((status) => status === 202)).toBe(true);
    expect(statuses[10]).toBe(429);

    const victim = uniqueEmail("victim");
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await call("POST", "/api/v1/auth/email-link", { body: { email: i % 2 ? victim.replace("@", `+${i}@`) : victim }, headers: { "CF-Connecting-IP": nextClientIp() } }));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
    const { results } = await env.DB.prepare(`SELECT count(*) AS n FROM sign_in_links WHERE email LIKE ?`).bind(`${victim.split("@")[0]}%`).all<{ n: number }>();
    expect(results[0]!.n).toBe(3);
  });

  it("sends one address at most SIGN_IN_LINKS_PER_HOUR links an hour, Gmail's dotted variants with it", async () => {
    const local = `h${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    for (let i = 0; i < SIGN_IN_LINKS_PER_HOUR; i++) {
      await env.DB.prepare(`INSERT INTO sign_in_links (token_hash, email, limit_key, purpose, expires_at, created_at) VALUES (?1, ?2, ?3, 'sign_in', ?4, ?4)`)
        .bind(await sha256Hex(randomToken()), `${local}@gmail.com`, `${local}@gmail.com`, now - 60_000 * (i + 2))
        .run();
    }
    const dotted = `${local.slice(0, 3)}.${local.slice(3)}@googlemail.com`;
    const asked = await call("POST", "/api/v1/auth/email-link", { body: { email: dotted }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(asked.status).toBe(202);
    const sent = await env.DB.prepare(`SELECT count(*) AS n FROM sign_in_links WHERE email = ?`).bind(dotted).first<{ n: number }>();
    expect(sent!.n).toBe(0);
    // Another address is unaffected.
    expect(await requestLink(uniqueEmail("fresh"))).toBeTruthy();
  });

  it("sets a Secure cookie on https, and refuses sessionless dev tokens in production", async () => {
    const email = uniqueEmail("prod");
    const token = await requestLink(email);
    const production = { ENVIRONMENT: "production", NOTIFICATION_PROVIDER: "none" };
    const verified = await callIn(production, "/api/v1/auth/verify", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }) });
    expect(verified.status).toBe(200);
    expect(verified.headers.get("Set-Cookie")).toMatch(/^__Host-cb_session=[^;]+;.*Secure/);
    // On https only the __Host- cookie counts: a plain one (planted from a sibling subdomain, say) signs nobody in.
    const cookieValue = /^__Host-cb_session=([^;]+)/.exec(verified.headers.get("Set-Cookie")!)![1]!;
    const byHostCookie = await callIn(production, "/api/v1/auth/session", { headers: { Cookie: `__Host-cb_session=${cookieValue}` } });
    expect(byHostCookie.status).toBe(200);
    const planted = await callIn(production, "/api/v1/auth/session", { headers: { Cookie: `cb_session=${cookieValue}` } });
    expect(planted.status).toBe(401);
    const withSession = await callIn(production, "/api/v1/auth/session", { headers: { Authorization: `Bearer ${verified.json.accessToken}` } });
    expect(withSession.status).toBe(200);
    const devToken = await callIn(production, "/api/v1/admin/cities", { headers: { Authorization: `Bearer ${await tokenFor("admin")}` } });
    expect(devToken.status).toBe(401);
    expect(devToken.json.error.code).toBe("INVALID_TOKEN");
  });
});

describe("the sign-in page", { timeout: 30_000 }, () => {
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
    rawBody: new URLSearchParams(fields).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://localhost", ...headers },
  });

  it("asks before using a link (a scanner that opens it spends nothing), then signs in and out with the cookie", async () => {
    const email = uniqueEmail("page");
    const asked = await call("POST", "/sign-in", form({ email }, { "CF-Connecting-IP": nextClientIp() }));
    expect(asked.status).toBe(200);
    expect(asked.text).toContain("/dev/mailbox?to=");
    const token = linkToken((await newestMessage(email, /sign in/i)).text);

    const opened = await call("GET", `/sign-in?token=${token}`);
    expect(opened.status).toBe(200);
    expect(opened.headers.get("Content-Security-Policy")).toContain("form-action 'self'");
    expect(opened.text).toContain('action="/sign-in/verify"');
    const row = await env.DB.prepare(`SELECT used_at FROM sign_in_links WHERE token_hash = ?`).bind(await sha256Hex(token)).first<{ used_at: number | null }>();
    expect(row!.used_at).toBeNull();

    expect((await call("POST", "/sign-in/verify", form({ token }, { Origin: "https://evil.example" }))).status).toBe(403);
    const signedIn = await call("POST", "/sign-in/verify", form({ token }));
    expect(signedIn.status).toBe(200);
    expect(signedIn.text).toContain(`signed in as ${email}`);
    const cookie = signedIn.headers.get("Set-Cookie")!.split(";")[0]!;
    expect((await call("GET", "/api/v1/auth/session", { headers: { Cookie: cookie } })).json.user.email).toBe(email);

    const out = await call("POST", "/sign-out", form({}, { Cookie: cookie }));
    expect(out.status).toBe(200);
    expect((await call("GET", "/api/v1/auth/session", { headers: { Cookie: cookie } })).status).toBe(401);
  });
});

describe("roles held in D1", { timeout: 30_000 }, () => {
  it("invites a staff member by email, and a role taken away stops working on the next request", async () => {
    const adminEmail = uniqueEmail("admin");
    await grantRole(adminEmail, "admin");
    const admin = await signIn(adminEmail);
    expect(admin.user.role).toBe("admin");

    const member = await makeStaff([], { email: uniqueEmail("teacher") });
    const invited = await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { token: admin.accessToken, body: {} });
    expect(invited.status).toBe(202);
    expect(invited.json.account).toMatchObject({ email: member.email, role: "staff", staffId: member.id });
    const invitation = await newestMessage(member.email, /invit/i);
    const staffSession = await verify(linkToken(invitation.text));
    expect(staffSession.json.user).toMatchObject({ email: member.email, role: "staff" });
    const staffToken = { token: staffSession.json.accessToken };
    expect((await call("GET", "/api/v1/admin/classes", staffToken)).status).toBe(200);

    const revoked = await call("PATCH", `/api/v1/admin/accounts/${invited.json.account.id}`, { token: admin.accessToken, body: { role: "customer" } });
    expect(revoked.status).toBe(200);
    const refused = await call("GET", "/api/v1/admin/classes", staffToken);
    expect(refused.status).toBe(403);
    expect((await call("GET", "/api/v1/auth/session", staffToken)).json.user.role).toBe("customer");
  });

  it("takes the staff role away with the staff record: deactivated, deleted or re-addressed", async () => {
    const adminEmail = uniqueEmail("admin2");
    await grantRole(adminEmail, "admin");
    const admin = await signIn(adminEmail);
    const member = await makeStaff([], { email: uniqueEmail("leaver") });
    expect((await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { token: admin.accessToken, body: {} })).status).toBe(202);
    const staffToken = (await verify(linkToken((await newestMessage(member.email, /invit/i)).text))).json.accessToken;
    expect((await call("GET", "/api/v1/admin/classes", { token: staffToken })).status).toBe(200);
    expect((await call("PATCH", `/api/v1/admin/staff/${member.id}`, { token: admin.accessToken, body: { active: false } })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/classes", { token: staffToken })).status).toBe(403);
    // Active again, but under another address: the old address's account is no longer staff.
    expect((await call("PATCH", `/api/v1/admin/staff/${member.id}`, { token: admin.accessToken, body: { active: true, email: uniqueEmail("moved") } })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/classes", { token: staffToken })).status).toBe(403);
  });

  it("refuses to demote an admin by inviting them as staff", async () => {
    const adminEmail = uniqueEmail("admin3");
    await grantRole(adminEmail, "admin");
    const admin = await signIn(adminEmail);
    const member = await makeStaff([], { email: uniqueEmail("boss") });
    expect((await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { token: admin.accessToken, body: { role: "admin" } })).status).toBe(202);
    const again = await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { token: admin.accessToken, body: { role: "staff" } });
    expect(again.status).toBe(409);
    expect((await env.DB.prepare(`SELECT role FROM accounts WHERE email = ?`).bind(member.email).first<{ role: string }>())!.role).toBe("admin");
  });

  it("leaves an admin when two admins demote each other at once (with a control that sees the race)", async () => {
    await env.DB.prepare(`UPDATE accounts SET role = 'customer' WHERE role = 'admin'`).run();
    const [a, b] = [uniqueEmail("twin-a"), uniqueEmail("twin-b")];
    await grantRole(a, "admin");
    await grantRole(b, "admin");
    const [sa, sb] = await Promise.all([signIn(a), signIn(b)]);
    const answers = await Promise.all([
      call("PATCH", `/api/v1/admin/accounts/${sb.user.id}`, { token: sa.accessToken, body: { role: "customer" } }),
      call("PATCH", `/api/v1/admin/accounts/${sa.user.id}`, { token: sb.accessToken, body: { role: "customer" } }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect((await env.DB.prepare(`SELECT count(*) AS n FROM accounts WHERE role = 'admin'`).first<{ n: number }>())!.n).toBe(1);

    // Control: check-then-update in two steps, as the guard was first written, demotes both.
    await env.DB.prepare(`UPDATE accounts SET role = 'admin' WHERE email IN (?, ?)`).bind(a, b).run();
    const naive = async (id: string) => {
      const others = await env.DB.prepare(`SELECT count(*) AS n FROM accounts WHERE role = 'admin' AND id <> ?`).bind(id).first<{ n: number }>();
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (others!.n > 0) await env.DB.prepare(`UPDATE accounts SET role = 'customer' WHERE id = ?`).bind(id).run();
    };
    await Promise.all([naive(sa.user.id), naive(sb.user.id)]);
    expect((await env.DB.prepare(`SELECT count(*) AS n FROM accounts WHERE role = 'admin' AND email IN (?, ?)`).bind(a, b).first<{ n: number }>())!.n).toBe(0);
  });

  it("lets only admins invite or change roles, and never demotes the last admin", async () => {
    const staffEmail = uniqueEmail("staffer");
    await grantRole(staffEmail, "staff");
    const staffer = await signIn(staffEmail);
    const member = await makeStaff([], { email: uniqueEmail("other") });
    expect((await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { token: staffer.accessToken, body: {} })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/accounts", { token: staffer.accessToken })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/staff/${member.id}/invite`, { body: {} })).status).toBe(401);

    await env.DB.prepare(`UPDATE accounts SET role = 'customer' WHERE role = 'admin'`).run();
    const onlyAdminEmail = uniqueEmail("only");
    await grantRole(onlyAdminEmail, "admin");
    const onlyAdmin = await signIn(onlyAdminEmail);
    const demote = await call("PATCH", `/api/v1/admin/accounts/${onlyAdmin.user.id}`, { token: onlyAdmin.accessToken, body: { role: "staff" } });
    expect(demote.status).toBe(409);
    expect(demote.json.error.code).toBe("LAST_ADMIN");
    const list = await call("GET", "/api/v1/admin/accounts?role=admin", { token: onlyAdmin.accessToken });
    expect(list.json.data.map((account: { email: string }) => account.email)).toEqual([onlyAdminEmail]);
  });
});

describe("cookies and other sites", { timeout: 30_000 }, () => {
  it("refuses a cookie-authenticated write from another site (CSRF), and lets bearer clients be", async () => {
    const session = await signIn(uniqueEmail("csrf"));
    const cookie = { Cookie: session.cookie };
    const evil = await call("POST", "/api/v1/auth/sign-out", { headers: { ...cookie, Origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect(evil.json.error.code).toBe("CSRF_REFUSED");
    const bare = await call("POST", "/api/v1/auth/sign-out", { headers: cookie });
    expect(bare.status).toBe(403);
    // The session survived both attempts.
    expect((await call("GET", "/api/v1/auth/session", { headers: cookie })).status).toBe(200);
    // A bearer token is not a cookie a browser adds by itself: no origin check.
    const other = await signIn(uniqueEmail("bearer"));
    expect((await call("POST", "/api/v1/auth/sign-out", { token: other.accessToken, headers: { Origin: "https://evil.example" } })).status).toBe(204);
    // From the service's own page, the write goes through.
    expect((await call("POST", "/api/v1/auth/sign-out", { headers: { ...cookie, Origin: "http://localhost" } })).status).toBe(204);
    expect((await call("GET", "/api/v1/auth/session", { headers: cookie })).status).toBe(401);
  });

  it("in production, does not trust a PUBLIC_BASE_URL left at its local default, and raises an alert until it is fixed", async () => {
    const session = await signIn(uniqueEmail("prod-origin"));
    const production = { ENVIRONMENT: "production", NOTIFICATION_PROVIDER: "none", PUBLIC_BASE_URL: "http://127.0.0.1:8787" };
    const fromLocalPage = await callIn(production, "/api/v1/auth/sign-out", { method: "POST", headers: { Authorization: "", Cookie: session.cookie.replace("cb_session", "__Host-cb_session"), Origin: "http://127.0.0.1:8787" } });
    expect(fromLocalPage.status).toBe(403);
    const db = getDb(env.DB);
    expect(await checkPublicBaseUrl({ ...env, ...production } as typeof env, db, new Date())).toEqual({ valid: false });
    const open = () => env.DB.prepare(`SELECT status FROM alerts WHERE type = 'PUBLIC_BASE_URL_INVALID' AND status <> 'resolved'`).first();
    expect(await open()).not.toBeNull();
    expect(await checkPublicBaseUrl({ ...env, ...production, PUBLIC_BASE_URL: "https://book.example.com" } as typeof env, db, new Date())).toEqual({ valid: true });
    expect(await open()).toBeNull();
  });

  it("refuses a sign-in link used from another site's page (login CSRF)", async () => {
    const token = await requestLink(uniqueEmail("login-csrf"));
    const refused = await verify(token, { Origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect((await verify(token, { Origin: "http://127.0.0.1:8787" })).status).toBe(200);
  });

  it("answers CORS only for trusted origins", async () => {
    const preflight = (origin: string) =>
      call("OPTIONS", "/api/v1/auth/session", { headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" } });
    const trusted = await preflight("http://127.0.0.1:8787");
    expect(trusted.headers.get("Access-Control-Allow-Origin")).toBe("http://127.0.0.1:8787");
    expect(trusted.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const untrusted = await preflight("https://evil.example");
    expect(untrusted.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const configured = await callIn({ CORS_ALLOWED_ORIGINS: "https://app.studio.example" }, "/api/v1/auth/session", { headers: { Origin: "https://app.studio.example" } });
    expect(configured.headers.get("Access-Control-Allow-Origin")).toBe("https://app.studio.example");
  });
});
