/**
 * The patterns page's buttons (`[data-pattern-action]` in `[data-pattern-id]`): Preview lists the
 * occurrences the pattern expands to, in the studio's time with its zone; Generate shows the
 * regeneration report (what was created, updated, removed, and what was left alone and why).
 * Refusals (staff generating: only admins may) are shown as sentences from src/client/console-api.ts.
 */
import { consoleCall } from "./console-api";

interface Occurrence {
  startsAt: string;
  endsAt: string;
}

interface Report {
  occurrences: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  cancelled: number;
  skippedPast: number;
  bookedLeftAlone: { id: string; startsAt: string; reason: string; seatsBooked: number }[];
  cancelledLeftAlone: { id: string; startsAt: string }[];
  heldLeftAlone: string[];
  staffConflicts: { sessionId: string | null; startsAt: string | null; staffId: string; role: string; reason: string; clashingSessionId: string | null }[];
}

const PREVIEW_SHOWN = 100;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function formatter(zone: string | undefined) {
  const format = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: zone, timeZoneName: "short" });
  return (iso: string | null) => (iso ? format.format(new Date(iso)) : "—");
}

function list(items: string[]): HTMLUListElement {
  const ul = element("ul");
  for (const item of items) ul.append(element("li", item));
  return ul;
}

function showPreview(output: HTMLElement, occurrences: Occurrence[], local: (iso: string) => string): void {
  output.replaceChildren(
    element("h3", `${occurrences.length} occurrence${occurrences.length === 1 ? "" : "s"}`),
    list(occurrences.slice(0, PREVIEW_SHOWN).map((o) => local(o.startsAt))),
    ...(occurrences.length > PREVIEW_SHOWN ? [element("p", `… and ${occurrences.length - PREVIEW_SHOWN} more.`)] : []),
  );
}

const REASONS: Record<string, string> = {
  NOT_IN_PATTERN: "no longer in the pattern",
  DIFFERS_FROM_PATTERN: "differs from the pattern",
  DOUBLE_BOOKED: "already on an overlapping session",
  NOT_QUALIFIED: "no longer qualified",
};

function showReport(output: HTMLElement, report: Report, local: (iso: string | null) => string): void {
  const figures = element("dl", undefined, "facts");
  for (const [label, value] of [
    ["Occurrences", report.occurrences],
    ["Created", report.created],
    ["Updated", report.updated],
    ["Unchanged", report.unchanged],
    ["Removed", report.removed],
    ["Cancelled", report.cancelled],
    ["Past, skipped", report.skippedPast],
  ] as const) {
    figures.append(element("dt", label), element("dd", String(value)));
  }
  const parts: HTMLElement[] = [element("h3", "Sessions generated"), figures];
  if (report.bookedLeftAlone.length > 0) {
    parts.push(element("h4", "Booked sessions left alone"), list(report.bookedLeftAlone.map((s) => `${local(s.startsAt)}: ${s.seatsBooked} seats booked, ${REASONS[s.reason] ?? s.reason}`)));
  }
  if (report.cancelledLeftAlone.length > 0) parts.push(element("h4", "Cancelled sessions not revived"), list(report.cancelledLeftAlone.map((s) => local(s.startsAt))));
  if (report.heldLeftAlone.length > 0) parts.push(element("h4", "Sessions with seats in checkout, left alone"), list(report.heldLeftAlone));
  if (report.staffConflicts.length > 0) {
    parts.push(
      element("h4", "Default staff left off"),
      list(report.staffConflicts.map((c) => `${local(c.startsAt)}: ${c.role} ${c.staffId}, ${REASONS[c.reason] ?? c.reason}`)),
    );
  }
  output.replaceChildren(...parts);
}

export function startConsolePatterns(): void {
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>("button[data-pattern-action]"))) {
    const item = button.closest<HTMLElement>("[data-pattern-id]");
    const output = item?.querySelector<HTMLElement>("[data-pattern-output]");
    if (!item || !output) continue;
    const local = formatter(item.dataset.timeZone);
    button.addEventListener("click", async () => {
      const url = button.dataset.url;
      if (!url) return;
      button.disabled = true;
      output.replaceChildren(element("p", "Working…"));
      const answer = await consoleCall("POST", url);
      button.disabled = false;
      if (!answer.ok) {
        const problem = element("p", answer.message ?? "Something went wrong.", "error");
        problem.setAttribute("role", "alert");
        output.replaceChildren(problem);
        return;
      }
      if (button.dataset.patternAction === "preview") showPreview(output, (answer.body as { occurrences: Occurrence[] }).occurrences, local);
      else showReport(output, answer.body as Report, local);
    });
  }
}
