/** Helpers for the alert-check tests: a moment per test, the checks run at it, and the alerts D1 stored. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { getDb } from "../src/db/client";
import { dayRange } from "../src/domain/metric-periods";
import { runAlertChecks } from "../src/jobs/alert-checks";
import { testMonday } from "./metrics-helpers";

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

const db = getDb(env.DB);

/** A moment of its own for each test (weeks apart), so the rules' windows never see another test's data. */
export const testNow = () => dayRange(testMonday()).startMs + 12 * HOUR;

/** Runs the hourly checks as the cron does, at `now`, under `rules` (ALERT_RULES as configured unless told). */
export const check = (now: number, rules: unknown = env.ALERT_RULES) => runAlertChecks(env.DB, db, rules, new Date(now));

/** An alert row as D1 stores it (the columns the tests look at). */
export interface StoredAlert {
  id: string;
  status: string;
  severity: string;
  occurrences: number;
  title: string;
  details: string;
  resolved_by: string | null;
  resolved_at: number | null;
}

/** Every alert of `type` about `subjectKey`, oldest first. */
export async function alertsFor(type: string, subjectKey: string): Promise<StoredAlert[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, status, severity, occurrences, title, details, resolved_by, resolved_at FROM alerts WHERE type = ? AND subject_key = ? ORDER BY created_at`,
  )
    .bind(type, subjectKey)
    .all<StoredAlert>();
  return results;
}

/**
 * The life of one rule's alert: the first run opens it, the second counts a second occurrence on
 * the same alert, and a run after the condition cleared resolves it by "system".
 */
export async function expectFiresDedupsResolves(type: string, subjectKey: string, fire: () => Promise<number>, clear: (now: number) => Promise<number>) {
  const now = await fire();
  await check(now);
  const [opened] = await alertsFor(type, subjectKey);
  expect(opened, `${type} ${subjectKey} should fire`).toMatchObject({ status: "open", occurrences: 1 });

  await check(now + 1000);
  const again = await alertsFor(type, subjectKey);
  expect(again).toHaveLength(1);
  expect(again[0]).toMatchObject({ id: opened!.id, status: "open", occurrences: 2 });

  const later = await clear(now);
  await check(later);
  const after = await alertsFor(type, subjectKey);
  expect(after).toHaveLength(1);
  expect(after[0]).toMatchObject({ id: opened!.id, status: "resolved", resolved_by: "system", resolved_at: later });
  return opened!;
}
