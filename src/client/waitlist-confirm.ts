/**
 * The waitlist confirmation button (`#waitlist-confirm[data-confirm-token]`,
 * src/pages/waitlist-confirm.tsx): POST /api/v1/waitlist-confirmations/{token}, then the place in
 * line (or that seats are being offered already). Confirming twice changes nothing.
 */
import { callApi, say } from "./customer-api";

interface Confirmed {
  entry: { position: number | null; status: string };
}

export function startWaitlistConfirm(): void {
  const box = document.querySelector<HTMLElement>("#waitlist-confirm[data-confirm-token]");
  const button = box?.querySelector<HTMLButtonElement>("#waitlist-confirm-button");
  const result = box?.querySelector<HTMLElement>("#waitlist-confirm-result");
  if (!box || !button || !result) return;
  const token = box.dataset.confirmToken ?? "";

  button.addEventListener("click", async () => {
    button.disabled = true;
    say(result, "Confirming…", "info");
    const answer = await callApi<Confirmed>("POST", `/api/v1/waitlist-confirmations/${encodeURIComponent(token)}`);
    button.disabled = false;
    if (answer.ok) {
      const { entry } = answer.body;
      button.hidden = true;
      box.dataset.outcome = "confirmed";
      say(
        result,
        entry.status === "offered"
          ? "Confirmed. Seats are being offered to you now: check your inbox for the offer link."
          : `Confirmed: you are on the waitlist${entry.position ? `, number ${entry.position} in line` : ""}. We will email you when seats are offered to you.`,
        "success",
      );
    } else {
      say(result, `Could not confirm: ${answer.message}`, "error");
    }
    result.focus();
  });
}
