/**
 * The notify-me page's two forms (src/pages/notify-me.tsx): register an address for a class that
 * has no trainer yet (POST /api/v1/demand/waitlist) and check whether one is registered
 * (GET /api/v1/demand/waitlist/check).
 */
import { callApi, say } from "./customer-api";

interface Registered {
  created: boolean;
  registration: { email: string };
}

export function startNotifyMe(): void {
  const form = document.querySelector<HTMLFormElement>("#notify-form[data-course-id]");
  if (form) wireRegister(form);
  const check = document.querySelector<HTMLFormElement>("#notify-check-form[data-course-id]");
  if (check) wireCheck(check);
}

function emailOf(form: HTMLFormElement): string {
  return String(new FormData(form).get("email") ?? "").trim();
}

function wireRegister(form: HTMLFormElement): void {
  const courseId = form.dataset.courseId ?? "";
  const result = document.getElementById("notify-result");
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    if (button) button.disabled = true;
    say(result, "Registering…", "info");
    const answer = await callApi<Registered>("POST", "/api/v1/demand/waitlist", { body: { courseId, email: emailOf(form) } });
    if (button) button.disabled = false;
    if (answer.ok) {
      const email = answer.body.registration.email;
      say(
        result,
        answer.body.created
          ? `You are registered. We will email ${email} once this class can be booked.`
          : `You are registered already: we will email ${email} once this class can be booked.`,
        "success",
      );
      if (result) result.dataset.outcome = "registered";
      form.hidden = true;
    } else {
      say(result, `Could not register: ${answer.message}`, "error");
    }
    result?.focus();
  });
}

function wireCheck(form: HTMLFormElement): void {
  const courseId = form.dataset.courseId ?? "";
  const result = document.getElementById("notify-check-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const query = new URLSearchParams({ courseId, email: emailOf(form) });
    const answer = await callApi<{ registered: boolean }>("GET", `/api/v1/demand/waitlist/check?${query}`);
    if (!answer.ok) return say(result, `Could not check: ${answer.message}`, "error");
    say(result, answer.body.registered ? "Yes: this address is registered for this class." : "No: this address is not registered for this class yet.", "info");
  });
}
