/**
 * GET /: the customer catalog. Filters are query parameters of a plain GET form (city, studio,
 * from, to as dates, after as the next page's cursor); bad ones are reported on the page and
 * ignored rather than refused, so a hand-edited link still shows classes. Data from
 * src/services/catalog-pages.ts (the catalog API's query, the booking's NO_TRAINER rule, the
 * sessions' own seat counts).
 */
import { z } from "zod";
import { getDb } from "../../db/client";
import { encodeCursor } from "../../lib/pagination";
import { createRouter } from "../../lib/openapi";
import { authenticate } from "../../middleware/auth";
import { CatalogPage, type CatalogFilters } from "../../pages/catalog";
import { catalogPage } from "../../services/catalog-pages";
import { pageHeaders, pageUser, renderPage } from "../page-response";

/** Classes per catalog page. */
const PAGE_SIZE = 20;
const DAY_MS = 24 * 3600_000;
const Id = z.string().min(1).max(64).regex(/^[\w-]+$/);
const DateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const catalogSite = createRouter();

catalogSite.get("/", pageHeaders, authenticate(), async (c) => {
  const query = c.req.query();
  const problems: string[] = [];
  const pick = <T,>(name: string, schema: z.ZodType<T>, what: string): T | undefined => {
    const value = query[name];
    if (value === undefined || value === "") return undefined;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    problems.push(what);
    return undefined;
  };
  const cityId = pick("city", Id, "the city");
  const studioId = pick("studio", Id, "the studio");
  const fromText = pick("from", DateText.refine((text) => !Number.isNaN(Date.parse(text))), "the start date");
  const toText = pick("to", DateText.refine((text) => !Number.isNaN(Date.parse(text))), "the end date");
  const after = pick("after", z.string().max(400).transform(decodeAfter).pipe(z.object({ name: z.string(), id: z.string() })), "the page");
  // Dates are whole days, UTC: "until" includes the day named.
  let from = fromText ? new Date(`${fromText}T00:00:00Z`) : undefined;
  let to = toText ? new Date(Date.parse(`${toText}T00:00:00Z`) + DAY_MS) : undefined;
  if (from && to && from >= to) {
    problems.push("the dates (the start must not be after the end)");
    from = undefined;
    to = undefined;
  }

  const data = await catalogPage(c.env, getDb(c.env.DB), { cityId, studioId, from, to, after, limit: PAGE_SIZE });
  const filters: CatalogFilters = { city: cityId ?? "", studio: studioId ?? "", from: from ? fromText! : "", to: to ? toText! : "" };
  const nextPage = data.next ? nextQuery(filters, data.next) : null;
  return renderPage(
    c,
    <CatalogPage
      user={pageUser(c)}
      filters={filters}
      cities={data.cities}
      studios={data.studios}
      classes={data.classes}
      nextPage={nextPage}
      problem={problems.length > 0 ? `We could not read ${problems.join(", ")}, so that filter was left out.` : undefined}
    />,
    { cache: pageUser(c) ? "private" : "public" },
  );
});

/** The query string of the next page: the same filters, after the last class shown. */
function nextQuery(filters: CatalogFilters, last: { name: string; id: string }): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  params.set("after", encodeCursor([last.name, last.id]));
  return params.toString();
}

function decodeAfter(cursor: string): unknown {
  try {
    const parts: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    return Array.isArray(parts) && parts.length === 2 ? { name: parts[0], id: parts[1] } : null;
  } catch {
    return null;
  }
}
