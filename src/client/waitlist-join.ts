/**
 * The waitlist join form (`#waitlist-join-form[data-waitlist-session]`,
 * src/pages/waitlist-join.tsx): POST /api/v1/sessions/{id}/waitlist, then says what happens next.
 * An anonymous joiner is not in line until they confirm by email ("check your inbox"); a joiner
 * signed in as the address is in line at once and sees their position.
 */
import { callApi, newIdempotencyKey, say } from "./customer-api";

interface Joined {
  entry: { email: string; confirmed: boolean; position: number | null; confirmBy: string | null; status: string };
}

export function startWaitlistJoin(): void {
  const form = document.querySelector<HTMLFormElement>("#waitlist-join-form[data-waitlist-session]");
  if (form) wire(form);
}

function wire(form: HTMLFormElement): void {
  const sessionId = form.dataset.waitlistSession ?? "";
  const result = document.getElementById("waitlist-result");
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  let key = newIdempotencyKey();
  let lastBody = "";

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const data = new FormData(form);
    const body = {
      email: String(data.get("email") ?? "").trim(),
      firstName: String(data.get("firstName") ?? "").trim(),
      lastName: String(data.get("lastName") ?? "").trim(),
      guestCount: Number(data.get("guestCount") ?? 1),
    };
    // The same details again reuse the key (a retry replays); changed details are a new request.
    const serialized = JSON.stringify(body);
    if (serialized !== lastBody) key = newIdempotencyKey();
    lastBody = serialized;
    if (button) button.disabled = true;
    say(result, "Joining…", "info");
    const answer = await callApi<Joined>("POST", `/api/v1/sessions/${encodeURIComponent(sessionId)}/waitlist`, {
      body,
      headers: { "Idempotency-Key": key },
    });
    if (button) button.disabled = false;
    if (!answer.ok) {
      say(result, `Could not join the waitlist: ${answer.message}`, "error");
      result?.focus();
      return;
    }
    const entry = answer.body.entry;
    const again = answer.status === 200 ? "You were already on this waitlist. " : "";
    if (!entry.confirmed) {
      const left = entry.confirmBy ? lapsesIn(Date.parse(entry.confirmBy) - Date.now()) : "";
      say(
        result,
        `${again}Almost done: check your inbox to confirm. We sent a link to ${entry.email}; ` +
          `until you follow it you have no place in line${left ? `, and the request lapses in ${left}` : ""}.`,
        "success",
      );
    } else if (entry.status === "offered") {
      say(result, `${again}Seats are being offered to you now: check your inbox for the offer link.`, "success");
    } else {
      say(result, `${again}You are on the waitlist${entry.position ? `, number ${entry.position} in line` : ""}. We will email you when seats are offered to you.`, "success");
    }
    form.hidden = true;
    result?.focus();
  });
}

/** "about 25 minutes", "about 24 hours": how long an unconfirmed join waits for its email. */
function lapsesIn(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `about ${Math.round(minutes / 60)} hours`;
}
