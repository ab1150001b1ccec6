/**
 * The studio console's buttons (`[data-api-action]`) and forms (`form[data-api-form]`): each
 * calls the admin API named by data-method and data-url, then reloads the page so it shows the new
 * state, carrying the result ("Alert acknowledged.") over the reload into the page's flash region.
 * A refusal stays on the page as a clear sentence (src/client/console-api.ts), focus moved to it.
 */
import { consoleCall, type ConsoleAnswer } from "./console-api";

const FLASH_KEY = "console-flash";

function flashRegion(): HTMLElement | null {
  return document.querySelector<HTMLElement>("[data-console-flash]");
}

function show(text: string, kind: "success" | "error"): void {
  const region = flashRegion();
  if (!region) return;
  region.textContent = text;
  region.classList.remove("success", "error");
  region.classList.add(kind);
  if (kind === "error") {
    region.setAttribute("role", "alert");
    region.tabIndex = -1;
    region.focus();
  }
}

function succeeded(done: string): void {
  try {
    sessionStorage.setItem(FLASH_KEY, done);
  } catch {
    // Storage may be off: the reload still shows the new state.
  }
  location.reload();
}

/** A refusal of a staff assignment names the person and the clashing session. */
function explain(answer: ConsoleAnswer, form?: HTMLFormElement): string {
  const details = answer.details ?? {};
  if (answer.code === "STAFF_DOUBLE_BOOKED" && typeof details.staffId === "string" && form) {
    const option = form.querySelector<HTMLOptionElement>(`option[value="${CSS.escape(details.staffId)}"]`);
    const name = option?.textContent?.replace(/\s*\(busy.*$/, "").trim() || details.staffId;
    const zone = form.dataset.timeZone;
    const at = typeof details.clashingStartsAt === "string" ? new Date(details.clashingStartsAt) : undefined;
    const when = at
      ? ` (it starts ${new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: zone, timeZoneName: "short" }).format(at)})`
      : "";
    return `${name} is already teaching or assisting another session at this time${when}. Choose someone else, or change that session first.`;
  }
  return answer.message ?? "Something went wrong. Try again.";
}

/** The JSON body of a form: data-json="number" | "nullable" (empty → null) | "array" (checked boxes). */
function bodyOf(form: HTMLFormElement): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const element of Array.from(form.elements)) {
    if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) || !element.name) continue;
    const kind = element.dataset.json;
    if (kind === "array") {
      const list = (body[element.name] as string[] | undefined) ?? [];
      if (element instanceof HTMLInputElement && element.checked) list.push(element.value);
      body[element.name] = list;
      continue;
    }
    const value = element.value.trim();
    if (kind === "number") body[element.name] = Number(value);
    else if (kind === "nullable") body[element.name] = value === "" ? null : value;
    else if (value !== "") body[element.name] = value;
  }
  return body;
}

export function startConsoleActions(): void {
  const carried = (() => {
    try {
      const text = sessionStorage.getItem(FLASH_KEY);
      sessionStorage.removeItem(FLASH_KEY);
      return text;
    } catch {
      return null;
    }
  })();
  if (carried) show(carried, "success");

  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>("button[data-api-action]"))) {
    button.addEventListener("click", async () => {
      const { method = "POST", url, confirm: question, done = "Done." } = button.dataset;
      if (!url || (question && !window.confirm(question))) return;
      button.disabled = true;
      const answer = await consoleCall(method, url);
      if (answer.ok) return succeeded(done);
      button.disabled = false;
      show(explain(answer), "error");
    });
  }

  for (const form of Array.from(document.querySelectorAll<HTMLFormElement>("form[data-api-form]"))) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { method = "POST", url, done = "Saved." } = form.dataset;
      if (!url) return;
      const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
      if (submit) submit.disabled = true;
      const answer = await consoleCall(method, url, bodyOf(form));
      if (answer.ok) return succeeded(done);
      if (submit) submit.disabled = false;
      show(explain(answer, form), "error");
    });
  }
}
