/// <reference types="vite/client" />
/**
 * The dependency direction between the folders of src/, checked on every import (type-only
 * imports and `export … from` included): routes → services → {domain, db, Durable Object
 * contracts}, nothing below importing anything above. Tests run inside workerd, which has no file
 * system, so Vite inlines every source file as text (`import.meta.glob` with `?raw`).
 *
 * A new folder or top-level file under src/ fails here until it has a place in LAYERS below.
 */
import { describe, expect, it } from "vitest";

const SOURCES: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>(["../src/**/*.ts", "../src/**/*.tsx"], { query: "?raw", import: "default", eager: true })).map(
    ([path, text]) => [path.replace(/^\.\.\//, ""), text],
  ),
);

type Layer = "pages" | "client" | "routes" | "services" | "middleware" | "jobs" | "durable-objects" | "db" | "domain" | "lib" | "app" | "index" | "env" | "errors" | "config";

/** What each part of src/ may import from the others (npm packages are always allowed), and the rule in words. */
const LAYERS: Record<Layer, { files: RegExp; may: Layer[]; rule: string }> = {
  index: {
    files: /^src\/index\.ts$/,
    may: ["app", "routes", "services", "middleware", "jobs", "durable-objects", "db", "domain", "lib", "env", "errors", "config"],
    rule: "the Worker entry may import anything",
  },
  app: {
    files: /^src\/app\.ts$/,
    may: ["pages", "routes", "services", "middleware", "db", "domain", "lib", "env", "errors", "config"],
    rule: "the app factory composes routes and middleware; jobs and Durable Objects are index.ts's",
  },
  pages: {
    files: /^src\/pages\//,
    may: ["pages", "domain", "lib", "env", "config"],
    rule: "pages are views: props in, HTML out; they import only pages, domain and lib (routes load the data through services)",
  },
  client: {
    files: /^src\/client\//,
    may: ["client", "domain"],
    rule: "the browser bundle imports only its own modules and pure domain rules (it runs in the browser, with no bindings)",
  },
  routes: {
    files: /^src\/routes\//,
    may: ["pages", "routes", "services", "middleware", "durable-objects", "db", "domain", "lib", "env", "errors", "config"],
    rule: "routes import no jobs (and nothing imports routes but routes, app.ts and index.ts)",
  },
  middleware: {
    files: /^src\/middleware\//,
    may: ["middleware", "services", "db", "domain", "lib", "env", "errors", "config"],
    rule: "middleware imports only middleware, services, db, domain and lib",
  },
  jobs: {
    files: /^src\/jobs\//,
    may: ["jobs", "services", "db", "domain", "lib", "env", "errors", "config"],
    rule: "jobs import only jobs, services, db, domain and lib",
  },
  services: {
    files: /^src\/services\//,
    may: ["services", "durable-objects", "db", "domain", "lib", "env", "errors", "config"],
    rule: "services import no routes, middleware or jobs",
  },
  "durable-objects": {
    files: /^src\/durable-objects\//,
    may: ["durable-objects", "db", "domain", "lib", "env", "config"],
    rule: "Durable Objects import only their own modules, domain, db and lib (no services, routes, middleware, jobs or the HTTP error table)",
  },
  db: {
    files: /^src\/db\//,
    may: ["db", "domain", "lib", "env", "config"],
    rule: "db imports only db, domain (types and names) and lib (no services or the HTTP error table)",
  },
  lib: {
    files: /^src\/lib\//,
    may: ["lib", "env", "errors", "config"],
    rule: "lib imports only lib (plus env types, config and the error table, which import nothing above)",
  },
  domain: {
    files: /^src\/domain\//,
    may: ["domain"],
    rule: "domain imports nothing of ours but domain: npm packages only",
  },
  env: {
    files: /^src\/env\.ts$/,
    may: ["durable-objects", "jobs", "services", "db", "domain", "lib", "config"],
    rule: "env.ts names the bindings' types (Durable Object classes, queue messages), nothing HTTP",
  },
  errors: {
    files: /^src\/errors\.ts$/,
    may: ["domain"],
    rule: "the error table imports nothing of ours but domain",
  },
  config: {
    files: /^src\/config\.ts$/,
    may: ["domain", "env"],
    rule: "config imports nothing of ours but domain and env types",
  },
};

/** A Durable Object's public face: its RPC types and schemas. The classes themselves are for index.ts, env.ts and other Durable Object modules. */
const DO_CONTRACT = /^src\/durable-objects\/[^/]+-contract\.ts$/;
const DO_CLASSES_RULE = "outside src/durable-objects only a *-contract.ts module may be imported (index.ts and env.ts may name the classes)";

function layerOf(file: string): Layer | undefined {
  return (Object.keys(LAYERS) as Layer[]).find((layer) => LAYERS[layer].files.test(file));
}

/** An import clause: names, braces, `type`, `* as`, commas, with comments in between allowed. */
const CLAUSE = String.raw`(?:[\w$*\s{},]|\/\/[^\n]*|\/\*[\s\S]*?\*\/)+?`;
const STATIC_FROM = new RegExp(String.raw`^[ \t]*(?:import|export)\s${CLAUSE}\sfrom\s*(["'])([^"'\n]+)\1`, "gm");
const SIDE_EFFECT = /^[ \t]*import\s*(["'])([^"'\n]+)\1/gm;
const DYNAMIC = /\bimport\(\s*(["'])([^"'\n]+)\1\s*\)/g;

/**
 * The module specifiers a source imports or re-exports: `import … from`, `import type … from`,
 * `export … from`, `import "…"`, and `import("…")` (dynamic, or in a type). Statements are found
 * at the start of a line, so text in doc comments (` * import …`) is not mistaken for one.
 */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const pattern of [STATIC_FROM, SIDE_EFFECT, DYNAMIC]) for (const match of source.matchAll(pattern)) found.push(match[2]!);
  return found;
}

/** The src/ path a relative specifier names, as a file in SOURCES when one matches (`./x` → `x.ts`, `x/index.ts`). */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  const path = parts.join("/");
  const base = path.replace(/\.(js|ts|tsx)$/, "");
  return [path, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`].find((candidate) => candidate in SOURCES) ?? path;
}

interface Edge {
  from: string;
  to: string;
  specifier: string;
}

function edges(): Edge[] {
  return Object.entries(SOURCES).flatMap(([from, text]) =>
    specifiersOf(text).map((specifier) => ({ from, specifier, to: specifier.startsWith(".") ? resolve(from, specifier) : specifier })),
  );
}

/** Every import that breaks the direction, as `from → to (rule)`. */
function violations(): string[] {
  const found: string[] = [];
  for (const { from, to, specifier } of edges()) {
    const fromLayer = layerOf(from);
    if (fromLayer === undefined) continue; // reported by its own test
    if (!specifier.startsWith(".")) {
      if (fromLayer === "domain" && specifier.startsWith("cloudflare:")) found.push(`${from} → ${specifier} (domain is pure: no bindings or runtime modules)`);
      continue;
    }
    if (!to.startsWith("src/")) {
      found.push(`${from} → ${to} (src/ imports nothing outside src/)`);
      continue;
    }
    const toLayer = layerOf(to);
    if (toLayer === undefined) continue; // an unknown target is reported as an unclassified file, or is a broken import tsc reports
    if (!LAYERS[fromLayer].may.includes(toLayer)) {
      found.push(`${from} → ${to} (${LAYERS[fromLayer].rule})`);
    } else if (toLayer === "durable-objects" && !["durable-objects", "index", "env"].includes(fromLayer) && !DO_CONTRACT.test(to)) {
      found.push(`${from} → ${to} (${DO_CLASSES_RULE})`);
    }
  }
  return [...new Set(found)].sort();
}

describe("architecture: the dependency direction of src/", () => {
  it("reads the sources inside workerd", () => {
    const files = Object.keys(SOURCES);
    expect(files.length).toBeGreaterThan(50);
    expect(files).toEqual(expect.arrayContaining(["src/index.ts", "src/app.ts", "src/errors.ts", "src/domain/pricing.ts"]));
    expect(SOURCES["src/index.ts"]).toMatch(/export default/);
  });

  it("finds every kind of import, and none in comments", () => {
    const source = [
      `/**`,
      ` * See import { nope } from "../in-a-comment";`,
      ` */`,
      `import { a } from "./plain";`,
      `import type { B } from '../typed';`,
      `import c, {`,
      `  d, // why`,
      `  type E,`,
      `} from "../../multi-line";`,
      `import * as f from "./namespace";`,
      `export { g } from "./re-export";`,
      `export * from "./star";`,
      `export type { H } from "./type-re-export";`,
      `import "./side-effect";`,
      `type I = typeof import("./in-a-type");`,
      `const j = await import("./dynamic");`,
      `const k = "import { x } from './in-a-string'";`,
    ].join("\n");
    expect(specifiersOf(source).sort()).toEqual(
      ["./plain", "../typed", "../../multi-line", "./namespace", "./re-export", "./star", "./type-re-export", "./side-effect", "./in-a-type", "./dynamic"].sort(),
    );
  });

  it("has a layer for every file", () => {
    expect(Object.keys(SOURCES).filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it("has no import against the direction", () => {
    const found = violations();
    expect(found.length, `${found.length} import(s) against the direction:\n${found.join("\n")}\n`).toBe(0);
  });
});
