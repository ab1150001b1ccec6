/** Certificate routes and pages: validity at its boundaries, lists and filters, revocation, compliance, public verification, the holder's own list and page, class settings. */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { validityAt } from "../src/domain/certificates";
import { customerIdFor } from "../src/services/booking-context";
import { DAY, makeCertificate } from "./certificates-helpers";
import { makeClass, makeCustomer } from "./fixtures";
import { call, tokenFor } from "./helpers";

const REMINDER_MS = 30 * DAY;
let admin: string;
let staff: string;
let customer: string;

beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

describe("validity at its boundaries", () => {
  const expiresAt = Date.UTC(2026, 5, 1);
  it("is expired from the expiry instant on, expiring from RENEWAL_REMINDER_DAYS before it, valid before that", () => {
    expect(validityAt({ status: "valid", expiresAt }, expiresAt, REMINDER_MS)).toBe("expired");
    expect(validityAt({ status: "valid", expiresAt }, expiresAt - 1, REMINDER_MS)).toBe("expiring");
    expect(validityAt({ status: "valid", expiresAt }, expiresAt - REMINDER_MS, REMINDER_MS)).toBe("expiring");
    expect(validityAt({ status: "valid", expiresAt }, expiresAt - REMINDER_MS - 1, REMINDER_MS)).toBe("valid");
  });
  it("never expires without an expiry, and a revoked one is revoked whatever the dates", () => {
    expect(validityAt({ status: "valid", expiresAt: null }, Date.UTC(2100, 0, 1), REMINDER_MS)).toBe("valid");
    expect(validityAt({ status: "revoked", expiresAt: null }, 0, REMINDER_MS)).toBe("revoked");
  });
});

describe("GET /api/v1/admin/certificates", () => {
  it("filters by validity now, class and customer, newest first, in cursor pages", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const now = Date.now();
    const valid = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + REMINDER_MS + DAY, issuedAt: now - 3 * DAY });
    const never = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: null, issuedAt: now - 4 * DAY });
    const expiring = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + REMINDER_MS - DAY, issuedAt: now - 2 * DAY });
    const expired = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now - 1000, issuedAt: now - DAY });
    await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + 400 * DAY, status: "revoked" });
    const ids = async (query: string) => (await call("GET", `/api/v1/admin/certificates?classId=${klass.id}${query}`, { token: staff })).json.data.map((c: { id: string }) => c.id);
    expect(await ids("&status=valid")).toEqual([valid.id, never.id]);
    expect(await ids("&status=expiring")).toEqual([expiring.id]);
    expect(await ids("&status=expired")).toEqual([expired.id]);
    expect(await ids("")).toHaveLength(5);
    const other = await makeCustomer();
    await makeCertificate(klass.id, { customerId: other.id, expiresAt: null });
    expect(await ids(`&customerId=${other.id}`)).toHaveLength(1);

    const first = await call("GET", `/api/v1/admin/certificates?classId=${klass.id}&limit=2`, { token: admin });
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(2);
    const second = await call("GET", `/api/v1/admin/certificates?classId=${klass.id}&limit=2&cursor=${first.json.nextCursor}`, { token: admin });
    expect(second.json.data.map((c: { id: string }) => c.id)).not.toContain(first.json.data[0].id);
    expect(first.json.data[0]).toMatchObject({ validity: expect.any(String), className: klass.name, verificationPath: expect.stringMatching(/^\/certificates\/verify\//) });
  });

  it("refuses bad queries (400), customers (403) and anonymous callers (401)", async () => {
    expect((await call("GET", "/api/v1/admin/certificates?status=lapsed", { token: staff })).status).toBe(400);
    expect((await call("GET", "/api/v1/admin/certificates?cursor=nonsense", { token: staff })).status).toBe(400);
    expect((await call("GET", "/api/v1/admin/certificates", { token: customer })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/certificates")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/certificates/compliance", { token: customer })).status).toBe(403);
    expect((await call("GET", "/api/v1/admin/certificates/compliance")).status).toBe(401);
  });
});

describe("one certificate and revocation", () => {
  it("GET by id for staff, 404 for an unknown id", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const certificate = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: Date.now() + 100 * DAY });
    const got = await call("GET", `/api/v1/admin/certificates/${certificate.id}`, { token: staff });
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: certificate.id, number: certificate.number, status: "valid", validity: "valid", holderName: "Ada Customer" });
    expect((await call("GET", "/api/v1/admin/certificates/crt_nope", { token: staff })).json.error.code).toBe("NOT_FOUND");
  });

  it("POST …/revoke: admins only; verification says revoked afterwards; repeating it is harmless", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const certificate = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: Date.now() + 100 * DAY });
    expect((await call("POST", `/api/v1/admin/certificates/${certificate.id}/revoke`)).status).toBe(401);
    expect((await call("POST", `/api/v1/admin/certificates/${certificate.id}/revoke`, { token: customer })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/certificates/${certificate.id}/revoke`, { token: staff })).status).toBe(403);
    expect((await call("GET", `/api/v1/certificates/verify/${certificate.verificationCode}`)).json.status).toBe("valid");
    const revoked = await call("POST", `/api/v1/admin/certificates/${certificate.id}/revoke`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ status: "revoked", validity: "revoked" });
    expect((await call("POST", `/api/v1/admin/certificates/${certificate.id}/revoke`, { token: admin })).status).toBe(200);
    expect((await call("GET", `/api/v1/certificates/verify/${certificate.verificationCode}`)).json).toMatchObject({ valid: false, status: "revoked" });
    expect((await call("POST", "/api/v1/admin/certificates/crt_nope/revoke", { token: admin })).status).toBe(404);
  });
});

describe("GET /api/v1/admin/certificates/compliance", () => {
  it("counts valid, expiring, expired and revoked per class, against a recount of what was made", async () => {
    const [first, second] = [await makeClass(), await makeClass()];
    const holder = await makeCustomer();
    const now = Date.now();
    const plan: [string, number | null, "valid" | "revoked"][] = [
      [first.id, null, "valid"],
      [first.id, now + REMINDER_MS + DAY, "valid"],
      [first.id, now + DAY, "valid"],
      [first.id, now - DAY, "valid"],
      [first.id, now - 2 * DAY, "valid"],
      [second.id, now + 10 * DAY, "valid"],
      [second.id, now + 10 * DAY, "revoked"],
    ];
    for (const [classId, expiresAt, status] of plan) await makeCertificate(classId, { customerId: holder.id, expiresAt, status });
    const { status, json } = await call("GET", "/api/v1/admin/certificates/compliance", { token: staff });
    expect(status).toBe(200);
    expect(json.expiringWithinDays).toBe(30);
    const row = (id: string) => json.data.find((r: { classId: string }) => r.classId === id);
    const recount = (id: string) => {
      const mine = plan.filter(([classId]) => classId === id);
      const live = mine.filter(([, , s]) => s === "valid");
      return {
        valid: live.filter(([, e]) => e === null || e > now + REMINDER_MS).length,
        expiring: live.filter(([, e]) => e !== null && e > now && e <= now + REMINDER_MS).length,
        expired: live.filter(([, e]) => e !== null && e <= now).length,
        revoked: mine.length - live.length,
      };
    };
    expect(row(first.id)).toMatchObject(recount(first.id));
    expect(row(second.id)).toMatchObject(recount(second.id));
    expect(row(first.id)).toMatchObject({ valid: 2, expiring: 1, expired: 2, revoked: 0 });
  });
});

describe("public verification", () => {
  it("shows only the number and validity: no name, no email, no ids", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const expiresAt = Date.now() + 100 * DAY;
    const certificate = await makeCertificate(klass.id, { customerId: holder.id, holderName: "Secret Person", expiresAt });
    const { status, json, text } = await call("GET", `/api/v1/certificates/verify/${certificate.verificationCode}`);
    expect(status).toBe(200);
    expect(json).toEqual({ number: certificate.number, valid: true, status: "valid", expiresAt: new Date(expiresAt).toISOString() });
    expect(text).not.toContain("Secret");
    expect(text).not.toContain(holder.email);
    const expired = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: Date.now() - 1 });
    expect((await call("GET", `/api/v1/certificates/verify/${expired.verificationCode}`)).json).toMatchObject({ valid: false, status: "expired" });
  });

  it("404 for an unknown code, the same answer however it looks", async () => {
    const unknown = await call("GET", "/api/v1/certificates/verify/not-a-real-code");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
    expect((await call("GET", `/api/v1/certificates/verify/${"x".repeat(101)}`)).status).toBe(400);
  });

  it("the verification page shows validity and not the holder; an unknown code is a 404 page", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const certificate = await makeCertificate(klass.id, { customerId: holder.id, holderName: "Hidden Holder", expiresAt: Date.now() + 100 * DAY });
    const page = await call("GET", `/certificates/verify/${certificate.verificationCode}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(certificate.number);
    expect(page.text).toContain("This certificate is valid.");
    expect(page.text).not.toContain("Hidden Holder");
    expect(page.text.match(/<h1[\s>]/g)).toHaveLength(1);
    expect((await call("GET", "/certificates/verify/nope")).status).toBe(404);
  });
});

describe("the holder's certificates", () => {
  it("GET /api/v1/me/certificates lists only the signed-in customer's own", async () => {
    const klass = await makeClass();
    const email = `me-${crypto.randomUUID()}@example.test`;
    const mine = await makeCertificate(klass.id, { customerId: await customerIdFor(email), expiresAt: null });
    const theirs = await makeCertificate(klass.id, { customerId: (await makeCustomer()).id, expiresAt: null });
    const token = await tokenFor("customer", email);
    const { status, json } = await call("GET", "/api/v1/me/certificates", { token });
    expect(status).toBe(200);
    expect(json.data.map((c: { id: string }) => c.id)).toEqual([mine.id]);
    expect(JSON.stringify(json)).not.toContain(theirs.id);
    expect((await call("GET", "/api/v1/me/certificates")).status).toBe(401);
  });

  it("the printable page: its holder and staff see it, another customer gets 404, nobody signed in is sent to sign in", async () => {
    const klass = await makeClass();
    const email = `print-${crypto.randomUUID()}@example.test`;
    const certificate = await makeCertificate(klass.id, { customerId: await customerIdFor(email), holderName: "Ada Printable", expiresAt: Date.now() + 100 * DAY });
    const own = await call("GET", `/certificates/${certificate.id}`, { token: await tokenFor("customer", email) });
    expect(own.status).toBe(200);
    expect(own.text).toContain("Ada Printable");
    expect(own.text).toContain(certificate.number);
    expect(own.text).toContain(`/certificates/verify/${certificate.verificationCode}`);
    expect(own.text.match(/<h1[\s>]/g)).toHaveLength(1);
    expect((await call("GET", `/certificates/${certificate.id}`, { token: staff })).status).toBe(200);
    const stranger = await call("GET", `/certificates/${certificate.id}`, { token: customer });
    expect(stranger.status).toBe(404);
    expect(stranger.text).not.toContain("Ada Printable");
    const anonymous = await exports.default.fetch(new Request(`http://localhost/certificates/${certificate.id}`, { redirect: "manual" }));
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("Location")).toContain("/sign-in");
  });
});

describe("class settings", () => {
  it("admins set certificateValidityDays and completionAttendancePercent on create and patch; out-of-range values are 400", async () => {
    const klass = await makeClass();
    const patched = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { certificateValidityDays: 730, completionAttendancePercent: 80 } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ certificateValidityDays: 730, completionAttendancePercent: 80 });
    const cleared = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { certificateValidityDays: null } });
    expect(cleared.json.certificateValidityDays).toBeNull();
    const bad = await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { completionAttendancePercent: 101 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe("completionAttendancePercent");
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: admin, body: { certificateValidityDays: -1 } })).status).toBe(400);
    expect((await call("PATCH", `/api/v1/admin/classes/${klass.id}`, { token: staff, body: { certificateValidityDays: 1 } })).status).toBe(403);
    const row = await env.DB.prepare("SELECT certificate_validity_days AS days, completion_attendance_percent AS percent FROM classes WHERE id = ?").bind(klass.id).first();
    expect(row).toEqual({ days: null, percent: 80 });
  });
});
