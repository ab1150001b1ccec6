/**
 * The class page's booking form (`form[data-booking-form]`): pick what to book, see the server's
 * quote (POST /api/v1/quotes, asked again whenever the choice, the people or the seats change),
 * hold the seats (POST /api/v1/holds) with a countdown to the hold's expiry, then book
 * (POST /api/v1/bookings naming the hold, with the quote's total and an Idempotency-Key kept
 * for the hold, so a retry never books twice). The browser never works out a price: every figure
 * shown is the quote's. Refusals become sentences (src/client/booking-messages.ts).
 */
import { bookingMessage, invalidFields } from "./booking-messages";
import { attachCountdown } from "./countdown";
import { type BookingAnswer, confirmationLinks, el, pounds, type Quote, quoteView, type Selection } from "./booking-render";
import { callApi, newIdempotencyKey } from "./customer-api";
import { goToCheckout } from "./reopen-booking";

interface Contact {
  email: string;
  firstName: string;
  lastName: string;
  phone?: string;
}

interface Hold {
  holdId: string;
  expiresAt: string;
  /** What was held, to tell whether a second "Hold" can reuse it. */
  fingerprint: string;
  request: { selection: Selection; guestCount: number; contact: Contact; promoCode?: string };
  /** The booking's Idempotency-Key: one per hold, so retries of its confirmation replay. */
  bookingKey: string;
}

const QUOTE_DELAY_MS = 250;

class BookingForm {
  private quote: Quote | null = null;
  private quoteSeq = 0;
  private quoteTimer: number | undefined;
  private hold: Hold | null = null;
  /** The hold request's Idempotency-Key, kept while the same choice is retried (a lost answer replays, never holds twice). */
  private holdKey: { fingerprint: string; key: string } | null = null;
  private readonly byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

  constructor(private readonly form: HTMLFormElement) {}

  start(): void {
    this.form.addEventListener("change", (event) => {
      const target = event.target as HTMLInputElement;
      if (target.name === "registrationType") this.showKind();
      if (target.closest("#contact")) return;
      this.requestQuote();
    });
    this.form.addEventListener("input", (event) => {
      const target = event.target as HTMLInputElement;
      // A promo code is quoted when it is complete (on change): each try counts against the promo rate limit.
      if (target.name === "guestCount") this.requestQuote();
      target.removeAttribute("aria-invalid");
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.holdSeats();
    });
    document.addEventListener("seats-changed", (event) => {
      const { sessionId } = (event as CustomEvent<{ sessionId: string }>).detail;
      if (!this.form.hidden && this.selectedSessionIds().includes(sessionId)) this.requestQuote();
    });
    this.byId("confirm-button")?.addEventListener("click", () => void this.confirm());
    this.byId("change-button")?.addEventListener("click", () => this.backToForm(""));
    this.byId("hold-countdown")?.addEventListener("countdown-expired", () => {
      if (this.hold) this.backToForm(bookingMessage({ code: "HOLD_EXPIRED", status: 409, body: undefined }));
      this.hold = null;
    });
    this.showKind();
    this.requestQuote(0);
  }

  private kind(): Selection["registrationType"] {
    const checked = this.form.querySelector<HTMLInputElement>('input[name="registrationType"]:checked, input[type="hidden"][name="registrationType"]');
    return (checked?.value ?? "SINGLE_SESSION") as Selection["registrationType"];
  }

  /** Shows the picker of the chosen kind only. */
  private showKind(): void {
    const kind = this.kind();
    for (const section of this.form.querySelectorAll<HTMLElement>("[data-kind-section]")) section.hidden = section.dataset.kindSection !== kind;
  }

  private section(): HTMLElement | null {
    return this.form.querySelector<HTMLElement>(`[data-kind-section="${this.kind()}"]`);
  }

  private selection(): Selection | null {
    const kind = this.kind();
    const section = this.section();
    if (!section) return null;
    const checked = [...section.querySelectorAll<HTMLInputElement>("input:checked:not(:disabled)")].map((input) => input.value);
    if (checked.length === 0) return null;
    if (kind === "SINGLE_SESSION") return { registrationType: kind, sessionId: checked[0]! };
    if (kind === "DROP_IN") return { registrationType: kind, sessionIds: checked };
    return { registrationType: kind, patternId: checked[0]! };
  }

  private selectedSessionIds(): string[] {
    const selection = this.selection();
    if (!selection) return [];
    return selection.sessionIds ?? (selection.sessionId ? [selection.sessionId] : this.quote?.sessions.map((session) => session.sessionId) ?? []);
  }

  private guestCount(): number {
    const value = Number(this.byId<HTMLInputElement>("guest-count")?.value);
    return Number.isInteger(value) && value >= 1 ? value : 0;
  }

  private promoCode(): string | undefined {
    const code = this.byId<HTMLInputElement>("promo-code")?.value.trim();
    return code ? code : undefined;
  }

  private contact(): Contact {
    const value = (id: string) => this.byId<HTMLInputElement>(id)?.value.trim() ?? "";
    const phone = value("contact-phone");
    return { email: value("contact-email"), firstName: value("contact-first-name"), lastName: value("contact-last-name"), ...(phone ? { phone } : {}) };
  }

  /** The label a picked session or course shows on the page (its studio-local time). */
  private labelOf(value: string): string {
    const input = this.form.querySelector<HTMLInputElement>(`input[value="${CSS.escape(value)}"][data-label]`);
    return input?.dataset.label ?? value;
  }

  private setHoldEnabled(enabled: boolean): void {
    const button = this.byId<HTMLButtonElement>("hold-button");
    if (button) button.disabled = !enabled;
  }

  private requestQuote(delay = QUOTE_DELAY_MS): void {
    window.clearTimeout(this.quoteTimer);
    this.quoteTimer = window.setTimeout(() => void this.fetchQuote(), delay);
  }

  /** Asks the server for the price of the current choice; a late answer to an older choice is dropped. */
  private async fetchQuote(): Promise<Quote | null> {
    const seq = ++this.quoteSeq;
    const selection = this.selection();
    const guestCount = this.guestCount();
    const body = this.byId("quote-body");
    if (!selection || guestCount === 0) {
      this.quote = null;
      this.setHoldEnabled(false);
      body?.replaceChildren(el("p", guestCount === 0 ? "Enter how many people are coming (1 or more)." : "Choose what to book to see the price.", { class: "muted" }));
      return null;
    }
    const answer = await callApi<Quote>("POST", "/api/v1/quotes", { body: { ...selection, guestCount, promoCode: this.promoCode() } });
    if (seq !== this.quoteSeq) return null;
    if (!answer.ok) {
      this.quote = null;
      this.setHoldEnabled(false);
      const message = el("p", bookingMessage(answer), { class: "error", "data-error-code": answer.code ?? "" });
      body?.replaceChildren(message);
      if (answer.code === "NO_TRAINER") body?.append(el("a", "Notify me", { href: `/classes/${this.form.dataset.classId ?? ""}/notify`, class: "button secondary" }));
      if (answer.code === "VALIDATION_FAILED" || answer.code === "PROMO_INVALID") this.markInvalid(answer.code === "PROMO_INVALID" ? ["promoCode"] : invalidFields(answer));
      return null;
    }
    this.quote = answer.body;
    this.renderQuote(answer.body);
    this.setHoldEnabled(answer.body.fits);
    if (this.hold && this.form.hidden) this.refreshCheckout();
    return answer.body;
  }

  private renderQuote(quote: Quote): void {
    const course = this.section()?.querySelector<HTMLInputElement>("input:checked")?.dataset.label;
    this.byId("quote-body")?.replaceChildren(...quoteView(quote, (sessionId) => this.labelOf(sessionId), course));
  }

  private markInvalid(paths: string[]): void {
    const ids: Record<string, string> = {
      "contact.email": "contact-email",
      "contact.firstName": "contact-first-name",
      "contact.lastName": "contact-last-name",
      "contact.phone": "contact-phone",
      guestCount: "guest-count",
      promoCode: "promo-code",
    };
    for (const path of paths) {
      const id = ids[path];
      if (id) this.byId(id)?.setAttribute("aria-invalid", "true");
    }
  }

  private say(id: "booking-error" | "checkout-error", text: string): void {
    const region = this.byId(id);
    if (region) region.textContent = text;
  }

  /** Holds the seats of the current choice (or goes back to a hold of the same choice that is still running). */
  private async holdSeats(): Promise<void> {
    this.say("booking-error", "");
    if (!this.form.reportValidity()) return;
    // Quoted afresh: the price and the seats held must be those of the choice as it is now.
    window.clearTimeout(this.quoteTimer);
    const quote = await this.fetchQuote();
    const selection = this.selection();
    if (!quote || !selection || !quote.fits) {
      this.say("booking-error", "Choose something that fits before holding seats.");
      return;
    }
    const request = { selection, guestCount: this.guestCount(), contact: this.contact(), ...(this.promoCode() ? { promoCode: this.promoCode()! } : {}) };
    const fingerprint = JSON.stringify([selection, request.guestCount, request.contact.email.toLowerCase()]);
    if (this.hold && this.hold.fingerprint === fingerprint && Date.parse(this.hold.expiresAt) > Date.now() + 5_000) {
      this.hold.request = request;
      this.showCheckout();
      return;
    }
    this.setHoldEnabled(false);
    if (this.holdKey?.fingerprint !== fingerprint) this.holdKey = { fingerprint, key: newIdempotencyKey() };
    const answer = await callApi<{ holdId: string; expiresAt: string }>("POST", "/api/v1/holds", {
      body: { ...selection, guestCount: request.guestCount, contact: request.contact },
      headers: { "Idempotency-Key": this.holdKey.key },
    });
    this.setHoldEnabled(true);
    // A refusal is final for this key (a retry would replay it): the next attempt gets a new one.
    if (answer.status !== 0 && !(answer.status >= 500)) this.holdKey = null;
    if (!answer.ok) {
      this.say("booking-error", bookingMessage(answer));
      if (answer.code === "VALIDATION_FAILED") this.markInvalid(invalidFields(answer));
      this.requestQuote(0);
      return;
    }
    this.hold = { holdId: answer.body.holdId, expiresAt: answer.body.expiresAt, fingerprint, request, bookingKey: newIdempotencyKey() };
    this.showCheckout();
  }

  private showCheckout(): void {
    const hold = this.hold;
    const quote = this.quote;
    if (!hold || !quote) return;
    const countdown = this.byId("hold-countdown");
    if (countdown) {
      countdown.dataset.countdownTo = hold.expiresAt;
      attachCountdown(countdown);
    }
    this.refreshCheckout();
    this.say("checkout-error", "");
    this.form.hidden = true;
    const checkout = this.byId("checkout");
    if (checkout) {
      checkout.hidden = false;
      checkout.focus();
    }
  }

  /** The checkout's summary and button show the latest quote (whichever request brought it). */
  private refreshCheckout(): void {
    if (!this.hold || !this.quote) return;
    this.renderSummary(this.byId("checkout-summary"), this.quote, this.hold.request.guestCount);
    const confirm = this.byId<HTMLButtonElement>("confirm-button");
    if (confirm) {
      confirm.disabled = false;
      confirm.textContent = `Confirm booking · ${pounds(this.quote.totalPence)}`;
    }
  }

  private renderSummary(target: HTMLElement | null, quote: Quote, guestCount: number): void {
    if (!target) return;
    const list = el("dl", undefined, { class: "facts" });
    const when = el("ul", undefined, { class: "plain" });
    const picked = this.section()?.querySelectorAll<HTMLInputElement>("input:checked") ?? [];
    for (const input of picked) when.append(el("li", input.dataset.label ?? input.value));
    list.append(el("dt", "Class"), el("dd", this.form.dataset.className ?? ""), el("dt", "When"), el("dd"), el("dt", "People"), el("dd", String(guestCount)));
    list.children[3]?.append(when);
    if (quote.discountPence > 0) list.append(el("dt", "Discount"), el("dd", `−${pounds(quote.discountPence)}`));
    list.append(el("dt", "Total"), el("dd", pounds(quote.totalPence), { "data-testid": "summary-total" }));
    target.replaceChildren(list);
  }

  /** Books the held seats at the quoted total; a changed price is quoted again and shown before trying once more. */
  private async confirm(): Promise<void> {
    const hold = this.hold;
    const quote = this.quote;
    if (!hold || !quote) return;
    const button = this.byId<HTMLButtonElement>("confirm-button");
    if (button) button.disabled = true;
    this.say("checkout-error", "");
    const { selection, guestCount, contact, promoCode } = hold.request;
    const answer = await callApi<{ booking: BookingAnswer; manageToken?: string; payment?: { checkoutUrl: string } }>("POST", "/api/v1/bookings", {
      body: { ...selection, guestCount, contact, promoCode, totalAmountPence: quote.totalPence, currency: "GBP", holdId: hold.holdId, source: "website" },
      headers: { "Idempotency-Key": hold.bookingKey },
    });
    if (answer.ok) {
      this.hold = null;
      const { booking, manageToken, payment } = answer.body;
      // A class paid online: the seats stay held while the customer pays at the provider's checkout,
      // which sends them back to the confirmation page (src/client/reopen-booking.ts finds the token).
      if (payment) return goToCheckout(booking.id, manageToken, payment.checkoutUrl);
      this.showConfirmation(booking, manageToken, quote);
      return;
    }
    if (button) button.disabled = false;
    if (answer.code === "HOLD_EXPIRED") {
      this.hold = null;
      this.backToForm(bookingMessage(answer));
      return;
    }
    if (answer.code === "AMOUNT_MISMATCH") {
      // The booking was refused, so the key is free for the new total's request.
      hold.bookingKey = newIdempotencyKey();
      if (button) button.disabled = true;
      await this.fetchQuote();
      this.refreshCheckout();
    }
    this.say("checkout-error", bookingMessage(answer));
  }

  private backToForm(message: string): void {
    const checkout = this.byId("checkout");
    if (checkout) checkout.hidden = true;
    this.form.hidden = false;
    this.say("booking-error", message);
    this.byId("booking-error")?.focus();
    this.requestQuote(0);
  }

  private showConfirmation(booking: BookingAnswer, manageToken: string | undefined, quote: Quote): void {
    const checkout = this.byId("checkout");
    if (checkout) checkout.hidden = true;
    const section = this.byId("confirmation");
    const body = this.byId("confirmation-body");
    if (!section || !body) return;
    const intro = el("p", `Booking ${booking.id} is confirmed for ${booking.customer.firstName} ${booking.customer.lastName}. We have emailed the details to ${booking.customer.email}.`, {
      class: "success",
      id: "confirmation-message",
    });
    const summary = el("div");
    this.renderSummary(summary, { ...quote, totalPence: booking.totalAmountPence, discountPence: booking.discountPence }, booking.guestCount);
    const links = confirmationLinks(booking.id, manageToken);
    const keep = el("p", manageToken ? "Keep the manage link: it lets you see or cancel this booking without signing in." : "The manage link is in your confirmation email.", { class: "muted" });
    body.replaceChildren(intro, summary, links, keep);
    section.hidden = false;
    section.focus();
  }
}

/** The feature: the booking form on a class page, if there is one. */
export function startBookingForm(): void {
  const form = document.querySelector<HTMLFormElement>("form[data-booking-form]");
  if (form) new BookingForm(form).start();
}
