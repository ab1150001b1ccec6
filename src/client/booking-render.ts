/**
 * What the booking form draws from the server's answers (src/client/booking-form.ts): the quote's
 * price table with what does not fit, and the confirmation's links. Built with DOM calls and
 * textContent only, so nothing from an answer is ever parsed as HTML.
 */
import { bookingMessage } from "./booking-messages";

export interface Selection {
  registrationType: "SINGLE_SESSION" | "DROP_IN" | "FULL_SCHEDULE";
  sessionId?: string;
  sessionIds?: string[];
  patternId?: string;
}

export interface QuotedSession {
  sessionId: string;
  pricePence: number;
  availableSpots: number;
  resources: { resourceId: string }[];
  problem: { code: string; message: string; details: Record<string, unknown> } | null;
}

export interface Quote {
  registrationType: Selection["registrationType"];
  guestCount: number;
  sessionCount: number;
  unitPence: number;
  subtotalPence: number;
  discountPence: number;
  totalPence: number;
  promoApplied: boolean;
  fits: boolean;
  sessions: QuotedSession[];
}

export interface BookingAnswer {
  id: string;
  guestCount: number;
  totalAmountPence: number;
  discountPence: number;
  customer: { email: string; firstName: string; lastName: string };
}

const money = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
/** Pence as pounds, the way the server-rendered pages show them (src/pages/format.ts). */
export const pounds = (pence: number) => money.format(pence / 100);

/** An element with text (set as text, never parsed) and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** A row of the price table: what, and its amount (a negative one is a discount). */
export function priceRow(label: string, pence: number): HTMLTableRowElement {
  const row = el("tr");
  row.append(el("th", label, { scope: "row" }), el("td", pence < 0 ? `−${pounds(-pence)}` : pounds(pence)));
  return row;
}

/**
 * The quote as the page shows it: a line per session (or the course), the discount, the total,
 * then either that the party fits or, per session, why not (with the waitlist when full).
 */
export function quoteView(quote: Quote, labelOf: (sessionId: string) => string, courseLabel: string | undefined): Node[] {
  const table = el("table", undefined, { class: "price-table", "data-testid": "price-breakdown" });
  const rows = el("tbody");
  const people = `${quote.guestCount} ${quote.guestCount === 1 ? "person" : "people"}`;
  if (quote.registrationType === "FULL_SCHEDULE") {
    rows.append(priceRow(`Whole course (${quote.sessionCount} sessions), ${courseLabel ?? ""} × ${people}`, quote.subtotalPence));
  } else {
    for (const session of quote.sessions) rows.append(priceRow(`${labelOf(session.sessionId)} × ${people}`, session.pricePence));
  }
  if (quote.discountPence > 0) {
    rows.append(priceRow("Before discount", quote.subtotalPence));
    rows.append(priceRow("Promo discount", -quote.discountPence));
  }
  const foot = el("tfoot");
  const total = priceRow("Total", quote.totalPence);
  total.querySelector("td")?.setAttribute("id", "quote-total");
  foot.append(total);
  table.append(rows, foot);
  const children: Node[] = [table];
  if (quote.registrationType !== "FULL_SCHEDULE" && quote.discountPence > 0) {
    children.push(el("p", "The amounts per session already include the promo discount.", { class: "muted" }));
  }
  const problems = quote.sessions.filter((session) => session.problem !== null);
  if (problems.length > 0) {
    // The alert role goes on a wrapper: on the <ul> itself it would hide the list from assistive tech.
    const alert = el("div", undefined, { class: "error", id: "quote-problems", role: "alert" });
    const list = el("ul");
    alert.append(list);
    for (const session of problems) {
      const problem = session.problem!;
      const text = bookingMessage({ code: problem.code, status: 409, body: { error: { details: problem.details, message: problem.message } } });
      const item = el("li", `${labelOf(session.sessionId)}: ${text}`, { "data-error-code": problem.code });
      if (problem.code === "SESSION_FULL") item.append(" ", el("a", "Join the waitlist", { href: `/sessions/${session.sessionId}/waitlist` }));
      list.append(item);
    }
    children.push(alert);
  } else {
    const equipment = quote.sessions.some((session) => session.resources.length > 0);
    children.push(el("p", equipment ? "Seats and equipment are available for your party." : "Seats are available for your party.", { class: "success", id: "quote-fits" }));
  }
  return children;
}

/** Manage, calendar and confirmation-page links of a new booking (its manage token opens all three). */
export function confirmationLinks(bookingId: string, manageToken: string | undefined): HTMLElement {
  const query = manageToken ? `?token=${encodeURIComponent(manageToken)}` : "";
  const links = el("p", undefined, { class: "actions" });
  links.append(
    el("a", "Manage this booking", { href: `/bookings/${bookingId}${query}`, class: "button", id: "manage-link" }),
    " ",
    el("a", "Add to calendar", { href: `/api/v1/bookings/${bookingId}/calendar.ics${query}`, class: "button secondary", id: "calendar-link", download: "" }),
    " ",
    el("a", "Confirmation page", { href: `/bookings/${bookingId}/confirmed${query}`, id: "confirmation-link" }),
  );
  return links;
}
