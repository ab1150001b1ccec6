import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../src/errors";
import { call } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: any;
beforeAll(async () => {
  const res = await call("GET", "/api/v1/openapi.json");
  expect(res.status).toBe(200);
  doc = res.json;
});

describe("GET /api/v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  });

  it("documents the public catalog without a security requirement", () => {
    const publicOps = [
      ["/api/v1/classes", "get"],
      ["/api/v1/classes/{id}", "get"],
      ["/api/v1/sessions/{id}", "get"],
    ] as const;
    for (const [path, method] of publicOps) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(op.security ?? []).toEqual([]);
      expect(op.responses["200"].content["application/json"].schema).toBeDefined();
      expect(op.responses["400"] ?? op.responses["404"]).toBeDefined();
    }
    const listParams = doc.paths["/api/v1/classes"].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(listParams).toEqual(expect.arrayContaining(["query:cityId", "query:studioId", "query:from", "query:to", "query:limit", "query:cursor"]));
    expect(doc.paths["/api/v1/classes/{id}"].get.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true }));
  });

  it("documents the admin cities routes behind bearerAuth", () => {
    const adminOps = [
      ["/api/v1/admin/cities", "get"],
      ["/api/v1/admin/cities", "post"],
      ["/api/v1/admin/cities/{id}", "get"],
      ["/api/v1/admin/cities/{id}", "patch"],
      ["/api/v1/admin/cities/{id}", "delete"],
    ] as const;
    for (const [path, method] of adminOps) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(op.responses["401"]).toBeDefined();
    }
    expect(doc.paths["/api/v1/admin/cities"].post.requestBody).toMatchObject({ required: true, content: { "application/json": {} } });
  });

  it("declares the bearerAuth scheme", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
  });

  it("lists every error code in the Error schema", () => {
    const codes: string[] = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect([...codes].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    // Error responses point at that one schema.
    const notFound = doc.paths["/api/v1/classes/{id}"].get.responses["404"].content["application/json"].schema;
    expect(notFound).toEqual({ $ref: "#/components/schemas/Error" });
  });
});

describe("GET /docs", () => {
  it("serves an HTML page that loads the OpenAPI document", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html/i);
    expect(res.text).toContain("/api/v1/openapi.json");
  });
});
