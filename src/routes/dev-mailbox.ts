/**
 * The dev mailbox (ENVIRONMENT=development only, 404 otherwise): every message the dev-mailbox
 * provider delivered, as JSON (`GET /api/v1/dev/mailbox?to=`) and as a page (`/dev/mailbox`), so a
 * newcomer on a fresh clone can read their booking confirmation and click its links.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { html } from "hono/html";
import { secureHeaders } from "hono/secure-headers";
import { configOf } from "../config";
import { getDb } from "../db/client";
import { developmentOnly } from "../middleware/development-only";
import { createRouter, errorResponses, jsonResponse } from "../lib/openapi";
import { mailboxMessages } from "../services/providers/dev-mailbox";

const tags = ["Development"];
const MAX_MESSAGES = 100;

const Query = z.object({
  to: z.string().trim().toLowerCase().email().max(320).optional().openapi({ description: "Only messages to this address" }),
});

const MailboxMessage = z
  .object({ id: z.string(), to: z.string(), subject: z.string(), text: z.string(), html: z.string().nullable(), createdAt: z.string() })
  .openapi("DevMailboxMessage");

export const devMailboxApi = createRouter();
devMailboxApi.use("*", developmentOnly);
devMailboxApi.openapi(
  createRoute({
    method: "get",
    path: "/mailbox",
    tags,
    summary: "Development only: the messages the dev mailbox delivered, newest first (404 in production)",
    request: { query: Query },
    responses: { 200: jsonResponse(z.object({ data: z.array(MailboxMessage) }), "The messages"), ...errorResponses(400, 404) },
  }),
  async (c) => c.json({ data: await mailboxMessages(getDb(c.env.DB), c.req.valid("query").to, MAX_MESSAGES) }, 200),
);

/** Links on this service become clickable; everything else is text (escaped by `html`). */
function withLinks(text: string, base: string) {
  const parts = text.split(/(https?:\/\/\S+)/g);
  return parts.map((part) => (part.startsWith(`${base}/`) ? html`<a href="${part}">${part}</a>` : html`${part}`));
}

export const devMailboxPage = createRouter();
devMailboxPage.use("*", developmentOnly);
devMailboxPage.get(
  "/mailbox",
  secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } }),
  async (c) => {
    const to = Query.safeParse({ to: c.req.query("to") || undefined });
    const messages = await mailboxMessages(getDb(c.env.DB), to.success ? to.data.to : undefined, MAX_MESSAGES);
    const base = configOf(c.env).publicBaseUrl;
    c.header("Cache-Control", "no-store");
    return c.html(html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Dev mailbox</title>
          <style>
            body { font: 15px/1.5 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; }
            article { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem 0; }
            pre { white-space: pre-wrap; font: inherit; }
            /* Sign-in and offer links are one long token: let them wrap on a phone. */
            pre, h2, p { overflow-wrap: anywhere; }
          </style>
        </head>
        <body>
          <h1>Dev mailbox</h1>
          <p>Messages delivered locally (NOTIFICATION_PROVIDER dev-mailbox), newest first${to.success && to.data.to ? html`, to ${to.data.to}` : ""}.</p>
          ${messages.length === 0 ? html`<p>No messages yet.</p>` : ""}
          ${messages.map(
            (message) => html`<article>
              <h2>${message.subject}</h2>
              <p>To ${message.to} · ${message.createdAt}</p>
              <pre>${withLinks(message.text, base)}</pre>
            </article>`,
          )}
        </body>
      </html>`);
  },
);
