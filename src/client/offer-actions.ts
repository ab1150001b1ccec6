/**
 * A waitlist offer's Accept and Decline (`#offer-actions[data-offer-token]`, src/pages/offer.tsx).
 * Accepting books the held seats at the price the page showed (the server refuses a different
 * one) and links to the new booking's manage page; when the countdown runs out, or the server
 * says the offer is closed, the buttons go and the page says the offer expired.
 */
import { callApi, newIdempotencyKey, say } from "./customer-api";

interface Accepted {
  booking: { id: string };
  manageToken?: string;
}

const EXPIRED = "This offer has expired: the seats were passed to the next person in line.";

export function startOfferActions(): void {
  const box = document.querySelector<HTMLElement>("#offer-actions[data-offer-token]");
  if (box) wire(box);
}

function wire(box: HTMLElement): void {
  const token = box.dataset.offerToken ?? "";
  const totalAmountPence = Number(box.dataset.totalPence);
  const accept = box.querySelector<HTMLButtonElement>("#offer-accept");
  const decline = box.querySelector<HTMLButtonElement>("#offer-decline");
  const result = box.querySelector<HTMLElement>("#offer-result");
  if (!accept || !decline || !result) return;
  const key = newIdempotencyKey();
  // A renewal offer (src/pages/renewal-offer.tsx) names its own API and wording.
  const base = box.dataset.offerApi ?? `/api/v1/waitlist-offers/${encodeURIComponent(token)}`;
  const expired = box.dataset.expiredText ?? EXPIRED;
  const declinedText = box.dataset.declinedText ?? "You declined the offer. The seats go to the next person in line. Thank you for letting them know.";
  let settled = false;

  const finish = () => {
    settled = true;
    accept.hidden = true;
    decline.hidden = true;
  };
  const busy = (on: boolean) => {
    accept.disabled = on;
    decline.disabled = on;
  };

  document.getElementById("offer-countdown")?.addEventListener("countdown-expired", () => {
    if (settled) return;
    finish();
    say(result, expired, "error");
    box.dataset.outcome = "expired";
  });

  accept.addEventListener("click", async () => {
    busy(true);
    say(result, "Booking your seats…", "info");
    const answer = await callApi<Accepted>("POST", `${base}/accept`, { body: { totalAmountPence, currency: "GBP" }, headers: { "Idempotency-Key": key } });
    busy(false);
    if (answer.ok) {
      finish();
      box.dataset.outcome = "booked";
      const href = `/bookings/${encodeURIComponent(answer.body.booking.id)}${answer.body.manageToken ? `?token=${encodeURIComponent(answer.body.manageToken)}` : ""}`;
      result.replaceChildren("You are booked! ", link(href, "Manage your booking"), ". A confirmation email is on its way.");
      result.className = "success";
      result.focus();
      return;
    }
    if (answer.code === "OFFER_NOT_AVAILABLE" || answer.code === "HOLD_EXPIRED") {
      finish();
      box.dataset.outcome = "expired";
      say(result, answer.code === "HOLD_EXPIRED" ? expired : (answer.message ?? expired), "error");
    } else {
      say(result, `Could not accept the offer: ${answer.message}`, "error");
    }
    result.focus();
  });

  decline.addEventListener("click", async () => {
    busy(true);
    const answer = await callApi("POST", `${base}/decline`);
    busy(false);
    if (answer.ok) {
      finish();
      box.dataset.outcome = "declined";
      say(result, declinedText, "success");
    } else {
      if (answer.code === "OFFER_NOT_AVAILABLE") finish();
      say(result, `Could not decline the offer: ${answer.message}`, "error");
    }
    result.focus();
  });
}

function link(href: string, text: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = href;
  a.id = "offer-booking-link";
  a.textContent = text;
  return a;
}
