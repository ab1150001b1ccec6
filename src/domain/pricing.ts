/**
 * Prices, pure: what a booking costs and whether the amount a client offers is exactly that.
 * Money is integer pence in GBP; the server computes the price and never corrects a client's
 * total silently (DESIGN invariant 5). A price the client cannot have is a refusal, plain data
 * with a stable code (`{ code, message, details }`); the caller turns it into the API error.
 */
import type { BookingKind } from "./booking-kinds";

export const CURRENCY = "GBP";
export const SUPPORTED_CURRENCIES = [CURRENCY] as const;

export type PricingRefusalCode = "BOOKING_KIND_NOT_ALLOWED" | "CURRENCY_NOT_SUPPORTED" | "INVALID_AMOUNT" | "AMOUNT_MISMATCH";

/** Why a booking cannot be priced or paid as asked. */
export interface PricingRefusal {
  code: PricingRefusalCode;
  message: string;
  details: Record<string, unknown>;
}

export interface PromoDiscount {
  kind: "percent" | "fixed";
  /** Percent off (1–100) or pence off. */
  value: number;
}

export interface QuoteInput {
  registrationType: BookingKind;
  /** The class's price for one seat in one session. */
  classPricePence: number;
  /** The class's price for one seat in every session of the schedule; null when not offered. */
  fullSchedulePricePence: number | null;
  /** Sessions the booking covers (DROP_IN multiplies by it; the others ignore it). */
  sessionCount: number;
  /** Seats per session: the customer plus their guests. */
  seats: number;
  promo?: PromoDiscount;
}

export interface Quote {
  /** What one seat costs for the whole booking (all its sessions), before any discount. */
  unitPence: number;
  /** unitPence × seats. */
  subtotalPence: number;
  discountPence: number;
  /** subtotalPence − discountPence, never below 0. */
  totalPence: number;
  currency: typeof CURRENCY;
}

/** A quote, or why the booking cannot be priced as asked (BOOKING_KIND_NOT_ALLOWED). */
export type QuoteResult = { ok: true; quote: Quote } | ({ ok: false } & PricingRefusal);

/**
 * The price of a booking. SINGLE_SESSION: class price × seats; DROP_IN: class price × seats ×
 * sessions; FULL_SCHEDULE: full-schedule price × seats (refused BOOKING_KIND_NOT_ALLOWED when the
 * class has none). A percent promo rounds half up to the penny; a fixed promo stops at 0.
 * Counts and prices must already be validated integers (a RangeError here is a bug upstream).
 */
export function quoteBooking(input: QuoteInput): QuoteResult {
  const { registrationType, classPricePence, fullSchedulePricePence, sessionCount, seats, promo } = input;
  assertWholeNumber("seats", seats, 1);
  assertWholeNumber("classPricePence", classPricePence, 0);

  let unitPence: number;
  switch (registrationType) {
    case "SINGLE_SESSION":
      unitPence = classPricePence;
      break;
    case "DROP_IN":
      assertWholeNumber("sessionCount", sessionCount, 1);
      unitPence = classPricePence * sessionCount;
      break;
    case "FULL_SCHEDULE":
      if (fullSchedulePricePence === null) {
        return {
          ok: false,
          code: "BOOKING_KIND_NOT_ALLOWED",
          message: "This class has no full-schedule price, so it cannot be booked as FULL_SCHEDULE",
          details: { registrationType },
        };
      }
      assertWholeNumber("fullSchedulePricePence", fullSchedulePricePence, 0);
      unitPence = fullSchedulePricePence;
      break;
    default:
      throw new RangeError(`Unknown registration type ${String(registrationType)}`);
  }

  const subtotalPence = unitPence * seats;
  const discountPence = promo ? discountFor(subtotalPence, promo) : 0;
  return { ok: true, quote: { unitPence, subtotalPence, discountPence, totalPence: subtotalPence - discountPence, currency: CURRENCY } };
}

/** The discount a promo gives on a subtotal: never more than the subtotal itself. */
export function discountFor(subtotalPence: number, promo: PromoDiscount): number {
  if (promo.kind === "percent") {
    assertWholeNumber("percent", promo.value, 0);
    // Integer arithmetic, so x.5 pence is exactly half and rounds up: floor((s × p + 50) / 100).
    return Math.min(subtotalPence, Math.floor((subtotalPence * promo.value + 50) / 100));
  }
  assertWholeNumber("fixed discount", promo.value, 0);
  return Math.min(subtotalPence, promo.value);
}

export interface PaymentInput {
  quote: Quote;
  totalAmountPence: number;
  currency: string;
  /** True when a valid promo code is part of the quote. */
  promoApplied: boolean;
  /**
   * Whether an AMOUNT_MISMATCH may say the expected total when a promo is applied (staff only): to
   * anyone else it would tell a code's discount, so it says only that the total is wrong.
   */
  revealPromoPrice?: boolean;
}

/**
 * Checks the client's amount against the quote: null when it matches, else the refusal to answer
 * with (CURRENCY_NOT_SUPPORTED, INVALID_AMOUNT or AMOUNT_MISMATCH). A total of 0 is only accepted
 * when a promo brought the quote down to 0. Without a promo, AMOUNT_MISMATCH gives the expected
 * total (the catalog price, public anyway) so a client can recover; with one, it gives no amount
 * unless `revealPromoPrice`.
 */
export function checkPayment({ quote, totalAmountPence, currency, promoApplied, revealPromoPrice = false }: PaymentInput): PricingRefusal | null {
  if (currency !== CURRENCY) {
    return {
      code: "CURRENCY_NOT_SUPPORTED",
      message: `Currency ${currency} is not supported; pay in ${CURRENCY}`,
      details: { currency, supported: [...SUPPORTED_CURRENCIES] },
    };
  }
  const freeByPromo = totalAmountPence === 0 && quote.totalPence === 0 && promoApplied;
  if (!Number.isSafeInteger(totalAmountPence) || (totalAmountPence <= 0 && !freeByPromo)) {
    return { code: "INVALID_AMOUNT", message: "totalAmountPence must be a positive whole number of pence", details: { givenPence: totalAmountPence } };
  }
  if (totalAmountPence !== quote.totalPence) {
    if (promoApplied && !revealPromoPrice) {
      return {
        code: "AMOUNT_MISMATCH",
        message: "The total does not match the price of this booking with its promo code",
        details: { promoApplied: true },
      };
    }
    return {
      code: "AMOUNT_MISMATCH",
      message: `The total is ${quote.totalPence} pence, not ${totalAmountPence}`,
      details: { expectedPence: quote.totalPence, givenPence: totalAmountPence },
    };
  }
  return null;
}

function assertWholeNumber(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${value}`);
}

/** Splits an amount over `parts` lines in whole pence; the first lines take the remainder. */
export function splitPence(totalPence: number, parts: number): number[] {
  assertWholeNumber("totalPence", totalPence, 0);
  assertWholeNumber("parts", parts, 1);
  const base = Math.floor(totalPence / parts);
  const remainder = totalPence - base * parts;
  return Array.from({ length: parts }, (_, index) => base + (index < remainder ? 1 : 0));
}
