/**
 * Hostile and sloppy clients: whatever they send, the answer is a 4xx in the one error shape,
 * carrying a request id that also appears in the request's log line.
 */
import { env, exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ERROR_STATUS } from "../src/errors";
import { claimsFor, signJwt } from "../src/lib/jwt-claims";
import { makeClass, makeSession } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

const MAX_BODY_BYTES = 64 * 1024;
const CITIES = "/api/v1/admin/cities";

let admin: string;
beforeAll(async () => {
  admin = await tokenFor("admin");
});
afterEach(() => vi.restoreAllMocks());

/** Sends a request exactly as built (no helper defaults) and parses the answer. */
async function send(path: string, init: RequestInit = {}) {
  const response = await exports.default.fetch(new Request(`http://localhost${path}`, init));
  const text = await response.text();
  const isJson = response.headers.get("Content-Type")?.includes("application/json");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = isJson && text ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts the one error shape, a 4xx status and a code that belongs to that status. */
function expectClientError(res: { status: number; json: unknown; headers: Headers }, code?: string) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.json).toEqual({
    error: {
      code: expect.any(String),
      message: expect.any(String),
      requestId: res.headers.get("X-Request-Id"),
      ...((res.json as { error: { details?: unknown } }).error.details !== undefined && { details: expect.any(Object) }),
    },
  });
  const actual = (res.json as { error: { code: keyof typeof ERROR_STATUS } }).error.code;
  expect(ERROR_STATUS[actual]).toBe(res.status);
  if (code) expect(actual).toBe(code);
}

const issuePaths = (json: { error: { details: { issues: { path: string }[] } } }) =>
  json.error.details.issues.map((issue) => issue.path).sort();

describe("malformed and mistyped JSON", () => {
  it.each([
    ["truncated", '{"name": "Bath", "countryCode":'],
    ["unquoted keys", "{name: 'Bath'}"],
    ["trailing comma", '{"name": "Bath", "countryCode": "GB",}'],
    ["empty body", ""],
    ["not JSON at all", "hello"],
  ])("answers 400 INVALID_JSON for a %s body", async (_, rawBody) => {
    const res = await call("POST", CITIES, { token: admin, rawBody, headers: { "Content-Type": "application/json" } });
    expectClientError(res, "INVALID_JSON");
  });

  it("answers 400 VALIDATION_FAILED with field paths for wrong types", async () => {
    const res = await call("POST", CITIES, { token: admin, body: { name: 42, countryCode: ["GB"] } });
    expectClientError(res, "VALIDATION_FAILED");
    expect(issuePaths(res.json)).toEqual(["countryCode", "name"]);
    expect(res.json.error.details.location).toBe("json");
  });

  it.each([
    ["null", null],
    ["an array", [{ name: "Bath", countryCode: "GB" }]],
    ["a string", "Bath"],
    ["a number", 7],
  ])("answers 400 VALIDATION_FAILED when the body is %s instead of an object", async (_, body) => {
    const res = await call("POST", CITIES, { token: admin, body });
    expectClientError(res, "VALIDATION_FAILED");
  });

  it("survives deeply nested JSON", async () => {
    const depth = 20_000;
    const res = await call("POST", CITIES, { token: admin, rawBody: "[".repeat(depth) + "]".repeat(depth) });
    expectClientError(res);
    expect(["INVALID_JSON", "VALIDATION_FAILED"]).toContain(res.json.error.code);
  });

  it("rejects wrong types on PATCH too, leaving the record alone", async () => {
    const name = `Typed ${unique()}`;
    const created = await call("POST", CITIES, { token: admin, body: { name, countryCode: "GB" } });
    const res = await call("PATCH", `${CITIES}/${created.json.id}`, { token: admin, body: { name: { first: "x" } } });
    expectClientError(res, "VALIDATION_FAILED");
    expect(issuePaths(res.json)).toEqual(["name"]);
    expect((await call("GET", `${CITIES}/${created.json.id}`, { token: admin })).json.name).toBe(name);
  });
});

describe("body size limit", () => {
  /** A valid-looking JSON body of exactly `size` bytes. */
  const bodyOfSize = (size: number) => {
    const shell = JSON.stringify({ name: "", countryCode: "GB" });
    return JSON.stringify({ name: "x".repeat(size - shell.length), countryCode: "GB" });
  };
  const headers = (extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${admin}`, "Content-Type": "application/json", ...extra });

  it("answers 413 PAYLOAD_TOO_LARGE when Content-Length is over the limit", async () => {
    const body = bodyOfSize(MAX_BODY_BYTES + 1);
    const res = await send(CITIES, { method: "POST", headers: headers({ "Content-Length": String(body.length) }), body });
    expectClientError(res, "PAYLOAD_TOO_LARGE");
    expect(res.json.error.details).toEqual({ maxBytes: MAX_BODY_BYTES });
  });

  it("answers 413 PAYLOAD_TOO_LARGE for a streamed body without Content-Length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const request = new Request(`http://localhost${CITIES}`, { method: "POST", headers: headers(), body: stream });
    expect(request.headers.get("Content-Length")).toBeNull();
    const res = await send(CITIES, { method: "POST", headers: headers(), body: request.body });
    expectClientError(res, "PAYLOAD_TOO_LARGE");
  });

  it("applies to routes that take no body and to unknown routes", async () => {
    const body = "x".repeat(MAX_BODY_BYTES + 1);
    expectClientError(await send("/api/v1/classes", { method: "POST", headers: headers(), body }), "PAYLOAD_TOO_LARGE");
    expectClientError(await send("/api/v1/nowhere", { method: "PUT", headers: headers(), body }), "PAYLOAD_TOO_LARGE");
  });

  it("lets a body of exactly the limit through to validation", async () => {
    const body = bodyOfSize(MAX_BODY_BYTES);
    expect(new TextEncoder().encode(body).length).toBe(MAX_BODY_BYTES);
    const withLength = await send(CITIES, { method: "POST", headers: headers({ "Content-Length": String(body.length) }), body });
    expectClientError(withLength, "VALIDATION_FAILED");
    const withoutLength = await send(CITIES, { method: "POST", headers: headers(), body });
    expectClientError(withoutLength, "VALIDATION_FAILED");
    expect(issuePaths(withoutLength.json)).toEqual(["name"]);
  });
});

describe("content type", () => {
  const body = () => JSON.stringify({ name: `Typed ${unique()}`, countryCode: "GB" });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "nonsense"])(
    "refuses a JSON body sent as %s with 415",
    async (contentType) => {
      const res = await send(CITIES, { method: "POST", headers: { Authorization: `Bearer ${admin}`, "Content-Type": contentType }, body: body() });
      expectClientError(res, "UNSUPPORTED_MEDIA_TYPE");
    },
  );

  it("refuses a body without Content-Type with 415", async () => {
    const res = await send(CITIES, { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: new TextEncoder().encode(body()) });
    expectClientError(res, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 400 when there is neither body nor Content-Type", async () => {
    const res = await send(CITIES, { method: "POST", headers: { Authorization: `Bearer ${admin}` } });
    expectClientError(res, "VALIDATION_FAILED");
  });

  it("refuses a PATCH sent as text/plain instead of silently ignoring its body", async () => {
    const created = await call("POST", CITIES, { token: admin, body: { name: `Plain ${unique()}`, countryCode: "GB" } });
    const res = await send(`${CITIES}/${created.json.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${admin}`, "Content-Type": "text/plain" },
      body: JSON.stringify({ name: "Changed" }),
    });
    expectClientError(res, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("accepts JSON with a charset parameter", async () => {
    const res = await send(CITIES, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json; charset=utf-8" },
      body: body(),
    });
    expect(res.status).toBe(201);
  });
});

describe("routes and methods", () => {
  it.each(["/api/v1/nowhere", "/api/v2/classes", "/nowhere", "/api/v1/classes/x/y/z", "/api/v1/sessions"])(
    "answers 404 NOT_FOUND in the error shape for %s",
    async (path) => {
      expectClientError(await send(path), "NOT_FOUND");
    },
  );

  it("answers an unknown admin path with 401 before revealing whether it exists", async () => {
    expectClientError(await send("/api/v1/admin/nowhere"), "UNAUTHENTICATED");
    expectClientError(await send("/api/v1/admin/nowhere", { headers: { Authorization: `Bearer ${admin}` } }), "NOT_FOUND");
  });

  it.each([
    ["PUT", "/api/v1/classes"],
    ["DELETE", "/api/v1/classes"],
    ["POST", "/api/v1/classes/cls_x"],
    ["PATCH", "/api/v1/sessions/ses_x"],
    ["PUT", `${CITIES}/cty_x`],
    ["DELETE", CITIES],
  ])("answers %s %s with a 4xx in the error shape", async (method, path) => {
    const res = await send(path, { method, headers: { Authorization: `Bearer ${admin}` } });
    expectClientError(res);
    expect(["NOT_FOUND", "METHOD_NOT_ALLOWED"]).toContain(res.json.error.code);
  });

  it("answers odd ids with 400 or 404, never 5xx", async () => {
    expectClientError(await send(`/api/v1/classes/${"c".repeat(65)}`), "VALIDATION_FAILED");
    expectClientError(await send("/api/v1/classes/%ZZ"), "NOT_FOUND");
    expectClientError(await send("/api/v1/sessions/%00"), "NOT_FOUND");
    expectClientError(await send("/api/v1/sessions/'%20OR%201=1--"), "NOT_FOUND");
  });

  it("answers bad pagination parameters with 400 and the field path", async () => {
    for (const query of ["limit=0", "limit=101", "limit=abc", "limit=1.5"]) {
      const res = await send(`/api/v1/classes?${query}`);
      expectClientError(res, "VALIDATION_FAILED");
      expect(issuePaths(res.json)).toEqual(["limit"]);
    }
  });

  it("answers repeated query parameters with 400, not a crash", async () => {
    const instant = new Date().toISOString();
    for (const query of ["limit=1&limit=2", "cursor=a&cursor=b", `from=${instant}&from=${instant}`, "studioId=a&studioId=b"]) {
      expectClientError(await send(`/api/v1/classes?${query}`), "VALIDATION_FAILED");
    }
  });
});

describe("cursors", () => {
  const cursors = {
    "not base64": "!!!***",
    "base64 of text": btoa("hello"),
    "base64 of an object": btoa(JSON.stringify({ id: "cty_1" })),
    "base64 of the wrong arity": btoa(JSON.stringify(["a", "b", "c"])),
    "base64 of nested values": btoa(JSON.stringify([["a"], {}])),
    "too long": "a".repeat(513),
  };

  it.each(Object.entries(cursors))("answers 400 for a cursor that is %s", async (_, cursor) => {
    const encoded = encodeURIComponent(cursor);
    const admin400 = await send(`${CITIES}?cursor=${encoded}`, { headers: { Authorization: `Bearer ${admin}` } });
    expectClientError(admin400, "VALIDATION_FAILED");
    expect(issuePaths(admin400.json)).toEqual(["cursor"]);
    const public400 = await send(`/api/v1/classes?cursor=${encoded}`);
    expectClientError(public400, "VALIDATION_FAILED");
    expect(issuePaths(public400.json)).toEqual(["cursor"]);
  });

  it("does not accept one list's cursor for another list of a different shape", async () => {
    const cities = await call("GET", `${CITIES}?limit=1`, { token: admin });
    await call("POST", CITIES, { token: admin, body: { name: `Cursor ${unique()}`, countryCode: "GB" } });
    const again = await call("GET", `${CITIES}?limit=1`, { token: admin });
    const cursor = cities.json.nextCursor ?? again.json.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    expectClientError(await send(`/api/v1/classes?cursor=${cursor}`), "VALIDATION_FAILED");
  });
});

describe("bearer tokens", () => {
  const b64url = (value: unknown) => btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ ...claimsFor({ sub: "admin:x", role: "admin", email: "x@example.test", ttlSeconds: 600 }), ...extra });

  const badTokens: Record<string, () => Promise<string>> = {
    garbage: async () => "not-a-token",
    "three garbage parts": async () => "a.b.c",
    "alg none": async () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}.`,
    "HS512 with the right key": () => signJwt(claims(), env.JWT_SECRET, "HS512"),
    "HS256 with another secret": () => signJwt(claims(), "someone-elses-secret", "HS256"),
    "HS256 with the raw secret instead of its derived key": () => sign(claims(), env.JWT_SECRET, "HS256"),
    expired: () => signJwt(claims({ iat: now() - 7200, exp: now() - 3600 }), env.JWT_SECRET),
    "issued in the future": () => signJwt(claims({ iat: now() + 3600, exp: now() + 7200 }), env.JWT_SECRET),
    "an unknown role": () => signJwt(claims({ role: "root" }), env.JWT_SECRET),
    "no subject": () => signJwt(claims({ sub: undefined }), env.JWT_SECRET),
    "a tampered payload": async () => {
      const [header, , signature] = (await signJwt(claims({ role: "customer" }), env.JWT_SECRET)).split(".");
      return `${header}.${b64url(claims())}.${signature}`;
    },
  };

  it.each(Object.keys(badTokens))("refuses a token that is %s with 401 INVALID_TOKEN", async (kind) => {
    const token = await badTokens[kind]!();
    for (const path of [CITIES, "/api/v1/classes"]) {
      const res = await send(path, { headers: { Authorization: `Bearer ${token}` } });
      expectClientError(res, "INVALID_TOKEN");
    }
  });

  it.each(["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer a b", "Token abc"])("refuses the header %j with 401 INVALID_TOKEN", async (header) => {
    expectClientError(await send("/api/v1/classes", { headers: { Authorization: header } }), "INVALID_TOKEN");
  });

  it("accepts a well-formed token (the control case)", async () => {
    expect((await send(CITIES, { headers: { Authorization: `Bearer ${admin}` } })).status).toBe(200);
  });
});

describe("request ids", () => {
  /** The structured log lines written while `run` executes. */
  async function withLogs<T>(run: () => Promise<T>) {
    const lines: unknown[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args[0]));
    try {
      const result = await run();
      return { result, lines: lines.flatMap((line) => (typeof line === "string" && line.startsWith("{") ? [JSON.parse(line)] : [])) };
    } finally {
      spy.mockRestore();
    }
  }

  it("tags every response, error body and log line with the same id", async () => {
    const session = await makeSession((await makeClass()).id);
    const requests: [string, RequestInit, number][] = [
      [`/api/v1/sessions/${session.id}`, {}, 200],
      ["/api/v1/nowhere", {}, 404],
      ["/api/v1/classes?limit=0", {}, 400],
      [CITIES, {}, 401],
      ["/api/v1/classes", { headers: { Authorization: "Bearer nope" } }, 401],
      [CITIES, { method: "POST", headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" }, body: "{" }, 400],
      [CITIES, { method: "POST", headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" }, body: "x".repeat(MAX_BODY_BYTES + 1) }, 413],
    ];
    const seen = new Set<string>();
    for (const [path, init, status] of requests) {
      const { result: res, lines } = await withLogs(() => send(path, init));
      expect(res.status).toBe(status);
      const id = res.headers.get("X-Request-Id");
      expect(id).toMatch(/^[\w-]{8,}$/);
      seen.add(id!);
      if (status >= 400) expect(res.json.error.requestId).toBe(id);
      const logLine = lines.find((line) => (line as { msg?: string }).msg === "request");
      expect(logLine).toMatchObject({ requestId: id, status, method: init.method ?? "GET" });
    }
    expect(seen.size).toBe(requests.length);
  });

  it("never takes an incoming X-Request-Id as ours; a well-formed one is logged as clientRequestId", async () => {
    const theirs = `trace-${unique()}`;
    const { result: sent, lines } = await withLogs(() => send("/api/v1/nowhere", { headers: { "X-Request-Id": theirs } }));
    const ours = sent.headers.get("X-Request-Id");
    expect(ours).not.toBe(theirs);
    expect(sent.json.error.requestId).toBe(ours);
    expect(lines).toContainEqual(expect.objectContaining({ msg: "request", requestId: ours, clientRequestId: theirs }));

    const hostile = 'x" , "level": "fatal';
    const { result: replaced, lines: hostileLines } = await withLogs(() => send("/api/v1/nowhere", { headers: { "X-Request-Id": hostile } }));
    expect(replaced.headers.get("X-Request-Id")).not.toBe(hostile);
    expect(replaced.json.error.requestId).toBe(replaced.headers.get("X-Request-Id"));
    expect(hostileLines.find((line) => (line as { msg?: string }).msg === "request")).not.toHaveProperty("clientRequestId");
  });
});
