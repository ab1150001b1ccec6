import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { alerts } from "../src/db/schema";
import { acknowledgeAlert, raiseAlert, resolveAlert } from "../src/services/alerts";
import { makeAlert } from "./fixtures";
import { call, tokenFor, unique } from "./helpers";

const ALERTS = "/api/v1/admin/alerts";
const db = getDb(env.DB);
const type = () => `TEST_${unique().toUpperCase()}`;
const rowsFor = (alertType: string) => db.select().from(alerts).where(eq(alerts.type, alertType));

let admin: string;
let staff: string;
let customer: string;
beforeAll(async () => {
  [admin, staff, customer] = await Promise.all([tokenFor("admin"), tokenFor("staff"), tokenFor("customer")]);
});

describe("raiseAlert", () => {
  it("opens an alert, then counts repeats on it with the latest title and details", async () => {
    const alertType = type();
    const first = await raiseAlert(db, { type: alertType, severity: "warning", subjectKey: "session:ses_1", title: "Drift", details: { missing: 1 } });
    expect(first.created).toBe(true);
    expect(first.alert).toMatchObject({ status: "open", occurrences: 1, severity: "warning", details: { missing: 1 } });

    const later = new Date(Date.now() + 60_000);
    const second = await raiseAlert(db, {
      type: alertType,
      severity: "warning",
      subjectKey: "session:ses_1",
      title: "Drift again",
      details: { missing: 2 },
      now: later,
    });
    expect(second.created).toBe(false);
    expect(second.alert).toMatchObject({ id: first.alert.id, occurrences: 2, title: "Drift again", details: { missing: 2 } });
    expect(second.alert.updatedAt.getTime()).toBe(later.getTime());
    expect(second.alert.createdAt.getTime()).toBe(first.alert.createdAt.getTime());

    // Another subject of the same type is its own alert.
    const other = await raiseAlert(db, { type: alertType, severity: "info", subjectKey: "session:ses_2", title: "Drift" });
    expect(other.created).toBe(true);
    expect(await rowsFor(alertType)).toHaveLength(2);
  });

  it("raises the severity of a repeat but never lowers it", async () => {
    const alertType = type();
    const raise = (severity: "info" | "warning" | "critical") => raiseAlert(db, { type: alertType, severity, subjectKey: "s", title: "t" });
    expect((await raise("warning")).alert.severity).toBe("warning");
    expect((await raise("critical")).alert.severity).toBe("critical");
    expect((await raise("info")).alert.severity).toBe("critical");
  });

  it("keeps exactly one unresolved alert under 20 parallel raises", async () => {
    const alertType = type();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => raiseAlert(db, { type: alertType, severity: "critical", subjectKey: "job:reconcile", title: `Run ${i}` })),
    );
    const rows = await rowsFor(alertType);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occurrences).toBe(20);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.alert.id))).toEqual(new Set([rows[0]!.id]));
  });

  it("opens a new alert once the previous one for the subject is resolved", async () => {
    const alertType = type();
    const first = await raiseAlert(db, { type: alertType, severity: "warning", subjectKey: "s", title: "t" });
    await resolveAlert(db, first.alert.id, "admin:ops");
    const next = await raiseAlert(db, { type: alertType, severity: "warning", subjectKey: "s", title: "t" });
    expect(next.created).toBe(true);
    expect(next.alert.id).not.toBe(first.alert.id);
    const rows = await rowsFor(alertType);
    expect(rows.map((r) => r.status).sort()).toEqual(["open", "resolved"]);
  });

  it("counts repeats on an acknowledged alert without reopening it", async () => {
    const alertType = type();
    const first = await raiseAlert(db, { type: alertType, severity: "warning", subjectKey: "s", title: "t" });
    await acknowledgeAlert(db, first.alert.id, "staff:sam");
    const again = await raiseAlert(db, { type: alertType, severity: "warning", subjectKey: "s", title: "t" });
    expect(again.alert).toMatchObject({ id: first.alert.id, status: "acknowledged", occurrences: 2 });
  });
});

describe("admin alerts routes", () => {
  it("lists alerts newest first, filtered by type, status and severity, with a cursor", async () => {
    const alertType = type();
    const base = Date.now();
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await makeAlert({ type: alertType, severity: i === 2 ? "critical" : "warning", createdAt: new Date(base + i * 1000) }));
    }
    await makeAlert({ type: alertType, status: "resolved", createdAt: new Date(base + 5000), resolvedAt: new Date(base + 6000) });

    const first = await call("GET", `${ALERTS}?type=${alertType}&status=open&limit=2`, { token: staff });
    expect(first.status).toBe(200);
    expect(first.json.data.map((a: { id: string }) => a.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    expect(first.json.data[0]).toMatchObject({ type: alertType, severity: "critical", status: "open", occurrences: 1, acknowledgedAt: null, resolvedAt: null });
    expect(first.json.data[0].createdAt).toBe(new Date(base + 2000).toISOString());

    const second = await call("GET", `${ALERTS}?type=${alertType}&status=open&limit=2&cursor=${first.json.nextCursor}`, { token: staff });
    expect(second.json.data.map((a: { id: string }) => a.id)).toEqual([made[0]!.id]);
    expect(second.json.nextCursor).toBeNull();

    const critical = await call("GET", `${ALERTS}?type=${alertType}&severity=critical`, { token: admin });
    expect(critical.json.data.map((a: { id: string }) => a.id)).toEqual([made[2]!.id]);
    const all = await call("GET", `${ALERTS}?type=${alertType}`, { token: admin });
    expect(all.json.data).toHaveLength(4);
  });

  it("orders alerts created in the same millisecond by id, without skipping any across pages", async () => {
    const alertType = type();
    const at = new Date();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await makeAlert({ type: alertType, createdAt: at })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call("GET", `${ALERTS}?type=${alertType}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: admin });
      seen.push(...res.json.data.map((a: { id: string }) => a.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].sort().reverse());
  });

  it("rejects bad filters and cursors with 400", async () => {
    const bad = await call("GET", `${ALERTS}?status=closed&severity=meh`, { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(["severity", "status"]);
    const encode = (parts: unknown[]) => btoa(JSON.stringify(parts)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
    for (const cursor of ["nonsense", encode(["yesterday", "alr_1"]), encode([1.5, "alr_1"]), encode([1, 2]), encode([1])]) {
      const res = await call("GET", `${ALERTS}?cursor=${cursor}`, { token: admin });
      expect(res.status, cursor).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details.issues[0].path).toBe("cursor");
    }
  });

  it("acknowledges an alert once: a second acknowledgement changes nothing", async () => {
    const alert = await makeAlert({ type: type() });
    const staffToken = await tokenFor("staff", `sam-${unique()}@example.test`);
    const acked = await call("POST", `${ALERTS}/${alert.id}/acknowledge`, { token: staffToken });
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ id: alert.id, status: "acknowledged", acknowledgedBy: expect.stringMatching(/^staff:sam-/) });
    expect(acked.json.acknowledgedAt).toEqual(expect.any(String));

    const again = await call("POST", `${ALERTS}/${alert.id}/acknowledge`, { token: admin });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ acknowledgedBy: acked.json.acknowledgedBy, acknowledgedAt: acked.json.acknowledgedAt, status: "acknowledged" });
  });

  it("resolves an alert (admin only), idempotently, recording who resolved it", async () => {
    const alert = await makeAlert({ type: type(), details: { sessionId: "ses_x" } });
    const resolved = await call("POST", `${ALERTS}/${alert.id}/resolve`, { token: admin });
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({ status: "resolved", details: { sessionId: "ses_x" }, resolvedBy: expect.stringMatching(/^admin:/) });
    expect(resolved.json.resolvedAt).toEqual(expect.any(String));

    const again = await call("POST", `${ALERTS}/${alert.id}/resolve`, { token: admin });
    expect(again.status).toBe(200);
    expect(again.json.resolvedAt).toBe(resolved.json.resolvedAt);

    // Acknowledging a resolved alert leaves it resolved.
    const acked = await call("POST", `${ALERTS}/${alert.id}/acknowledge`, { token: admin });
    expect(acked.json).toMatchObject({ status: "resolved", acknowledgedAt: null });
  });

  it("answers 404 for an unknown alert", async () => {
    const missing = `alr_missing_${unique()}`;
    for (const action of ["acknowledge", "resolve"]) {
      const res = await call("POST", `${ALERTS}/${missing}/${action}`, { token: admin });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
  });

  it("needs a token (401), staff or admin to read and acknowledge, admin to resolve (403)", async () => {
    const alert = await makeAlert({ type: type() });
    expect((await call("GET", ALERTS)).status).toBe(401);
    expect((await call("POST", `${ALERTS}/${alert.id}/acknowledge`)).status).toBe(401);
    expect((await call("GET", ALERTS, { token: customer })).status).toBe(403);
    expect((await call("POST", `${ALERTS}/${alert.id}/acknowledge`, { token: customer })).status).toBe(403);
    const staffResolve = await call("POST", `${ALERTS}/${alert.id}/resolve`, { token: staff });
    expect(staffResolve.status).toBe(403);
    expect(staffResolve.json.error.code).toBe("FORBIDDEN");
    const [row] = await db.select().from(alerts).where(eq(alerts.id, alert.id));
    expect(row!.status).toBe("open");
  });
});
