/**
 * Issue 14, findings 5, 8 (request ids) and 9: security headers on every response, no-store on
 * personal data, a page that frames nowhere and runs only our script, our own request id, and no
 * secret in a log line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MASKED_SEGMENT, MASKED_VALUE, redactPath } from "../src/domain/redaction";
import { postBooking, singleBookingBody } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** The request log lines (parsed) written while `run` executes. */
async function requestLogLines<T>(run: () => Promise<T>) {
  const raw: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void raw.push(args.map(String).join(" ")));
  const result = await run();
  vi.restoreAllMocks();
  const lines = raw.filter((line) => line.includes('"msg":"request"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, raw, lines };
}

describe("security headers", () => {
  it("sends nosniff and refuses framing on a JSON response and on an error", async () => {
    for (const [path, status] of [
      ["/health", 200],
      ["/api/v1/classes", 200],
      ["/api/v1/nowhere", 404],
    ] as const) {
      const res = await call("GET", path);
      expect(res.status).toBe(status);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    }
  });

  it("marks booking answers no-store, success and refusal alike", async () => {
    const refused = await postBooking({ registrationType: "SINGLE_SESSION" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.headers.get("Cache-Control")).toBe("no-store");

    const { session } = await makeBookableSession({ capacity: 4, pricePence: 1200 });
    const created = await postBooking(singleBookingBody(session.id, 1200));
    expect(created.status).toBe(201);
    expect(created.json.manageToken).toEqual(expect.any(String));
    expect(created.headers.get("Cache-Control")).toBe("no-store");

    const read = await call("GET", `/api/v1/bookings/${created.json.booking.id}`, { headers: { "X-Manage-Token": created.json.manageToken } });
    expect(read.status).toBe(200);
    expect(read.headers.get("Cache-Control")).toBe("no-store");
  });

  it("leaves the public catalog cacheable but never an error from it", async () => {
    const { session } = await makeBookableSession({ capacity: 4, pricePence: 1200 });
    expect((await call("GET", `/api/v1/sessions/${session.id}`)).headers.get("Cache-Control")).toBeNull();
    expect((await call("GET", `/api/v1/sessions/${session.id}/waitlist/me?token=x`)).headers.get("Cache-Control")).toBe("no-store");
    expect((await call("GET", "/api/v1/sessions/ses_not_there")).headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("GET /docs", () => {
  it("may not be framed and loads no third-party script", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    const scriptSrc = csp.split(";").map((directive) => directive.trim()).find((directive) => directive.startsWith("script-src "));
    expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[A-Za-z0-9+/=]+'$/);
    expect(res.text).not.toMatch(/<script[^>]*src="https?:/);
    expect(res.text).toContain('src="/docs/scalar.js"');
    // Every script on the page carries this response's nonce.
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    const scripts = res.text.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  });

  it("serves the Scalar script itself, as JavaScript", async () => {
    const res = await call("GET", "/docs/scalar.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.text).toContain("createApiReference");
  });
});

describe("request ids", () => {
  it("never echoes a client's X-Request-Id as ours, and records a well-formed one apart", async () => {
    const { result: res, lines } = await requestLogLines(() => call("GET", "/api/v1/nowhere", { headers: { "X-Request-Id": "evil" } }));
    const ours = res.headers.get("X-Request-Id");
    expect(ours).toMatch(/^[0-9a-f-]{36}$/);
    expect(ours).not.toBe("evil");
    expect(res.json.error.requestId).toBe(ours);
    expect(lines).toContainEqual(expect.objectContaining({ requestId: ours, clientRequestId: "evil" }));
  });

  it("does not record a malformed or overlong client id", async () => {
    for (const sent of ['x" , "level": "fatal', "a".repeat(65)]) {
      const { lines } = await requestLogLines(() => call("GET", "/api/v1/nowhere", { headers: { "X-Request-Id": sent } }));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toHaveProperty("clientRequestId");
    }
  });
});

describe("secrets in paths", () => {
  const hmac = "A".repeat(22) + "b-_9".repeat(5) + "Z";

  it.each([
    ["/api/v1/waitlist-offers/abc.def.1.SECRETSIG/accept", `/api/v1/waitlist-offers/${MASKED_SEGMENT}/accept`],
    ["/api/v1/waitlist-offers/abc.def.1.SECRETSIG", `/api/v1/waitlist-offers/${MASKED_SEGMENT}`],
    ["/api/v1/waitlist-confirmations/ses_1.wle_2.SIG", `/api/v1/waitlist-confirmations/${MASKED_SEGMENT}`],
    [`/api/v1/sessions/ses_1/waitlist/ses_1.wle_2.${hmac}/x`, `/api/v1/sessions/ses_1/waitlist/${MASKED_SEGMENT}/x`],
    [`/api/v1/things/${hmac}`, `/api/v1/things/${MASKED_SEGMENT}`],
    ["/api/v1/bookings/bkg_0123456789abcdef0123456789abcdef?token=s3cret&x=1", `/api/v1/bookings/bkg_0123456789abcdef0123456789abcdef?token=${MASKED_VALUE}&x=1`],
    ["/api/v1/sessions/ses_1/waitlist/me?manageToken=a&Offer_Token=b", `/api/v1/sessions/ses_1/waitlist/me?manageToken=${MASKED_VALUE}&Offer_Token=${MASKED_VALUE}`],
    ["/api/v1/waitlist-offers/:token/accept", `/api/v1/waitlist-offers/${MASKED_SEGMENT}/accept`],
    ["/api/v1/classes/cls_0123456789abcdef0123456789abcdef?limit=5", "/api/v1/classes/cls_0123456789abcdef0123456789abcdef?limit=5"],
  ])("redactPath(%s)", (path, expected) => {
    expect(redactPath(path)).toBe(expected);
  });

  it("keeps an offer token out of the request log line", async () => {
    const { result, raw, lines } = await requestLogLines(() =>
      call("POST", "/api/v1/waitlist-offers/abc.def.1.SECRETSIG/accept", { body: {}, headers: { "CF-Connecting-IP": "192.0.2.77" } }),
    );
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(lines).toContainEqual(expect.objectContaining({ msg: "request", method: "POST", path: `/api/v1/waitlist-offers/${MASKED_SEGMENT}/accept` }));
    expect(raw.join("\n")).not.toContain("SECRETSIG");
  });
});
