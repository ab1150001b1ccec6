/**
 * What every Chromium test shares: one browser per test file (Debian's /usr/bin/chromium, never a
 * downloaded one), pages that fail their test on any console error or uncaught page error (a
 * script or style the CSP blocks is a console error too), accessibility checks with axe, and
 * full-page screenshots at phone and desktop widths with a no-sideways-scroll check.
 */
import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { fs, path } from "../../scripts/bench/node";
import { baseUrl } from "./api";

export const WIDTHS = [375, 1280] as const;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(new URL("../../test-output/screenshots", import.meta.url).pathname);

interface Watched {
  page: Page;
  errors: string[];
  /** Console errors matching one of these are expected by the test (e.g. a refused fetch it provokes). */
  allowed: RegExp[];
}

export interface Browsing {
  /** A fresh context (its own cookies), for a second visitor. */
  newContext(): Promise<BrowserContext>;
  /** A watched page in `context` (a fresh one by default) `width` px wide. */
  newPage(options?: { width?: number; context?: BrowserContext }): Promise<Page>;
  /** Console errors matching `pattern` on `page` do not fail the test (say why at the call). */
  allowConsoleError(page: Page, pattern: RegExp): void;
}

/**
 * Launches the browser for this file and, after each test, closes its contexts and fails the
 * test if any of its pages logged a console error or threw.
 */
export function useBrowser(): Browsing {
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let watched: Watched[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterEach(async () => {
    const problems = watched.flatMap((entry) => entry.errors.filter((error) => !entry.allowed.some((pattern) => pattern.test(error))));
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
    watched = [];
    expect(problems, "console errors or page errors").toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const newContext = async () => {
    if (!browser) throw new Error("useBrowser(): the browser starts in beforeAll");
    const context = await browser.newContext({ baseURL: baseUrl, locale: "en-GB", acceptDownloads: true });
    contexts.push(context);
    return context;
  };

  return {
    newContext,
    async newPage(options = {}) {
      const context = options.context ?? (await newContext());
      const page = await context.newPage();
      await page.setViewportSize({ width: options.width ?? 1280, height: 800 });
      const entry: Watched = { page, errors: [], allowed: [] };
      page.on("console", (message) => {
        if (message.type() === "error") entry.errors.push(`console error on ${page.url()}: ${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => entry.errors.push(`page error on ${page.url()}: ${error.message}`));
      watched.push(entry);
      return page;
    },
    allowConsoleError(page, pattern) {
      const entry = watched.find((candidate) => candidate.page === page);
      if (!entry) throw new Error("allowConsoleError: not a page from newPage()");
      entry.allowed.push(pattern);
    },
  };
}

/** axe finds no serious or critical violation on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} — ${violation.nodes.map((node) => node.target.join(" ")).slice(0, 5).join(", ")}`);
  expect(bad, `axe violations on ${page.url()}`).toEqual([]);
}

/** The little of the DOM that code run in the page uses here (the project's types are the Workers ones, without DOM). */
export interface InPageElement {
  tagName: string;
  id: string;
  className: unknown;
  getBoundingClientRect(): { right: number };
}
export interface InPage {
  scrollX: number;
  getComputedStyle(element: InPageElement): { outlineStyle: string; outlineWidth: string; boxShadow: string };
  document: { documentElement: { scrollWidth: number }; activeElement: InPageElement | null; querySelectorAll(selector: string): Iterable<InPageElement> };
}

/** The page is no wider than the viewport (no sideways scrolling). */
export async function expectNoSideScroll(page: Page, width: number): Promise<void> {
  const { scrollWidth, wide } = await page.evaluate((limit) => {
    const { document, scrollX } = globalThis as unknown as InPage;
    // What sticks out, to name in the failure: the innermost few elements reaching past the viewport.
    const describe = (element: InPageElement) =>
      `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}${typeof element.className === "string" && element.className.trim() ? `.${element.className.trim().split(/\s+/).join(".")}` : ""}`;
    const right = (element: InPageElement) => Math.round(element.getBoundingClientRect().right + scrollX);
    const past = [...document.querySelectorAll("body *")].filter((element) => right(element) > limit);
    return { scrollWidth: document.documentElement.scrollWidth, wide: past.slice(-5).map((element) => `${describe(element)} (right ${right(element)})`) };
  }, width);
  expect(scrollWidth, `${page.url()} scrolls sideways at ${width} px; sticking out: ${wide.join(", ")}`).toBeLessThanOrEqual(width);
}

/**
 * Full-page screenshots at 375 and 1280 px into test-output/screenshots/<name>-<width>.png,
 * checking at 375 px that nothing scrolls sideways. Leaves the page at its original width.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 800 };
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    if (width === 375) await expectNoSideScroll(page, width);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** The checks every page gets: one h1, axe, then the screenshots (with the 375 px sideways check). */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await page.locator("h1").count(), `${page.url()} has one h1`).toBe(1);
  await expectAccessible(page);
  await screenshots(page, name);
}

/**
 * Presses Tab (at most `maxPresses` times) until the element matching `selector` has the focus,
 * as a keyboard user reaches it; fails if it is never reached. Then checks that the focus shows
 * (an outline or a box shadow on the focused element).
 */
export async function tabTo(page: Page, selector: string, maxPresses = 40): Promise<void> {
  for (let press = 0; press < maxPresses; press++) {
    await page.keyboard.press("Tab");
    if (await page.locator(selector).evaluate((element) => element === (globalThis as unknown as InPage).document.activeElement)) {
      const focus = await page.evaluate(() => {
        const { document, getComputedStyle } = globalThis as unknown as InPage;
        const style = getComputedStyle(document.activeElement!);
        return { outline: style.outlineStyle !== "none" && style.outlineWidth !== "0px", shadow: style.boxShadow !== "none" };
      });
      expect(focus.outline || focus.shadow, `the focus on ${selector} is visible`).toBe(true);
      return;
    }
  }
  throw new Error(`${selector} is not reached with Tab within ${maxPresses} presses on ${page.url()}`);
}
