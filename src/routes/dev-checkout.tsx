/**
 * The local payment provider's checkout (ENVIRONMENT=development only, 404 otherwise, like the dev
 * mailbox): the page `GET /dev/checkout/{paymentId}` with Pay, Decline and Cancel forms (posting
 * to the page's own path, then back to the booking), and the same three as JSON for tests and
 * scripts, `POST /api/v1/dev/checkout/{paymentId}/{pay|decline|cancel}`. Both sign the event the
 * provider would send and settle it through the webhook's handler (src/services/payments/settle.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { developmentOnly } from "../middleware/development-only";
import { createRouter, errorResponses, jsonResponse } from "../lib/openapi";
import { DevCheckoutPage } from "../pages/dev-checkout";
import { LOCAL_CHECKOUT_ACTIONS, type LocalCheckoutAction, localPayment, settleLocalCheckout } from "../services/payments/local-checkout";
import { pageHeaders, renderPage, safeNext } from "./page-response";
import { PaymentOutcomeSchema } from "./payment-schemas";

const tags = ["Development"];

const Params = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "pay_0f1e2d3c4b5a69788796a5b4c3d2e1f0", description: "Payment id" }),
  action: z.enum(LOCAL_CHECKOUT_ACTIONS).openapi({ param: { name: "action", in: "path" }, description: "pay in full, decline the card, or cancel the checkout" }),
});

export const devCheckoutApi = createRouter();
devCheckoutApi.use("*", developmentOnly);
devCheckoutApi.openapi(
  createRoute({
    method: "post",
    path: "/{id}/{action}",
    tags,
    summary: "Development only: pay, decline or cancel a local checkout, through the payment webhook's handler (404 in production)",
    request: { params: Params },
    responses: { 200: jsonResponse(PaymentOutcomeSchema, "What the signed event led to"), ...errorResponses(400, 404) },
  }),
  async (c) => {
    const { id, action } = c.req.valid("param");
    const outcome = await settleLocalCheckout(c.env, id, action, new URL(c.req.url).origin);
    return c.json({ action: outcome.action, duplicate: outcome.duplicate, payment: outcome.payment, ...(outcome.refund && { refund: outcome.refund }), ...(outcome.booking && { booking: outcome.booking }) }, 200);
  },
);

/** The path to send the customer to, from the page's query or form: only a path on this site. */
const returnPath = (value: unknown) => safeNext(typeof value === "string" ? value : undefined);

export const devCheckoutPage = createRouter();
devCheckoutPage.use("*", developmentOnly);
devCheckoutPage.use("*", pageHeaders);
devCheckoutPage.get("/:id", async (c) => {
  const id = c.req.param("id");
  if (id.length > 64) throw new ApiError("NOT_FOUND", `Payment ${id} was not found`);
  const payment = await localPayment(c.env, id);
  return renderPage(c, <DevCheckoutPage payment={payment} success={returnPath(c.req.query("success"))} cancel={returnPath(c.req.query("cancel"))} />);
});
devCheckoutPage.post("/:id/:action", async (c) => {
  const id = c.req.param("id");
  const action = c.req.param("action") as LocalCheckoutAction;
  if (id.length > 64 || !LOCAL_CHECKOUT_ACTIONS.includes(action)) throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  const form = await c.req.parseBody();
  const success = returnPath(form.success);
  const cancel = returnPath(form.cancel);
  const outcome = await settleLocalCheckout(c.env, id, action, new URL(c.req.url).origin);
  if (action === "pay" && outcome.action === "confirm") return c.redirect(success, 303);
  if (action === "cancel") return c.redirect(cancel, 303);
  // Declined, or paid too late (refunded): the page says what happened.
  return c.redirect(`/dev/checkout/${encodeURIComponent(id)}?${new URLSearchParams({ success, cancel })}`, 303);
});
